"""Units and scales: what a reply's unit words mean, what a tool's unit strings mean, and the tolerance.

A reply writes "37.16亿元" where the tool served 3,715,924.984 thousand CNY; both are brought to
a base unit per dimension (CNY, shares, percent, ratio) and the cited value is expressed in the
reply's unit, so the comparison happens at the precision the reply shows. The digits that fit
the same value at another scale are what `unit_mismatch` means, so the other scales are here too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Dim = Literal["price", "money", "shares", "percent", "ratio", "count", "any"]
Base = Literal["CNY", "USD", "HKD", "per_share", "lots", "shares", "percent", "bp", "pp", "ratio"]
Approx = Literal["about", "over", "under"]


@dataclass(frozen=True, slots=True)
class Measure:
    """How a tool's number is measured: dimension, factor from the served unit to the base, currency."""

    dim: Dim
    factor: float = 1.0
    currency: str | None = None
    served: str | None = None


TOOL_UNITS: dict[str, Measure] = {
    "thousand_CNY": Measure("money", 1e3, "CNY", "thousand_CNY"),
    "ten_thousand_CNY": Measure("money", 1e4, "CNY", "ten_thousand_CNY"),
    "hundred_million_CNY": Measure("money", 1e8, "CNY", "hundred_million_CNY"),
    "trillion_CNY": Measure("money", 1e12, "CNY", "trillion_CNY"),  # 万亿元: social financing's stock
    "CNY": Measure("money", 1.0, "CNY", "CNY"),  # an amount in yuan (a report's revenue): 亿元 and 万元 fit it
    "USD": Measure("price", 1.0, "USD", "USD"),
    "HKD": Measure("price", 1.0, "HKD", "HKD"),
    "CNY_per_share": Measure("price", 1.0, "CNY", "CNY_per_share"),
    "lots_100shares": Measure("shares", 100.0, None, "lots_100shares"),
    "shares": Measure("shares", 1.0, None, "shares"),
    "ten_thousand_shares": Measure("shares", 1e4, None, "ten_thousand_shares"),
    "percent": Measure("percent", served="percent"),
    "ratio": Measure("ratio", served="ratio"),
    "count": Measure("count", served="count"),
    "index_points": Measure("count", served="index_points"),  # an index level (沪深300 4606.3447 点): no scale words
    "shares_per_share": Measure("ratio", served="shares_per_share"),  # a bonus or transfer: new shares per share
}


def tool_measure(unit: str | None) -> Measure:
    return TOOL_UNITS.get(unit or "", Measure("any", served=unit))


@dataclass(frozen=True, slots=True)
class ReplyUnit:
    """A unit as a reply writes it: its normalized label, the scale word's factor, and the base unit."""

    label: str | None = None
    scale: float = 1.0
    base: Base | None = None


NO_UNIT = ReplyUnit()
_CN_SCALES = {"千": 1e3, "万": 1e4, "十万": 1e5, "百万": 1e6, "千万": 1e7, "亿": 1e8, "十亿": 1e9, "百亿": 1e10,
              "千亿": 1e11, "万亿": 1e12}  # fmt: skip
_EN_SCALES = {"k": ("k", 1e3), "thousand": ("k", 1e3), "m": ("mn", 1e6), "mn": ("mn", 1e6), "mm": ("mn", 1e6),
              "million": ("mn", 1e6), "b": ("bn", 1e9), "bn": ("bn", 1e9), "billion": ("bn", 1e9),
              "tn": ("tn", 1e12), "trn": ("tn", 1e12), "trillion": ("tn", 1e12)}  # fmt: skip
_CN_BASES: dict[str, tuple[str, Base]] = {
    "元/股": ("元/股", "per_share"), "元人民币": ("元", "CNY"), "元": ("元", "CNY"), "人民币": ("元", "CNY"),
    "块钱": ("元", "CNY"), "块": ("元", "CNY"), "美元": ("美元", "USD"), "港元": ("港元", "HKD"), "港币": ("港元", "HKD"),
    "手": ("手", "lots"), "股": ("股", "shares"), "%": ("%", "percent"), "倍": ("倍", "ratio"),
    "个百分点": ("pp", "pp"), "百分点": ("pp", "pp"), "基点": ("bp", "bp"), "x": ("x", "ratio"), "×": ("x", "ratio"),
}  # fmt: skip
_EN_BASES: dict[str, tuple[str, Base]] = {
    "cny": ("CNY", "CNY"), "rmb": ("CNY", "CNY"), "yuan": ("CNY", "CNY"), "usd": ("USD", "USD"),
    "dollars": ("USD", "USD"), "dollar": ("USD", "USD"), "hkd": ("HKD", "HKD"), "shares": ("shares", "shares"),
    "lots": ("lots", "lots"), "percent": ("%", "percent"), "pct": ("%", "percent"), "bps": ("bp", "bp"),
    "bp": ("bp", "bp"), "basis points": ("bp", "bp"), "pp": ("pp", "pp"), "ppt": ("pp", "pp"),
    "percentage points": ("pp", "pp"), "percentage point": ("pp", "pp"), "times": ("x", "ratio"), "x": ("x", "ratio"),
}  # fmt: skip


def _alternation(words: object) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))  # type: ignore[call-overload]


_CN_UNIT = re.compile(rf"[ \t]?(?P<scale>{_alternation(_CN_SCALES)})?[ \t]?(?P<base>{_alternation(_CN_BASES)})?")
_EN_UNIT = re.compile(
    rf"[ \t]?(?P<scale>(?:{_alternation(_EN_SCALES)})(?![A-Za-z]))?[ \t]?(?P<base>(?:{_alternation(_EN_BASES)})(?![A-Za-z]))?",
    re.IGNORECASE,
)
_PREFIX = re.compile(r"(?<![A-Za-z])(US\$|HK\$|\$|¥|￥|CNY|RMB|USD|HKD)[ \t]?$")
_PREFIX_BASES: dict[str, tuple[str, Base]] = {"US$": ("USD", "USD"), "$": ("USD", "USD"), "HK$": ("HKD", "HKD"),
                                              "¥": ("元", "CNY"), "￥": ("元", "CNY"), "CNY": ("CNY", "CNY"),
                                              "RMB": ("CNY", "CNY"), "USD": ("USD", "USD"), "HKD": ("HKD", "HKD")}  # fmt: skip


def parse_unit(text: str, pos: int, before: str = "") -> tuple[ReplyUnit, int]:
    """The unit written at `pos` (just after a number) and where it ends; `before` may hold a prefix like '¥'."""
    prefix = _PREFIX.search(before)
    cn = _CN_UNIT.match(text, pos)
    en = _EN_UNIT.match(text, pos)
    best = cn if cn and (cn.group("scale") or cn.group("base")) else None
    if en and (en.group("scale") or en.group("base")) and (best is None or en.end() > best.end()):
        best = en
    scale_label, scale, base_label, base = "", 1.0, "", None
    end = pos
    if best is not None:
        end = best.end()
        word = best.group("scale")
        if word and best.re is _CN_UNIT:
            scale_label, scale = word, _CN_SCALES[word]
        elif word:
            scale_label, scale = _EN_SCALES[word.lower()]
            scale_label += " "
        written = best.group("base")
        if written:
            table = _CN_BASES if best.re is _CN_UNIT else _EN_BASES
            base_label, base = table[written.lower() if best.re is _EN_UNIT else written]
        elif not word:
            end = pos
    if base is None and prefix is not None:
        base_label, base = _PREFIX_BASES[prefix.group(1)]
    label = (scale_label + base_label).strip() or None
    return ReplyUnit(label, scale, base), end


def prefix_length(before: str) -> int:
    found = _PREFIX.search(before)
    return len(found.group(0)) if found else 0


SCALES = (1.0, 1e3, 1e4, 1e6, 1e7, 1e8, 1e9, 1e12)


def expressions(unit: ReplyUnit, measure: Measure, served: float) -> list[float]:
    """The cited value as a reply in `unit` writes it; empty when the unit cannot measure it."""
    base = served * measure.factor
    dim, scale = measure.dim, unit.scale
    if dim == "any":
        return [served / scale]
    if unit.base is None:
        if scale == 1.0:
            return [served] if measure.factor == 1.0 else [served, base]
        if dim == "money" or (dim == "shares" and measure.factor == 100.0):
            return [base / scale, served / scale] if dim == "shares" else [base / scale]
        return [base / scale] if dim == "shares" else []
    if unit.base in ("CNY", "USD", "HKD"):
        currency = measure.currency or "CNY"
        if currency != unit.base:
            return []
        if dim == "price":
            return [base] if scale == 1.0 else []
        return [base / scale] if dim == "money" else []
    return _by_base(unit.base, dim, base, scale)


def _by_base(base_unit: Base, dim: Dim, base: float, scale: float) -> list[float]:
    if base_unit == "per_share":
        return [base] if dim == "price" and scale == 1.0 else []
    if base_unit == "lots":
        return [base / (100.0 * scale)] if dim == "shares" else []
    if base_unit == "shares":
        return [base / scale] if dim == "shares" else []
    if base_unit in ("percent", "pp"):
        return [base] if dim == "percent" and scale == 1.0 else []
    if base_unit == "bp":
        return [base * 100.0] if dim == "percent" and scale == 1.0 else []
    return [base] if dim in ("ratio", "count") and scale == 1.0 else []


def misreadings(measure: Measure, served: float) -> list[float]:
    """What the same value reads as at the other scales and units (digits that fit one: unit_mismatch)."""
    base = served * measure.factor
    found = {served, base}
    if measure.dim in ("money", "shares"):
        found.update(base / s for s in SCALES)
        if measure.factor == 100.0:
            found.update(served / s for s in SCALES)
    elif measure.dim == "percent":
        found.update((base * 100.0, base / 100.0))
    return sorted(found)


def fits(written: float, decimals: int, target: float, approx: Approx | None = None) -> bool:
    """Within half a unit of the last digit shown ("20.44" fits 20.4403); looser for 约/超过/不足."""
    step = 10.0**-decimals
    slack = 1e-9 * max(1.0, abs(target))
    if approx is None:
        return abs(written - target) <= step / 2 + slack
    if approx == "about":
        return abs(written - target) <= step + slack
    if approx == "over":
        return written - step / 2 - slack <= target <= written + step + slack
    return written - step - slack <= target <= written + step / 2 + slack


def in_unit(unit: ReplyUnit, measure: Measure, served: float) -> tuple[float, str | None]:
    """The value to show as `expected`: in the reply's unit when it converts, else as the tool served it."""
    values = expressions(unit, measure, served)
    if values and unit.label is not None:
        return _tidy(values[0]), unit.label
    return _tidy(served), measure.served


def _tidy(value: float) -> float:
    return float(f"{value:.10g}")
