"""Tool errors as agents see them: a category, what went wrong, and what to do about it.

Categories (DESIGN.md): AUTH, PARAMETER, RATE_LIMIT, SERVICE, UNKNOWN. The error is a JSON
object in the text of an `isError` result, so that both a model and a program can read it.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import CallToolResult, TextContent

from providers.errors import (
    AllProvidersFailed,
    AuthFailed,
    BadPayload,
    CredentialsMissing,
    NoData,
    PermissionDenied,
    ProviderError,
    RateLimited,
    UpstreamUnavailable,
)
from providers.symbols import InvalidArgument


class ToolFailure(Exception):
    def __init__(
        self,
        category: str,
        message: str,
        remedy: str,
        *,
        argument: str | None = None,
        retry_after: int | None = None,
        attempts: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.category = category
        self.message = message
        self.remedy = remedy
        self.argument = argument
        self.retry_after = retry_after
        self.attempts = attempts or []

    def body(self, tool_call_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {"category": self.category, "message": self.message, "remedy": self.remedy}
        if self.argument:
            error["argument"] = self.argument
        if self.retry_after is not None:
            error["retry_after_seconds"] = self.retry_after
        if self.attempts:
            error["attempts"] = self.attempts
        error["tool_call_id"] = tool_call_id
        return {"error": error}

    def result(self, tool_call_id: str) -> CallToolResult:
        text = json.dumps(self.body(tool_call_id), ensure_ascii=False)
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


_REMEDIES: dict[type[ProviderError], tuple[str, str]] = {
    CredentialsMissing: (
        "AUTH",
        "set the credential the message names in the server's environment (TUSHARE_TOKEN: a token from tushare.pro)",
    ),
    AuthFailed: ("AUTH", "the server's TUSHARE_TOKEN was rejected: replace it with a valid token"),
    PermissionDenied: ("AUTH", "the server's tushare token lacks the points for this dataset: upgrade it"),
    UpstreamUnavailable: ("SERVICE", "the upstream is down or slow: try again in a minute"),
    NoData: ("SERVICE", "the source has no rows for this question: check the code and the date"),
    BadPayload: (
        "SERVICE",
        "the upstream answered something unusable: try again later; operators see the log",
    ),
}


def from_exception(exc: BaseException, attempts: list[dict[str, Any]] | None = None) -> ToolFailure:
    """Map a typed failure to its category; anything untyped is UNKNOWN (and logged by the caller)."""
    if isinstance(exc, ToolFailure):
        return exc
    if isinstance(exc, InvalidArgument):
        return ToolFailure("PARAMETER", str(exc), exc.remedy, argument=exc.argument, attempts=attempts)
    if isinstance(exc, AllProvidersFailed):
        return _all_failed(exc, attempts)
    if isinstance(exc, RateLimited):
        return ToolFailure(
            "RATE_LIMIT",
            str(exc),
            f"wait {exc.retry_after} s and call again",
            retry_after=exc.retry_after,
            attempts=attempts,
        )
    if isinstance(exc, ProviderError):
        for kind, (category, remedy) in _REMEDIES.items():
            if isinstance(exc, kind):
                return ToolFailure(category, str(exc), remedy, attempts=attempts)
    return ToolFailure(
        "UNKNOWN",
        "internal error while answering; it has been logged",
        "try again; if it persists, report the tool_call_id to the operator",
        attempts=attempts,
    )


def _all_failed(exc: AllProvidersFailed, attempts: list[dict[str, Any]] | None) -> ToolFailure:
    """Every provider failed: name each one's reason; share their category when they all agree."""
    if not exc.failures:
        return ToolFailure(
            "SERVICE",
            str(exc),
            "no configured provider covers this: check the code, or add a provider to TWILIGHT_PROVIDER_ORDER",
            attempts=attempts,
        )
    reasons = "; ".join(f"{f.provider}: {type(f).__name__} ({f})" for f in exc.failures)
    message = f"every provider failed for {exc.dataset}: {reasons}"
    if all(isinstance(f, NoData) for f in exc.failures):
        return ToolFailure(
            "PARAMETER",
            f"no provider knows this code ({reasons})",
            "check the code: A-shares as 600519 or 600519.SH, global tickers as Yahoo spells them (AAPL, 0700.HK)",
            argument="code",
            attempts=attempts,
        )
    each = [from_exception(f) for f in exc.failures]
    categories = {f.category for f in each}
    if len(categories) == 1 and "UNKNOWN" not in categories:
        category = categories.pop()
        wait = exc.retry_after if category == "RATE_LIMIT" else None
        remedy = f"wait {wait} s and call again" if wait is not None else each[0].remedy
        return ToolFailure(category, message, remedy, retry_after=wait, attempts=attempts)
    return ToolFailure(
        "SERVICE",
        message,
        "the upstream sources are down or refusing: try again in a minute; `attempts` lists each one tried and why",
        attempts=attempts,
    )
