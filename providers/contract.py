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

The provider (`providers.provider`) runs the three steps under its guard, then `conform`s
the frame to the dataset's types and `providers.units` checks the units, so a module never
repeats either. A new dataset touches its module, its spec in `providers.models` and its table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pandas as pd

from providers.errors import BadPayload
from providers.models import DatasetSpec


@dataclass(frozen=True, slots=True)
class Query:
    dataset: str
    code: str  # tushare code for A-shares (600519.SH), the ticker for global (AAPL), the exchange for trade_cal
    market: str  # "cn" or "global"
    start: dt.date
    end: dt.date
    latest: bool = False  # only the newest row on or before `end`, however old (long suspensions)


@dataclass(frozen=True, slots=True)
class Payload:
    """What the upstream answered, as a table of plain values (it is stored verbatim as raw)."""

    api_name: str
    fields: list[str]
    items: list[list[Any]]
    meta: dict[str, Any] = field(default_factory=dict)  # e.g. the currency of a chart

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.items, columns=self.fields)

    @classmethod
    def of(cls, api_name: str, frame: pd.DataFrame, **meta: Any) -> Payload:
        clean = frame.astype(object).where(frame.notna(), None)
        return cls(api_name, [str(c) for c in frame.columns], clean.values.tolist(), meta)


class DatasetModule(Protocol):
    DATASET: str
    MARKETS: frozenset[str]
    translate_query: Callable[[Query], dict[str, Any]]
    fetch: Callable[[Any, dict[str, Any]], Payload]
    translate_result: Callable[[Payload, Query], pd.DataFrame]


def _dates(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.replace("-", "", regex=False).str.slice(0, 8)
    return pd.to_datetime(text, format="%Y%m%d", errors="coerce").dt.date


def conform(df: pd.DataFrame, spec: DatasetSpec, provider: str) -> pd.DataFrame:
    """The dataset's columns in order, dates as dates and numbers as float64, or BadPayload."""
    missing = [c for c in spec.columns if c not in df.columns]
    if missing:
        raise BadPayload(f"{provider} {spec.name} answered without {missing}", provider=provider, dataset=spec.name)
    out = df[list(spec.columns)].copy()
    for column in spec.dates:
        out[column] = _dates(out[column])
    for column in spec.numbers:
        try:
            out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
        except (ValueError, TypeError) as exc:
            raise BadPayload(
                f"{provider} {spec.name} column {column} is not numeric ({exc})", provider=provider, dataset=spec.name
            ) from exc
    empty = [k for k in spec.key if out[k].isna().any()]
    if empty:
        raise BadPayload(
            f"{provider} {spec.name} has rows without a valid {', '.join(empty)}", provider=provider, dataset=spec.name
        )
    return out.reset_index(drop=True)
