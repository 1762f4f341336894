"""Answers sized for an agent: a tabular result too long for a model's context is cut.

An agent that asks for five years of bars does not need 1,200 rows in its context to say what the
highest close was; it needs the figures that summarise them and a way to read the rest when it
must. So a tabular answer (`citation.models.Tabular`) over the limit keeps its first rows, gains a
`summary` of every row (count, date range, first/latest/min/max/mean of each number column) and a
`full_result` naming the MCP resource (and the CSV download) that serves the whole result. The
whole answer is what the ledger records under the tool_call_id, so the resource reads it from
there (only its caller, for as long as configured) and `verify_answer` checks a figure quoted
from a row that was not inline as it checks any other.

Tokens are estimated, not counted: a CJK character is about a token and four other characters are
about one in the tokenizers agents use; the estimate only has to say "too long" in time.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from citation.models import ColumnSummary, FullResult, ResultSummary, Tabular

RESULT_SCHEME = "twilight://results/"
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
_INLINE_SHARE = 0.5  # of the limit, for the rows kept inline: the summary and the cite take the rest


def tokens(text: str) -> int:
    """About how many tokens `text` is to a model (CJK characters are three UTF-8 bytes each)."""
    wide = (len(text.encode()) - len(text)) // 2
    return wide + (len(text) - wide) // 4


def _date_column(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int | None:
    """The first column holding ISO dates: what the rows are dated by."""
    sample = rows[0]
    for index, _ in enumerate(columns):
        value = sample[index] if index < len(sample) else None
        if isinstance(value, str) and _DAY.match(value):
            return index
    return None


def _numbers(values: Sequence[Any]) -> list[float]:
    """The finite numbers among `values` (a bool is no number; NaN and infinities are gaps)."""
    return [v for v in values if (type(v) is float or type(v) is int) and v == v and v - v == 0]


def _round(value: float) -> float:
    return float(f"{value:.6g}") if abs(value) < 1e6 else round(value, 2)


def summary(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> ResultSummary:
    """Count, date range and, per number column, first/latest/min/max/mean over every row.

    "latest" is the row with the newest date when the rows are dated (the order a source sends
    them in varies: tushare's newest first, a warehouse read oldest first), else the last row.
    """
    if not rows:
        return ResultSummary(row_count=0)
    dated = _date_column(columns, rows)
    order = list(range(len(rows)))
    if dated is not None:
        order.sort(key=lambda i: str(rows[i][dated] or ""))
    numbers: dict[str, ColumnSummary] = {}
    ordered = [rows[i] for i in order]
    width = min(len(r) for r in ordered)
    for index, name in enumerate(columns[:width]):
        if index == dated:
            continue
        values = _numbers([r[index] for r in ordered])
        if not values:
            continue
        numbers[name] = ColumnSummary(
            first=values[0], latest=values[-1], min=min(values), max=max(values),
            mean=_round(sum(values) / len(values)), count=len(values),
        )  # fmt: skip
    first = rows[order[0]][dated] if dated is not None else None
    last = rows[order[-1]][dated] if dated is not None else None
    return ResultSummary(
        row_count=len(rows), first_date=str(first)[:10] if first else None,
        last_date=str(last)[:10] if last else None, numbers=numbers,
    )  # fmt: skip


def cut(
    model: BaseModel,
    dumped: dict[str, Any],
    limit: int,
    tool_call_id: str,
    expires_at: str,
    csv_base: str | None,
) -> dict[str, Any] | None:
    """The answer to serve instead of `dumped` when it is a table over `limit` tokens, else None.

    `dumped` is `model` as JSON values; the rows kept inline are the first ones, as many as fit
    in half the limit (at least one).
    """
    if not isinstance(model, Tabular) or limit <= 0 or len(dumped["rows"]) < 2:
        return None
    rows: list[list[Any]] = dumped["rows"]
    in_rows = tokens(json.dumps(rows, ensure_ascii=False))
    if in_rows + tokens(json.dumps({**dumped, "rows": None}, ensure_ascii=False)) <= limit:
        return None
    per_row = max(1, in_rows // len(rows))
    keep = max(1, min(len(rows) - 1, int(limit * _INLINE_SHARE) // per_row))
    link = FullResult(
        uri=RESULT_SCHEME + tool_call_id,
        csv_url=f"{csv_base}/results/{tool_call_id}.csv" if csv_base else None,
        expires_at=expires_at,
        rows_inline=keep,
    )
    return {
        **dumped,
        "rows": rows[:keep],
        "summary": summary(dumped["columns"], rows).model_dump(mode="json"),
        "full_result": link.model_dump(mode="json"),
    }
