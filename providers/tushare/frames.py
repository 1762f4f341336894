"""Shared steps of the tushare dataset modules: check the columns, type the values."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from providers.errors import BadPayload


def require(df: pd.DataFrame, columns: Iterable[str], api: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadPayload(f"tushare {api} answered without columns {missing}", provider="tushare", dataset=api)


def dates(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series.astype("string").str.slice(0, 8), format="%Y%m%d", errors="coerce").dt.date


def numbers(df: pd.DataFrame, columns: Iterable[str], api: str) -> pd.DataFrame:
    out = df.copy()
    for column in columns:
        try:
            out[column] = pd.to_numeric(out[column], errors="raise").astype("float64")
        except (ValueError, TypeError) as exc:
            raise BadPayload(
                f"tushare {api} column {column} is not numeric ({exc})", provider="tushare", dataset=api
            ) from exc
    return out


def select(df: pd.DataFrame, columns: list[str], dated: Iterable[str], api: str) -> pd.DataFrame:
    """Keep `columns` in order, with dates typed; a row without its key date is a bad payload."""
    out = df[columns].copy()
    for column in dated:
        out[column] = dates(out[column])
    key = next(iter(dated), None)
    if key is not None and out[key].isna().any():
        raise BadPayload(f"tushare {api} rows without a valid {key}", provider="tushare", dataset=api)
    return out
