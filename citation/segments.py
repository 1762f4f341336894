"""Where a reply's sentences, clauses, table rows and cited ids are.

A claim cites the ids written beside it: in its sentence or its table row, never a table's
header. Text is normalized first (full-width digits and punctuation, the minus sign) without
changing its length, so every offset found here is an offset into the reply as written.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

_FULL = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FULL.update({0x3000: 0x20, 0x00A0: 0x20, 0x2212: 0x2D, 0xFE63: 0x2D, 0x2009: 0x20, 0x202F: 0x20})
_KEEP = {0xFF0C: 0xFF0C, 0xFF1B: 0xFF1B}  # '，' and '；' stay: they separate clauses and sentences
_FULL.update(_KEEP)
_FULL_GROUPING = re.compile(r"(?<=[０-９])，(?=[０-９]{3}(?![０-９]))")


def normalize(text: str) -> str:
    """Half-width digits, punctuation and minus signs, offset for offset ('１，５２０．００' -> '1,520.00')."""
    grouped = _FULL_GROUPING.sub(",", text) if "，" in text else text
    return grouped.translate(_FULL)


TC_ID = re.compile(r"(?<![A-Za-z0-9_])tc_[0-9A-Za-z]+")
WELL_FORMED = re.compile(r"tc_[0-9a-f]{16}")
_GROUP_GAP = re.compile(
    r"^[\s\[\]()【】`'\"<>,，、;；/&+|:：]*(?:(?:and|和|及|与|cite[sd]?|来源|source)[\s:：]*)?[\s\[\]()【】`,，、;；:：]*$",
    re.I,
)


@dataclass(frozen=True, slots=True)
class IdGroup:
    """Ids written together ("[tc_a][tc_b]", "(tc_a, tc_b)"): one citation of several answers."""

    start: int
    end: int
    ids: tuple[str, ...]


def id_groups(text: str) -> list[IdGroup]:
    groups: list[IdGroup] = []
    for match in TC_ID.finditer(text):
        tc = match.group(0).lower()
        if groups and _GROUP_GAP.match(text[groups[-1].end : match.start()]):
            last = groups[-1]
            ids = last.ids if tc in last.ids else (*last.ids, tc)
            groups[-1] = IdGroup(last.start, match.end(), ids)
        else:
            groups.append(IdGroup(match.start(), match.end(), (tc,)))
    return groups


@dataclass(slots=True)
class Segment:
    """A sentence or a table row, with its clauses (a row's clauses are its cells)."""

    start: int
    end: int
    clauses: list[tuple[int, int]]
    line: int
    header: list[str] | None = None  # a table row: its table's header cells (None outside tables)
    cells: list[tuple[int, int]] = field(default_factory=list)
    lead: tuple[int, int] | None = None  # a list item: the lead-in line ("据 [tc_a]：") the list hangs from

    @property
    def is_row(self) -> bool:
        return bool(self.cells)


_SEPARATOR_CELL = re.compile(r"^\s*:?-{2,}:?\s*$")
_SENTENCE_END = re.compile(r"[。！？!?；;]+|\.(?=\s|$)|\n")
_ABBREVIATIONS = ("vs", "e.g", "i.e", "etc", "approx", "no", "inc", "co", "ltd", "avg", "est", "jan", "feb", "mar",
                  "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "adj")  # fmt: skip
_CLAUSE_END = re.compile(r"，|,(?!\d{3}(?!\d))")


def _cells(line: str, offset: int) -> list[tuple[int, int]]:
    bounds = [i for i, c in enumerate(line) if c == "|" and (i == 0 or line[i - 1] != "\\")]
    stripped = line.strip()
    if not stripped.startswith("|"):
        bounds = [-1, *bounds]
    if not stripped.endswith("|"):
        bounds.append(len(line))
    return [(offset + a + 1, offset + b) for a, b in itertools.pairwise(bounds)]


def _is_table_line(line: str) -> bool:
    stripped = line.strip()
    return stripped.startswith("|") and stripped.count("|") >= 2


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    found, begin = [], start
    for match in _CLAUSE_END.finditer(text, start, end):
        found.append((begin, match.start()))
        begin = match.end()
    found.append((begin, end))
    return [c for c in found if c[1] > c[0]]


_WORDLESS = re.compile(r"^[\s\[\]()【】`'\"<>,，、;；.。:：!！?？]*$")


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentences of one line; one holding nothing but brackets (ids are blanked) belongs to the one before it,
    so that "收盘 1,500.10 元。[tc_a]" cites."""
    found: list[tuple[int, int]] = []
    begin = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.group(0) == ".":
            word = re.search(r"([A-Za-z.]+)$", text[begin : match.start()])
            if word and word.group(1).lower() in _ABBREVIATIONS:
                continue
        found.append((begin, match.end()))
        begin = match.end()
    found.append((begin, end))
    merged: list[tuple[int, int]] = []
    for a, b in found:
        if not text[a:b].strip():
            continue
        if merged and _WORDLESS.match(text[a:b]):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,2}[.)、]|\(\d{1,2}\)|[①-⑳])\s*")
_LEAD_IN = re.compile(r"[:：]\s*$")


def segments(text: str) -> list[Segment]:
    """Sentences and table rows in order; a table's header row and separator row are not segments."""
    found: list[Segment] = []
    lines = text.split("\n")
    offsets, at = [], 0
    for line in lines:
        offsets.append(at)
        at += len(line) + 1
    header: list[str] | None = None
    lead: tuple[int, int] | None = None
    for number, line in enumerate(lines):
        offset = offsets[number]
        if not _is_table_line(line):
            header = None
            item = bool(_LIST_ITEM.match(line))
            lead = lead if item else None
            for a, b in _sentences(text, offset, offset + len(line)):
                found.append(Segment(a, b, _clauses(text, a, b), number, lead=lead if item else None))
            if not item and _LEAD_IN.search(line):
                lead = (offset, offset + len(line))
            continue
        lead = None
        cells = _cells(line, offset)
        if all(_SEPARATOR_CELL.match(text[a:b]) for a, b in cells):
            continue
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if _is_table_line(following) and all(_SEPARATOR_CELL.match(c) for c in following.strip().strip("|").split("|")):
            header = [text[a:b] for a, b in cells]
            continue
        found.append(Segment(offset, offset + len(line), cells, number, header, cells))
    return found
