"""The answers of the sets tools (dividends, holders, forecasts, index members, industry): tables of
rows as known on a day, each with the fields that say what the rows are of, and one cite.

A set's rows share a source, a date and an announcement, so they share one cite: a cite per row
would repeat the attempt log on every holder of a top-10 list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

from citation.models import Rows
from mcp_server.answering import number
from providers.declaration import Dataset
from warehouse.pointintime import Row


def iso_day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def cell(spec: Dataset, column: str, value: Any) -> Any:
    """A stored value as an answer shows it: dates YYYY-MM-DD, missing numbers null."""
    if column in spec.dates:
        return iso_day(value) if isinstance(value, dt.date) else None
    if column in spec.numbers:
        return number(value)
    return value


def table(spec: Dataset, columns: Sequence[str], rows: Sequence[Row]) -> dict[str, Any]:
    """The Rows fields of `rows` in `columns` order, with the declared unit of each number column."""
    return {
        "columns": list(columns),
        "rows": [[cell(spec, c, row[c]) for c in columns] for row in rows],
        "row_count": len(rows),
        "units": {c: spec.units[c] for c in columns if c in spec.units},
    }


class DividendsAnswer(Rows):
    ts_code: str
    as_of: str = Field(description="The rows are those public on this day (by known_date).")


class HolderCount(BaseModel):
    holder_num: float | None = Field(description="Number of shareholders (count).")
    unit: str = "count"
    end_date: str = Field(description="The day the count is of (a quarter or month end).")
    ann_date: str = Field(description="When it was announced.")


class HoldersAnswer(Rows):
    ts_code: str
    period: str | None = Field(description="Report period end of the lists (YYYY-MM-DD).")
    period_kind: str | None = Field(default=None, description="Q1, H1, Q3 or annual.")
    ann_date: str | None = Field(description="When the top 10 holders list was announced.")
    float_ann_date: str | None = Field(description="When the top 10 float holders list was announced.")
    holder_count: HolderCount | None = Field(description="The newest holder count known (its own date).")


class ExpressTable(BaseModel):
    """业绩快报: a period's headline figures published before its report."""

    period: str
    ann_date: str
    columns: list[str]
    rows: list[list[Any]]
    units: dict[str, str]


class ForecastsAnswer(Rows):
    """Rows: the 业绩预告 (forecast) of `period`, in its newest announcement known by as_of."""

    ts_code: str
    period: str | None = Field(description="Report period the forecast is of (YYYY-MM-DD).")
    ann_date: str | None = Field(description="When the forecast was announced.")
    express: ExpressTable | None = Field(description="The newest 业绩快报 known by as_of (its own period).")


class IndexMembersAnswer(Rows):
    index_code: str = Field(description="The index asked for.")
    rows_under: str = Field(description="The code the source keeps these weights under (399300.SZ for 000300.SH).")
    trade_date: str = Field(description="The weight date: the newest on or before the day asked.")


class IndustryAnswer(Rows):
    code: str = Field(description="The stock or Shenwan index asked for.")
    name: str | None = Field(default=None, description="The stock's name, for a stock.")
    in_date: str | None = Field(default=None, description="When the stock joined its industry.")
    out_date: str | None = Field(default=None, description="When it left (null while a member).")
    src: str | None = Field(default=None, description="The classification version, for an index code.")
