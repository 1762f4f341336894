"""Finding a reply's claims: the numbers that state a quantity, with their unit, words, date and cites.

Users' first complaint about answer checkers is false rejection, so what is not a quantity is
left out before anything is matched: codes (600519, 600519.SH), dates and years, times, list
markers ("1.", "2)"), footnotes, index names (沪深300, CSI 500), window names (MA20, 5日, 20日均线, 3年,
近10个交易日, 20-day), identifiers (pe_ttm), counts of things in the reply ("3只股票", "5 stocks"), ordinals (第3, 前10)
and the digits inside a `tc_` id. Chinese numerals ("两家") are never read as numbers.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass

from citation.dates import DateMention, find_dates
from citation.fields import Wording, is_qualifier_only, metric_spans, wording
from citation.scales import NO_UNIT, Approx, ReplyUnit, parse_unit, prefix_length
from citation.segments import TC_ID, IdGroup, Segment, id_groups, normalize, segments


@dataclass(frozen=True, slots=True)
class Claim:
    start: int
    end: int
    text: str  # as written, sign, currency and unit included
    value: float  # as written, before its scale word
    decimals: int
    signed: bool
    unit: ReplyUnit
    approx: Approx | None
    cites: tuple[str, ...]
    wording: Wording
    date: DateMention | None
    segment: int
    clause: int
    named_before: tuple[frozenset[str], ...] = ()  # fields named earlier in its sentence: inputs of a derivation


@dataclass(frozen=True, slots=True)
class Reading:
    claims: list[Claim]
    ids: list[str]  # every id written, first occurrence order
    segments: list[Segment]


_I = re.IGNORECASE
_MASKS = [re.compile(p, f) for p, f in (
    (r"https?://\S+|www\.\S+", 0),
    (r"(?<![\d.])\d{6}\.(?:SH|SZ|BJ|SS)(?![A-Za-z])", _I),
    (r"(?<![A-Za-z])(?:sh|sz|bj)\d{6}(?!\d)", _I),
    (r"(?<![\d.])\d{4,5}\.HK(?![A-Za-z])", _I),
    (r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)", 0),
    (r"(?m)^[ \t>]*(?:#+[ \t]*)?(?:[-*+•][ \t]+)?(?:\(\d{1,2}\)|\d{1,2}[.)、](?!\d))", 0),
    (r"\[\^?\d{1,3}\]", 0),
    (r"(?<![A-Za-z0-9])[A-Za-z]+(?:_[A-Za-z0-9]+)+", 0),
    (r"(?<![A-Za-z])(?:s?ma|ema|macd|rsi|kdj|boll)[ _]?\d+", _I),
    (r"(?<![\d.,])\d+(?:\.\d+)?\s*(?:个)?(?:交易日|自然日|日|天|周|个月|月|年|季度|小时|分钟)", 0),
    (r"(?<![\d.,])\d+[- ]?(?:trading[- ])?(?:days?|weeks?|months?|years?|yrs?|quarters?|sessions?|hours?|minutes?|"
     r"mins?)(?![A-Za-z])", _I),
    (r"(?<![\d.,A-Za-z])\d+[dDwWyY](?![A-Za-z])", 0),
    (r"(?<![\d.,])\d+\s*(?:只|家|个(?!百分点)|条|项|支|位|名|次|笔|种|类|篇|份|组|行|列|大|点(?=建议|原因|理由|看法|结论|风险|提示))", 0),
    (r"(?<![\d.,])\d{1,3}\s+(?:[a-z-]+\s+){0,2}?(?:stocks?|companies|names|tickers|items|reasons|factors|risks|questions|"
     r"rows|results|metrics|indicators|ratios|sectors|industries|funds|holdings|peers|banks|tools|sources|points\s+to)"
     r"(?![A-Za-z])", _I),
    (r"(?<![\d.,])\d{1,3}\s+(?:of|out of)\s+(?:the\s+|these\s+|those\s+|its\s+|their\s+)?\d{1,3}(?![\d.,])", _I),
    (r"第\s*\d+|(?<![A-Za-z])(?:top|no\.?|#)\s*\d+|前\s*\d+(?=\s*(?:名|大|只|家|位|个|条))", _I),
    (r"(?<![A-Za-z])[QH][1-4](?!\d)", 0),
    # Index names: 沪深300, 中证500, 上证50, 创业板50, 科创50, CSI 300, S&P 500 (a name, not a quantity).
    (r"(?:沪深|中证|上证|深证|创业板|科创|国证|北证|恒生|(?<![A-Za-z])(?:CSI|SSE|SZSE|S&P|FTSE|MSCI)\s?)\d{2,4}(?![\d.,])",
     _I),
)]  # fmt: skip
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])(?P<sign>[+-])?(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?P<dec>\.\d+)?(?!\d)(?!\.\d)")
_ABOUT = re.compile(r"(?:约合|大约|约|~|≈|about|around|approximately|approx\.?|roughly)\s*$", _I)
_OVER = re.compile(r"(?:逾|超过|超|至少|over|more than|above|at least)\s*$", _I)
_UNDER = re.compile(r"(?:接近|将近|近|不足|不到|少于|nearly|almost|under|below|less than|just under)\s*$", _I)
_AFTER_ABOUT = re.compile(r"^\s*(?:左右|上下)")
_AFTER_OVER = re.compile(r"^\s*(?:多|以上|余)")
_RESPECTIVELY = re.compile(r"分别|respectively", _I)
_HEADER_UNIT = re.compile(r"[(（]\s*(?:单位\s*[:：]?\s*)?([^()（）]{1,8}?)\s*[)）]")
_RATIO_OF = re.compile(r"的\s*$")
_RATIO_AFTER = re.compile(r"^\s*(?:于|the |that |as |of )", _I)


def _covered(text: str, dates: list[DateMention]) -> bytearray:
    covered = bytearray(len(text))
    spans = [(d.start, d.end) for d in dates]
    for pattern in _MASKS:
        spans.extend(m.span() for m in pattern.finditer(text))
    for a, b in spans:
        covered[a:b] = b"\x01" * (b - a)
    return covered


def _blank_ids(text: str) -> str:
    return TC_ID.sub(lambda m: " " * len(m.group(0)), text)


@dataclass(frozen=True, slots=True)
class _Number:
    start: int  # with currency prefix and sign
    end: int  # after its unit
    number_end: int
    value: float
    decimals: int
    signed: bool
    unit: ReplyUnit


def _numbers(plain: str, covered: bytearray, dates: list[DateMention]) -> list[_Number]:
    found: list[_Number] = []
    for match in _NUMBER.finditer(plain):
        if any(covered[match.start() : match.end()]):
            continue
        before = plain[max(0, match.start() - 6) : match.start()]
        unit, end = parse_unit(plain, match.end(), before)
        digits, dec, sign = match.group("int"), match.group("dec") or "", match.group("sign")
        bare = unit is NO_UNIT or unit.label is None
        if bare and end == match.end() and match.end() < len(plain) and plain[match.end()].isascii() and \
                plain[match.end()].isalpha():  # fmt: skip
            continue
        if bare and not dec and not sign and "," not in digits:
            if len(digits) == 4 and 1900 <= int(digits) <= 2100:
                dates.append(DateMention(match.start(), match.end(), "year", int(digits)))
                continue
            if len(digits) in (5, 6):  # a code: 600519, 00700
                continue
        value = float(digits.replace(",", "") + dec)
        if not math.isfinite(value):  # hundreds of digits: no figure a tool answers, and JSON has no inf
            continue
        start = match.start() - prefix_length(before) if not sign else match.start()
        found.append(_Number(start, end, match.end(), -value if sign == "-" else value, max(len(dec) - 1, 0),
                             bool(sign), unit))  # fmt: skip
    return found


def _approx(before: str, after: str) -> Approx | None:
    if _ABOUT.search(before) or _AFTER_ABOUT.match(after):
        return "about"
    if _OVER.search(before) or _AFTER_OVER.match(after):
        return "over"
    return "under" if _UNDER.search(before) else None


def _cites(claim_at: int, clause: int, segment: Segment, groups: list[IdGroup], has_claims: set[int],
           numbers: list[int]) -> tuple[str, ...]:  # fmt: skip
    """The ids a number at `claim_at` cites: its clause's (the one after it, else before it), else its row's, else
    a leading clause's ("据 [tc_a]，收盘 …"), else the sentence's next group, else its previous one. A list item
    with none cites the lead-in line it hangs from ("据 [tc_a]：") when that line states no number itself."""
    inside = [g for g in groups if segment.start <= g.start < segment.end]
    if not inside and segment.lead is not None and not any(segment.lead[0] <= n < segment.lead[1] for n in numbers):
        return tuple(dict.fromkeys(i for g in groups if segment.lead[0] <= g.start < segment.lead[1] for i in g.ids))
    if not inside:
        return ()
    a, b = segment.clauses[clause]
    own = [g for g in inside if a <= g.start < b]
    if own:
        after = [g for g in own if g.start >= claim_at]
        return (after[0] if after else own[-1]).ids
    if segment.is_row:
        return tuple(dict.fromkeys(i for g in inside for i in g.ids))
    for index in range(clause - 1, -1, -1):
        c_start, c_end = segment.clauses[index]
        earlier = [g for g in inside if c_start <= g.start < c_end]
        if earlier:
            if index not in has_claims:
                return earlier[-1].ids
            break
    after = [g for g in inside if g.start >= claim_at]
    return after[0].ids if after else [g for g in inside if g.start < claim_at][-1].ids


def _clause_of(segment: Segment, at: int) -> int:
    starts = [c[0] for c in segment.clauses]
    return max(bisect.bisect_right(starts, at) - 1, 0)


_DATE_BREAK = re.compile(r"较|比|相比|相较|对比|以来|此前|前一|上一|昨日|昨天|从|由|升至|降至|涨到|跌到|涨至|跌至|(?<![a-z])(?:vs\.?|versus|"
                         r"than|since|from|previous|prior|compared|against)(?![a-z])|涨|跌|change|rose|fell|gain|spread|差",
                         _I)  # fmt: skip
_DATE_JUST_AFTER = re.compile(r"^[\s(（\[【]*(?:on|as of|at|于|截至|截止)?[\s(（]*$", _I)


def _date_for(number: _Number, segment: Segment, clause: tuple[int, int], dates: list[DateMention],
              header_cell: str, plain: str) -> DateMention | None:  # fmt: skip
    """The date named for a number: the nearest before it in its sentence, unless a comparison (较, vs, 涨到,
    前一日) stands between them; else one written right after it ("1,500.10 元（2024-06-20）"); in a table, its
    cell's, its column header's or its row's."""
    cell = [d for d in dates if clause[0] <= d.start < clause[1]] if segment.is_row else []
    if cell:
        return cell[0]
    if segment.is_row:
        heading = find_dates(header_cell)
        if heading:
            return heading[0]
        row = [d for d in dates if segment.start <= d.start < segment.end]
        return row[0] if row else None
    earlier = [d for d in dates if segment.start <= d.start and d.end <= number.start]
    if earlier and not _DATE_BREAK.search(plain, earlier[-1].end, number.start):
        return earlier[-1]
    later = [d for d in dates if number.end <= d.start < segment.end]
    if later and _DATE_JUST_AFTER.match(plain[number.end : later[0].start]):
        return later[0]
    return None


def read(text: str) -> Reading:
    """Every claim in `text`, in order, with what it cites; offsets are into `text` as written."""
    norm = normalize(text)
    groups = id_groups(norm)
    plain = _blank_ids(norm)
    dates = find_dates(plain)
    numbers = _numbers(plain, _covered(plain, dates), dates)
    dates.sort(key=lambda d: d.start)
    parts = segments(plain)
    starts = [s.start for s in parts]
    by_segment: dict[int, list[_Number]] = {}
    for number in numbers:
        index = bisect.bisect_right(starts, number.start) - 1
        if index >= 0 and number.start < parts[index].end:
            by_segment.setdefault(index, []).append(number)
    claims: list[Claim] = []
    every = [n.start for n in numbers]
    for index, found in sorted(by_segment.items()):
        claims.extend(_claims_of(text, plain, parts[index], index, found, groups, dates, every))
    ids = list(dict.fromkeys(i for g in groups for i in g.ids))
    return Reading(claims, ids, parts)


def _claims_of(text: str, plain: str, segment: Segment, index: int, numbers: list[_Number], groups: list[IdGroup],
               dates: list[DateMention], starts: list[int]) -> list[Claim]:  # fmt: skip
    clause_of = [_clause_of(segment, n.start) for n in numbers]
    has_claims = set(clause_of)
    respectively = _respectively(plain, segment, numbers)
    claims: list[Claim] = []
    previous_named = ""
    for position, (number, clause) in enumerate(zip(numbers, clause_of, strict=True)):
        a, b = segment.clauses[clause]
        prior = [n for n in numbers[:position] if n.end <= number.start and n.end > a]
        following = [n for n in numbers[position + 1 :] if n.start < b]
        before = plain[prior[-1].end if prior else a : number.start]
        after = plain[number.end : following[0].start if following else b]
        header_cell, unit = "", number.unit
        if segment.is_row:
            header_cell = _header_cell(segment, clause)
            row_label = _row_label(plain, segment, clause, has_claims)
            before = f"{row_label} {header_cell} {before}"
            if unit.label is None:
                unit = _header_unit(f"{row_label} {header_cell}") or unit
        words = respectively.get(position) or wording(before, after)
        if words.kinds is None and words.derived is None and previous_named and is_qualifier_only(before):
            words = wording(previous_named + " " + before, after)
        if unit.base == "ratio" and (_RATIO_OF.search(before) or _RATIO_AFTER.match(after)):
            words = Wording(frozenset({"ratio_of"}), "ratio", words.named)
        if words.kinds is None and words.derived is None:
            words = _clause_derivation(plain[a : number.start]) or words
        previous_named = words.named if words.kinds and words.derived is None and words.named else previous_named
        claims.append(Claim(
            number.start, number.end, text[number.start : number.end].rstrip(), number.value, number.decimals,
            number.signed, unit, _approx(plain[max(a, number.start - 12) : number.start], after),
            _cites(number.start, clause, segment, groups, has_claims, starts), words,
            _date_for(number, segment, (a, b), dates, header_cell, plain), index, clause,
            _named_fields(plain[segment.start : number.start]) if words.derived else (),
        ))  # fmt: skip
    return claims


def _named_fields(head: str) -> tuple[frozenset[str], ...]:
    """The fields named in `head`, in order, each read with the qualifiers written since the previous one."""
    found, since = [], 0
    spans = metric_spans(head)
    for index, span in enumerate(spans):
        until = spans[index + 1].start if index + 1 < len(spans) else len(head)
        words = wording(head[since:until])
        since = span.end
        if words.derived is None and words.kinds:
            found.append(words.kinds)
    return tuple(found)


def _clause_derivation(head: str) -> Wording | None:
    """'the spread between A (…) and B (…) was 1,367.90': a number naming nothing, after a derived word earlier in
    its clause, is that derivation of the numbers beside it."""
    for span in metric_spans(head):
        found = wording(head[span.start : span.end])
        if found.derived is not None:
            return Wording(None, found.derived, found.named, found.falling)
    return None


def _respectively(plain: str, segment: Segment, numbers: list[_Number]) -> dict[int, Wording]:
    """'PE、PB 分别为 24.16 倍、9.38 倍': the n-th metric named before the numbers goes with the n-th number."""
    text = plain[segment.start : segment.end]
    if not _RESPECTIVELY.search(text) or len(numbers) < 2:
        return {}
    head = plain[segment.start : numbers[0].start]
    spans = metric_spans(head)
    if len(spans) < 2:
        return {}
    bounds = [s.start for s in spans] + [len(head)]
    return {i: wording(head[bounds[i] : bounds[i + 1]]) for i in range(min(len(spans), len(numbers)))}


def _header_cell(segment: Segment, cell: int) -> str:
    header = segment.header or []
    offset = len(header) - len(segment.cells)
    at = cell + offset if offset >= 0 else cell
    return header[at] if 0 <= at < len(header) else ""


def _row_label(plain: str, segment: Segment, cell: int, has_claims: set[int]) -> str:
    """A row's first cell that states no number names what the row's numbers are."""
    for index, (a, b) in enumerate(segment.cells):
        if index != cell and index not in has_claims and plain[a:b].strip():
            return plain[a:b].strip()
    return ""


def _header_unit(text: str) -> ReplyUnit | None:
    for match in _HEADER_UNIT.finditer(text):
        inner = match.group(1).strip()
        unit, end = parse_unit(inner, 0)
        if unit.label is not None and end == len(inner):
            return unit
    return None
