"""The numbers a cited answer holds, each with its kind, unit and date: what a claim is matched against.

Answers are read by shape, not by tool name, so a tool that gains fields (or one this module
never heard of) still verifies: `claims` lists of {metric, value, unit, period_or_date}, tables
of `columns` + `rows`, and any other numeric field found by walking the JSON. The cite block is
metadata about the answer, not market data, so it is never quoted from. Field units come from
the answer's own `units` where it states them, else from the canonical units the tools serve.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from citation.dates import FactDates, parse_iso
from citation.scales import TOOL_UNITS, Measure, tool_measure

_SKIP = frozenset({"cite", "units", "definitions", "receipt", "attempts", "source_chain", "notes", "columns",
                   "freshness_seconds"})  # fmt: skip
_DATE_KEYS = ("trade_date", "date", "cal_date")
_PRICES = ("open", "high", "low", "close", "pre_close")
_PERCENT = frozenset({"dv_ratio", "dv_ttm", "turnover_rate", "roe", "roa", "grossprofit_margin", "netprofit_margin",
                      "debt_to_assets", "or_yoy", "netprofit_yoy", "momentum_5d", "momentum_20d", "volatility_20d",
                      "pe_percentile", "pct_chg", "diff_pct", "yoy", "mom"})  # fmt: skip
_RATIO = frozenset({"pe", "pe_ttm", "pb", "ps", "ps_ttm", "current_ratio", "pe_band_low", "pe_band_mid",
                    "pe_band_high", "pe_dynamic", "adj_factor", "adj_factor_latest"})  # fmt: skip
_PER_SHARE = frozenset({"eps", "bps", "price", "close_raw", "close_qfq", "close_hfq", "open_raw", "high_raw", "low_raw",
                        "pre_close", "ma_5", "ma_10", "ma_20", "ma_60", "change"})  # fmt: skip
_COUNTS = frozenset({"pe_band_days", "row_count", "result_count", "undated_count", "dropped_before_since"})
_INDICATORS = frozenset({"eps", "bps", "roe", "roa", "grossprofit_margin", "netprofit_margin", "debt_to_assets",
                         "current_ratio", "or_yoy", "netprofit_yoy"})  # fmt: skip


@dataclass(frozen=True, slots=True)
class Fact:
    tool_call_id: str
    field: str  # as the answer names it; a table cell is column@trade_date
    kind: str  # what words are matched against (close_raw, close_qfq, pe_ttm, ma_20 ...)
    value: float
    measure: Measure
    dates: FactDates
    computed: bool = False  # worked out here from the answer's own numbers (a row's change)


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None


def measure_of(kind: str, units: Mapping[str, Any]) -> Measure:
    """A field's unit: the answer's `units` where they name it, else the tools' canonical units."""
    if kind in ("volume", "vol"):
        return tool_measure(units.get("volume") or "lots_100shares")
    if kind == "amount":
        return tool_measure(units.get("amount") or "thousand_CNY")
    if kind in ("total_mv", "circ_mv"):
        return tool_measure(units.get("market_cap") or "ten_thousand_CNY")
    if kind in ("total_share", "float_share"):
        return tool_measure(units.get("share_count") or "ten_thousand_shares")
    if kind in _PER_SHARE or kind.startswith(("ma_", *_PRICES)):
        currency = str(units.get("price") or "CNY")
        return Measure("price", 1.0, currency, "CNY_per_share" if kind in ("eps", "bps") else currency)
    if kind in _PERCENT:
        return tool_measure("percent")
    if kind in _RATIO:
        return tool_measure("ratio")
    if kind in _COUNTS:
        return tool_measure("count")
    return Measure("any")


def _dates_of(node: Mapping[str, Any], inherited: FactDates) -> FactDates:
    for key in _DATE_KEYS:
        day = parse_iso(node.get(key))
        if day is not None:
            return FactDates(trade_date=day)
    end = parse_iso(node.get("end_date") or node.get("period"))
    if end is not None:
        return FactDates(period_end=end, ann_date=parse_iso(node.get("ann_date")))
    return inherited


def _claim_dates(claim: Mapping[str, Any]) -> FactDates:
    when = parse_iso(claim.get("period_or_date"))
    period = parse_iso(claim.get("period"))
    if period is not None or (claim.get("metric") in _INDICATORS and when is not None):
        return FactDates(period_end=period or when, ann_date=parse_iso(claim.get("ann_date")))
    return FactDates(trade_date=when)


def _own_unit(column: str, unit: object) -> bool:
    """Whether a table names this column's own unit (a price in a currency is measured as a price)."""
    return isinstance(unit, str) and unit in TOOL_UNITS and not (column in _PRICES and unit in ("CNY", "USD", "HKD"))


def _table(tool_call_id: str, node: Mapping[str, Any], units: Mapping[str, Any]) -> Iterator[Fact]:
    columns = [str(c) for c in node["columns"]]
    adjust = str(node.get("adjust") or "none")
    suffix = adjust if adjust in ("qfq", "hfq") else "raw"
    kinds = {c: (f"{c}_{suffix}" if c in _PRICES else "volume" if c == "vol" else c) for c in columns}
    # A table that names each column's unit (`citation.models.Rows`: index points, 万元, shares) is measured
    # by it; a daily-bar table by its `Units` (price, volume, amount).
    measures = {c: tool_measure(units[c]) if _own_unit(c, units.get(c))
                else measure_of("pre_close" if c in _PRICES else kinds[c], units) for c in columns}  # fmt: skip
    where = columns.index("trade_date") if "trade_date" in columns else None
    for row in node["rows"]:
        if not isinstance(row, list) or len(row) != len(columns):
            continue
        day = parse_iso(row[where]) if where is not None else None
        dates = FactDates(trade_date=day)
        tag = f"@{day.isoformat()}" if day else ""
        cells = dict(zip(columns, row, strict=True))
        for column, cell in cells.items():
            value = _number(cell)
            if value is not None and column not in ("ts_code", "trade_date"):
                yield Fact(tool_call_id, column + tag, kinds[column], value, measures[column], dates)
        yield from _changes(tool_call_id, cells, kinds, dates, tag, units)


def _changes(tool_call_id: str, node: Mapping[str, Any], kinds: Mapping[str, str], dates: FactDates, tag: str,
             units: Mapping[str, Any]) -> Iterator[Fact]:  # fmt: skip
    """A bar's change and percent change, from its close and previous close, when it states no change."""
    close = next((_number(node.get(k)) for k in ("close", "close_raw") if _number(node.get(k)) is not None), None)
    previous = _number(node.get("pre_close"))
    if close is None or not previous or "pct_chg" in node:
        return
    kind = kinds.get("close", "close_raw")
    stem = "" if kind.endswith("_raw") else kind.removeprefix("close")
    yield Fact(tool_call_id, f"pct_chg{stem}{tag}", "pct_chg", (close / previous - 1) * 100, tool_measure("percent"),
               dates, computed=True)  # fmt: skip
    yield Fact(tool_call_id, f"change{stem}{tag}", "change", close - previous, measure_of("change", units), dates,
               computed=True)  # fmt: skip


def _walk(tool_call_id: str, node: Any, path: str, dates: FactDates, units: Mapping[str, Any]) -> Iterator[Fact]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(tool_call_id, item, f"{path}[{index}]", dates, units)
        return
    if not isinstance(node, Mapping):
        return
    if "metric" in node and "value" in node:
        value = _number(node.get("value"))
        if value is not None:
            metric = str(node["metric"])
            measure = tool_measure(str(node.get("unit"))) if node.get("unit") else measure_of(metric, units)
            yield Fact(tool_call_id, metric, metric, value, measure, _claim_dates(node))
        return
    if isinstance(node.get("columns"), list) and isinstance(node.get("rows"), list):
        yield from _table(tool_call_id, node, units)
    own = _dates_of(node, dates)
    kinds = {k: k for k in node}
    for key, item in node.items():
        if key in _SKIP or (key == "rows" and "columns" in node):
            continue
        value = _number(item)
        name = f"{path}.{key}" if path else str(key)
        if value is not None:
            yield Fact(tool_call_id, name, str(key), value, measure_of(str(key), units), own)
        elif isinstance(item, Mapping | list):
            yield from _walk(tool_call_id, item, name, own, units)
    if path == "":
        yield from _changes(tool_call_id, node, kinds, own, "", units)


def facts_of(tool_call_id: str, answer: Mapping[str, Any]) -> list[Fact]:
    """Every number the answer states, once; a number under `features` keeps the feature's own name."""
    units = answer.get("units")
    found = list(_walk(tool_call_id, answer, "", _dates_of(answer, FactDates()), units if isinstance(units, Mapping)
                       else {}))  # fmt: skip
    return [_short(f) for f in found]


def _short(fact: Fact) -> Fact:
    """`features.ma_20` is named ma_20, as the agent reads it; a deeper path keeps its full name."""
    head, _, tail = fact.field.partition(".")
    if head in ("features",) and tail and "." not in tail:
        return Fact(fact.tool_call_id, tail, fact.kind, fact.value, fact.measure, fact.dates, fact.computed)
    return fact


def latest(facts: list[Fact]) -> dt.date | None:
    days = [f.dates.trade_date or f.dates.period_end for f in facts]
    known = [d for d in days if d is not None]
    return max(known) if known else None
