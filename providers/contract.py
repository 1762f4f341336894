"""The three-step contract of every provider x dataset module (OpenBB's fetchers).

A module `providers/<provider>/<dataset>.py` declares:

    DATASET: str                 a key of `providers.models.DATASETS`
    MARKETS: frozenset[str]      "cn" (A-shares) and/or "global"
    def translate_query(query: Query) -> dict[str, Any]
        our question in the upstream's own terms (codes, date formats, flags);
    def fetch(client, params: dict[str, Any]) -> Payload
        exactly one upstream request through the provider's real library;
    def translate_result(payload: Payload, query: Query) -> pd.DataFrame
        the standard columns of the dataset, in canonical units.

and may declare

    WHOLE_MARKET: bool           it answers `Query.code == ALL` (every code, one day) in one question;
    PAGE_SIZE: int               the upstream's row cap per request: whole-market questions are
                                 asked page by page (`limit`/`offset`) until a page comes back short.

The provider (`providers.provider`) runs the three steps under its guard, then `conform`s
the frame to the dataset's types and `providers.units` checks the units, so a module never
repeats either. A new dataset touches its module and its declaration in `providers.models` (the
table, its reads and its claims are derived from the declaration), and the tool that answers it.

Bulk ingestion must not lose 5,000 good rows to one bad one: `conform_rows` returns the rows
that fail (with the reason) beside the good ones instead of raising.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol, cast

from providers.declaration import Dataset
from providers.errors import BadPayload

if TYPE_CHECKING:
    import pandas as pd

ALL = "*"  # Query.code for every code of the market on one day


@dataclass(frozen=True, slots=True)
class Query:
    dataset: str
    code: str  # tushare code (600519.SH), a global ticker (AAPL), the exchange for trade_cal, ALL, or search words
    market: str  # "cn" or "global"
    start: dt.date
    end: dt.date
    latest: bool = False  # only the newest row on or before `end`, however old (long suspensions)
    extra: tuple[tuple[str, str], ...] = ()  # a dataset's own terms (web search: language, categories)


@dataclass(frozen=True, slots=True)
class Payload:
    """What the upstream answered, as a table of plain values (it is stored verbatim as raw)."""

    api_name: str
    fields: list[str]
    items: list[list[Any]]
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. the currency of a chart

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.items, columns=self.fields)

    @classmethod
    def of(cls, api_name: str, frame: pd.DataFrame, **meta: Any) -> Payload:
        """A library's frame as plain values, missing ones as None (a question's row: value by value,
        20 times faster than the column operations a whole market needs)."""
        fields = [str(c) for c in frame.columns]
        if len(frame) <= _FEW_ROWS:
            return cls(api_name, fields, [[_plain(v) for v in row] for row in frame.to_numpy(dtype=object).tolist()],
                       meta)  # fmt: skip
        clean = frame.astype(object).where(frame.notna(), None)
        return cls(api_name, fields, clean.values.tolist(), meta)


@dataclass(frozen=True, slots=True)
class RawPayload:
    """An upstream answer as stored in the raw layer: what was asked, what came back, when, for whom."""

    source: str
    api_name: str
    params: dict[str, Any]
    fields: list[str]
    items: list[list[Any]]
    fetched_at: dt.datetime  # aware, UTC
    request_id: str | None


class DatasetModule(Protocol):
    DATASET: str
    MARKETS: frozenset[str]
    translate_query: Callable[[Query], dict[str, Any]]
    fetch: Callable[[Any, dict[str, Any]], Payload]
    translate_result: Callable[[Payload, Query], pd.DataFrame]


def dataset_modules(package: str, path: Iterable[str], besides: Iterable[str] = ()) -> tuple[ModuleType, ...]:
    """Every module of a provider package but its client (and the helpers named in `besides`): a dataset
    module is registered by being there, so that a new dataset is its module and its declaration, with
    no list to keep in step."""
    skipped = {"client", *besides}
    return tuple(
        importlib.import_module(f"{package}.{found.name}")
        for found in pkgutil.iter_modules(list(path))
        if found.name not in skipped
    )


def _plain(value: Any) -> Any:
    """None for what pandas counts as missing (None, NaN, NaT, NA), else the value."""
    import pandas as pd

    if value is None or (isinstance(value, float) and value != value):
        return None
    return None if not isinstance(value, str | int | float) and pd.isna(value) is True else value


def _dates(series: pd.Series) -> pd.Series:
    import pandas as pd

    text = series.astype("string").str.replace("-", "", regex=False).str.slice(0, 8)
    return pd.to_datetime(text, format="%Y%m%d", errors="coerce").dt.date


Rejected = list[tuple[dict[str, Any], str]]  # (row as received, why it was left out)


def conform(df: pd.DataFrame, spec: Dataset, provider: str) -> pd.DataFrame:
    """The dataset's columns in order, dates as dates and numbers as float64, or BadPayload."""
    rows, rejected = conform_rows(df, spec, provider)
    if rejected:
        row, reason = rejected[0]
        raise BadPayload(
            f"{provider} {spec.name} has rows we cannot read ({reason}): {row}", provider=provider, dataset=spec.name
        )
    return rows


def conform_rows(df: pd.DataFrame, spec: Dataset, provider: str) -> tuple[pd.DataFrame, Rejected]:
    """`conform` that leaves out the rows it cannot type and says why; missing columns still fail."""
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise BadPayload(f"{provider} {spec.name} answered without {missing}", provider=provider, dataset=spec.name)
    received = df[list(spec.columns)].reset_index(drop=True)
    return _conform_few(received, spec) if len(received) <= _FEW_ROWS else _conform_many(received, spec)


def _conform_many(received: pd.DataFrame, spec: Dataset) -> tuple[pd.DataFrame, Rejected]:
    """`conform_rows` column by column: what a frame of thousands of rows needs."""
    import pandas as pd

    out = received.copy()
    reasons = pd.Series([None] * len(out), index=out.index, dtype=object)
    for column in spec.dates:
        out[column] = _dates(out[column])
    for column in spec.numbers:
        typed = pd.to_numeric(out[column], errors="coerce").astype("float64")
        given = received[column].notna() & (received[column].astype("string").str.strip() != "")
        reasons = reasons.where(~(typed.isna() & given) | reasons.notna(), f"{column} is not a number")
        out[column] = typed
    for k in spec.key:
        reasons = reasons.where(out[k].notna() | reasons.notna(), f"no valid {k}")
    failed = reasons.notna()
    rejected = [(received.iloc[i].to_dict(), str(reasons[i])) for i in out.index[failed]]
    return out[~failed].reset_index(drop=True), rejected


# Frames of at most this many rows (a question's bar or factor) are typed value by value: pandas'
# column operations cost about 1 ms each whatever the length, 9 ms for one daily bar.
_FEW_ROWS = 32


def _conform_few(received: pd.DataFrame, spec: Dataset) -> tuple[pd.DataFrame, Rejected]:
    """`conform_rows` of a few rows, with the same answer: the same types, rows and reasons."""
    import numpy as np
    import pandas as pd

    typed: dict[str, Any] = {c: received[c] for c in spec.columns}
    reasons: list[str | None] = [None] * len(received)
    for column in spec.dates:
        typed[column] = np.array([_date(v) for v in received[column].tolist()], dtype=object)
    for column in spec.numbers:
        values = []
        for i, given in enumerate(received[column].tolist()):
            number = _number(given)
            if number != number and reasons[i] is None and not pd.isna(given) and str(given).strip() != "":
                reasons[i] = f"{column} is not a number"
            values.append(number)
        typed[column] = np.array(values, dtype="float64")
    for k in spec.key:
        for i, missing in enumerate(pd.isna(typed[k]).tolist() if k in spec.dates or k in spec.numbers
                                    else received[k].isna().tolist()):  # fmt: skip
            if missing and reasons[i] is None:
                reasons[i] = f"no valid {k}"
    out = pd.DataFrame(typed)
    failed = [i for i, reason in enumerate(reasons) if reason is not None]
    if not failed:
        return out, []
    rejected: Rejected = [(cast(dict[str, Any], received.iloc[i].to_dict()), str(reasons[i])) for i in failed]
    keep = [reason is None for reason in reasons]
    return out[keep].reset_index(drop=True), rejected


def _date(value: Any) -> Any:
    """A cell as `_dates` reads it: its first eight characters without dashes as YYYYMMDD, else NaT."""
    import pandas as pd

    if pd.isna(value):
        return pd.NaT
    text = str(value).replace("-", "")[:8]
    if len(text) != 8 or not text.isdigit():
        return pd.NaT
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        return pd.NaT


def _number(value: Any) -> float:
    """A cell as `pd.to_numeric(errors="coerce")` then float64 reads it (NaN when it is not a number)."""
    import pandas as pd

    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    try:
        return float(pd.to_numeric(value, errors="coerce"))
    except (TypeError, ValueError):
        return float("nan")
