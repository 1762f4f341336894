"""How a query finds a name: by code, whole name, its start, a part, its characters in order, or initials.

People name a company the way they say it: 茅台 (a part of 贵州茅台), 招行 (招…行 of 招商银行, its
characters in order), gzmt (the pinyin initials tushare gives as `cnspell`), 600519. The kinds
rank in that order of certainty: a code or the whole name is what was meant; a name that starts
with the query beats one that holds it; characters in order (an abbreviation) can match by
chance, initials more so. Within a kind the closer fit first: fewer characters beyond the query
(贵州茅台 before 贵州茅台酒业), a tighter span for characters in order, then stocks before indexes
and funds, then the code. Names are compared after NFKC (万科Ａ is 万科A) and casefolding, and
without the exchange's markers of the day (XD: ex-dividend, XR, DR), which come and go.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from warehouse.listing import Named

MatchKind = Literal["code", "exact", "prefix", "substring", "subsequence", "initials"]
KINDS: tuple[MatchKind, ...] = ("code", "exact", "prefix", "substring", "subsequence", "initials")
_MARKERS = re.compile(r"^(XD|XR|DR)")
_KIND_ORDER = {"stock": 0, "index": 1, "fund": 2}


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Named
    kind: MatchKind
    rank: tuple[int, int, int, int, str]


def plain(text: str) -> str:
    """A name or query as compared: NFKC, casefolded, without spaces."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _bare(name: str) -> str:
    return _MARKERS.sub("", unicodedata.normalize("NFKC", name)).casefold().replace(" ", "")


def _span(query: str, name: str) -> int | None:
    """The length of the shortest stretch of `name` holding `query`'s characters in order (None: it holds none)."""
    best: int | None = None
    for start, char in enumerate(name):
        if char != query[0]:
            continue
        at = start
        for wanted in query[1:]:
            at = name.find(wanted, at + 1)
            if at < 0:
                return best
        best = min(best, at - start + 1) if best is not None else at - start + 1
    return best


def _kind(query: str, entry: Named, codes: frozenset[str]) -> tuple[MatchKind, int] | None:
    """The best way `query` names `entry`, and how loosely (0: tightest)."""
    if entry.ts_code in codes:
        return "code", 0
    name = _bare(entry.name)
    extra = len(name) - len(query)
    if name == query:
        return "exact", 0
    if name.startswith(query):
        return "prefix", extra
    if query in name:
        return "substring", extra
    if len(query) > 1 and not query.isascii():
        span = _span(query, name)
        if span is not None:
            return "subsequence", span - len(query)
    spell = (entry.spell or "").casefold()
    if query.isascii() and query.isalnum() and spell.startswith(query):
        return "initials", len(spell) - len(query)
    return None


def rank(query: str, entries: Iterable[Named], codes: frozenset[str] = frozenset()) -> list[Hit]:
    """Every entry the query names, best first; `codes`: ts_codes the query is read as."""
    wanted = plain(query)
    hits = []
    for entry in entries:
        found = _kind(wanted, entry, codes)
        if found is None:
            continue
        kind, loose = found
        order = (KINDS.index(kind), loose, len(entry.name), _KIND_ORDER.get(entry.kind, 9), entry.ts_code)
        hits.append(Hit(entry, kind, order))
    return sorted(hits, key=lambda h: h.rank)
