"""Dates a reply names, and whether a cited value is about the date named beside it.

Dates are never claims themselves; they decide `date_mismatch`. A reply names a trading day
("2024-06-20", "2024年6月20日", "6月20日", "June 20, 2024", "20240620"), a month, a year, or a
report period ("2024Q3", "Q3 2024", "2024H1", "2024年三季报", "FY2024"). A report's figure is
about its period end and usable from its announcement (point in time), so a day on or after the
announcement is a fair date for it; a day before is not.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

Grain = Literal["day", "monthday", "month", "year", "period"]


@dataclass(frozen=True, slots=True)
class DateMention:
    start: int
    end: int
    grain: Grain
    year: int = 0
    month: int = 0
    day: int = 0
    span_months: int = 0  # periods: how many months end at (year, month)


@dataclass(frozen=True, slots=True)
class FactDates:
    """What a cited value is about: a trade date, or a report period with its announcement."""

    trade_date: dt.date | None = None
    period_end: dt.date | None = None
    ann_date: dt.date | None = None

    @property
    def known(self) -> bool:
        return any((self.trade_date, self.period_end, self.ann_date))

    def label(self) -> str | None:
        when = self.trade_date or self.period_end
        return when.isoformat() if when else None


_MONTHS = {
    m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)
}
_MON = r"(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"  # capitalized: "may" is a verb
_QUARTER_WORDS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = r"(?<!\d)(?P<y>(?:19|20)\d{2})"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_YEAR + r"[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"), "day"),
    (re.compile(_YEAR + r"\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]?"), "day"),
    (re.compile(_YEAR + r"(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?!\d)"), "day"),
    (re.compile(_MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})(?!\d)"), "day"),
    (re.compile(r"(?<!\d)(?P<d>\d{1,2})\s+" + _MON + r",?\s+(?P<y>(?:19|20)\d{2})(?!\d)"), "day"),
    (
        re.compile(_YEAR + r"\s*年?\s*(?:第?(?P<q>[一二三四1-4])季度|Q(?P<q2>[1-4])|(?P<q3>[1-4])Q)(?![A-Za-z\d])"),
        "quarter",
    ),
    (re.compile(r"(?<![A-Za-z])Q(?P<q>[1-4])\s*'?(?P<y>(?:19|20)?\d{2})(?!\d)"), "quarter"),
    (re.compile(r"(?<![A-Za-z\d])(?P<q>[1-4])Q\s*'?(?P<y>(?:19|20)?\d{2})(?!\d)"), "quarter"),
    (re.compile(_YEAR + r"\s*年?\s*(?:前三季度|三季报|三季度报告?)"), "nine_months"),
    (re.compile(_YEAR + r"\s*年?\s*(?:一季报|一季度报告?)"), "q1"),
    (
        re.compile(_YEAR + r"\s*年?\s*(?:H(?P<h>[12])|(?P<half>上半年|下半年)|中报|半年报|半年度报告|半年度|中期)"),
        "half",
    ),
    (re.compile(r"(?<![A-Za-z])H(?P<h>[12])\s*'?(?P<y>(?:19|20)?\d{2})(?!\d)"), "half"),
    (re.compile(_YEAR + r"\s*(?:年报|年度报告|全年|年度|财年)"), "annual"),
    (re.compile(r"(?<![A-Za-z])FY\s*'?(?P<y>(?:19|20)?\d{2})(?!\d)", re.I), "annual"),
    (re.compile(_YEAR + r"\s*年\s*(?P<m>\d{1,2})\s*月(?!\s*\d)"), "month"),
    (re.compile(_MON + r"\s+(?P<y>(?:19|20)\d{2})(?!\d)"), "month"),
    (re.compile(r"(?<!\d)(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"), "monthday"),
    (re.compile(_MON + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?![\d:])"), "monthday"),
    (re.compile(_YEAR + r"\s*年(?!\s*\d)"), "year"),
]


def _year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def _month(match: re.Match[str]) -> int:
    if "mon" in match.re.groupindex and match.group("mon"):
        return _MONTHS[match.group("mon").lower()[:3]]
    return int(match.group("m"))


def _build(match: re.Match[str], kind: str) -> DateMention | None:
    start, end = match.span()
    groups = match.groupdict()
    if kind in ("day", "monthday"):
        month, day = _month(match), int(groups["d"])
        year = _year(groups["y"]) if groups.get("y") else 0
        try:
            dt.date(year or 2000, month, day)
        except ValueError:
            return None
        return DateMention(start, end, "day" if year else "monthday", year, month, day)
    if kind == "month":
        month = _month(match)
        return DateMention(start, end, "month", _year(groups["y"]), month) if 1 <= month <= 12 else None
    year = _year(groups["y"])
    if kind == "year":
        return DateMention(start, end, "year", year)
    if kind == "quarter":
        quarter = _QUARTER_WORDS[next(g for g in (groups.get("q"), groups.get("q2"), groups.get("q3")) if g)]
        return DateMention(start, end, "period", year, quarter * 3, span_months=3)
    if kind == "half":
        second = groups.get("h") == "2" or groups.get("half") == "下半年"
        return DateMention(start, end, "period", year, 12 if second else 6, span_months=6)
    months = {"nine_months": 9, "q1": 3, "annual": 12}[kind]
    return DateMention(start, end, "period", year, months, span_months=months if kind != "q1" else 3)


def find_dates(text: str) -> list[DateMention]:
    """Every date named in `text`, earliest first; overlapping forms keep the first pattern's reading."""
    taken: list[DateMention] = []
    covered = bytearray(len(text))
    for pattern, kind in _PATTERNS:
        for match in pattern.finditer(text):
            if any(covered[match.start() : match.end()]):
                continue
            mention = _build(match, kind)
            if mention is None:
                continue
            taken.append(mention)
            covered[match.start() : match.end()] = b"\x01" * (match.end() - match.start())
    return sorted(taken, key=lambda m: m.start)


def _period_end(mention: DateMention) -> dt.date:
    month = mention.month
    last = 31 if month in (3, 12) else 30
    return dt.date(mention.year, month, last)


def about(mention: DateMention, dates: FactDates) -> bool:
    """Whether a value with `dates` can be what the reply names at `mention`."""
    if not dates.known:
        return True
    days = [d for d in (dates.trade_date, dates.period_end, dates.ann_date) if d is not None]
    if mention.grain == "day":
        named = dt.date(mention.year, mention.month, mention.day)
        if dates.trade_date is not None:
            return named == dates.trade_date
        published = dates.ann_date or dates.period_end
        return named in days or (published is not None and named >= published)
    if mention.grain == "monthday":
        return any((d.month, d.day) == (mention.month, mention.day) for d in days)
    if mention.grain == "month":
        return any((d.year, d.month) == (mention.year, mention.month) for d in days)
    if mention.grain == "year":
        return any(d.year == mention.year for d in (dates.trade_date, dates.period_end) if d is not None)
    end = _period_end(mention)
    if dates.period_end is not None:
        return dates.period_end == end
    trade = dates.trade_date
    if trade is None:
        return True
    first_month = mention.month - mention.span_months + 1
    return trade.year == mention.year and first_month <= trade.month <= mention.month


def parse_iso(text: object) -> dt.date | None:
    if not isinstance(text, str) or len(text) < 8:
        return None
    try:
        return dt.date.fromisoformat(text[:10]) if "-" in text[:10] else dt.datetime.strptime(text[:8], "%Y%m%d").date()
    except ValueError:
        return None
