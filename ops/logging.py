"""Structured JSON logs with a request id on every line, and nothing secret in them.

stdlib loggers (uvicorn, the MCP SDK) are routed through the same JSON renderer so that an
operator greps one format. Secrets are removed by key name and by shape, as a last line of
defence: code should never pass them to a logger in the first place.

No line repeats more than a bounded share of what a caller sent: every text field is cut to
MAX_FIELD_CHARS (a traceback to MAX_TRACEBACK_CHARS), and a line still over MAX_LINE_CHARS is
replaced by a short one that says so. One 4 MB argument once wrote an 8.3 MB line.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from providers.symbols import quoted

_SECRET_KEYS = re.compile(r"(token|authorization|secret|password|api_?key|apiv3)", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
_RAW_TOKEN = re.compile(r"\btd_[A-Za-z0-9_-]{20,}\b")
MAX_FIELD_CHARS = 2_000
MAX_TRACEBACK_CHARS = 20_000
MAX_LINE_CHARS = 32_000


def _scrub(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if _SECRET_KEYS.search(key):
            event[key] = "[redacted]"
        elif isinstance(value, str):
            event[key] = _RAW_TOKEN.sub("[redacted]", _BEARER.sub(r"\1[redacted]", value))
    return event


def _cap_fields(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        limit = MAX_TRACEBACK_CHARS if key == "exception" else MAX_FIELD_CHARS
        if isinstance(value, str):
            if len(value) > limit:
                event[key] = quoted(value, limit)
        elif isinstance(value, list | tuple | dict | set) and len(text := repr(value)) > limit:
            event[key] = quoted(text, limit)  # a caller's list is as long as they made it
    return event


def _cap_line(_: Any, __: str, line: Any) -> str:
    """The backstop, after the renderer (so `line` is its JSON text): many fields, each under its
    cap, may still add up to a long line."""
    if len(line) <= MAX_LINE_CHARS:
        return str(line)
    head = {k: v for k, v in json.loads(line).items() if k in ("event", "level", "timestamp", "logger")}
    return json.dumps({**head, "truncated": f"the line had {len(line)} characters; its fields are left out"})


def configure_logging(level: str = "INFO") -> None:
    """Log JSON to stderr; stdout stays free for the stdio transport."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _scrub,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            _cap_fields,
            structlog.processors.JSONRenderer(),
            _cap_line,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _cap_fields,
                structlog.processors.JSONRenderer(),
                _cap_line,
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "httpx2", "urllib3", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("uvicorn.error").handlers[:] = []
    logging.getLogger("uvicorn").handlers[:] = []


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
