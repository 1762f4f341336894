"""The catalog of tushare's interfaces (catalog.json, built by `catalog_build` from tushare's docs).

It is what lets an agent reach an interface no dataset module declares: find it (`search`), read
its parameters and fields (`get`), and have a call checked against them (`checked`) before it
costs an upstream request, so that a misspelt name or parameter is our clear PARAMETER error and
not tushare's terse one. The file is read on first use only: most servers never open it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from providers.models import SHANGHAI
from providers.symbols import InvalidArgument, quoted

# Pagination is asked by us (`providers.tushare.adhoc`), unless an interface names these as its own.
PAGING = ("limit", "offset")
# English words an agent may search with, and the words tushare's titles and descriptions use.
GLOSSARY: dict[str, tuple[str, ...]] = {
    "calendar": ("日历",), "dividend": ("分红", "送股"), "holder": ("股东",), "holders": ("股东",),
    "fund": ("基金",), "index": ("指数",), "bond": ("债券",), "convertible": ("可转债",), "future": ("期货",),
    "futures": ("期货",), "option": ("期权",), "options": ("期权",), "macro": ("宏观",), "money": ("货币", "资金"),
    "flow": ("资金流",), "moneyflow": ("资金流",), "news": ("新闻", "资讯"), "announcement": ("公告",),
    "margin": ("融资融券", "两融"), "valuation": ("估值", "市盈率"), "income": ("利润表",),
    "balance": ("资产负债",), "cashflow": ("现金流量",), "forecast": ("业绩预告",), "express": ("业绩快报",),
    "industry": ("行业",), "concept": ("概念",), "minute": ("分钟",), "daily": ("日线", "每日"), "weekly": ("周线",),
    "monthly": ("月线",), "hk": ("港股",), "us": ("美股",), "rate": ("利率",), "interest": ("利率",),
    "pe": ("市盈率",), "pb": ("市净率",), "turnover": ("换手率",), "block": ("大宗交易",), "suspend": ("停复牌",),
    "repurchase": ("回购",), "pledge": ("质押",), "price": ("价格", "行情"), "quote": ("行情",), "forex": ("外汇",),
    "fx": ("外汇",), "spot": ("现货",), "gold": ("黄金",), "research": ("研报", "研究"), "report": ("报告", "研报"),
    "northbound": ("沪深港通", "北向"), "shares": ("股本",), "limit": ("涨跌停", "涨停"), "adjust": ("复权",),
    "members": ("成分",), "constituents": ("成分",), "weight": ("权重",), "basic": ("基础", "基本"),
}  # fmt: skip
# The docs' unit words as the canonical unit names of citation.scales.TOOL_UNITS; others are served as written.
CANONICAL = {
    "%": "percent", "元": "CNY", "千元": "thousand_CNY", "万元": "ten_thousand_CNY", "亿元": "hundred_million_CNY",
    "元/股": "CNY_per_share", "手": "lots_100shares", "股": "shares", "万股": "ten_thousand_shares",
    "倍": "ratio", "美元": "USD", "港元": "HKD",
}  # fmt: skip
_TERMS = re.compile(r"[A-Za-z0-9_.]+|[^\sA-Za-z0-9_.,，、;；。:：/]+")
_SCALARS: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "number": (int, float)}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: str  # as the docs write it: str, int, float, datetime (a few pages leave it out)
    required: bool  # as the docs mark it ("Y"); some of them mean one of two, as their words say
    description: str


@dataclass(frozen=True, slots=True)
class OutField:
    name: str
    type: str
    default: bool  # answered when no `fields` are asked for
    description: str
    unit: str | None  # as the description states it (万元, 千元, %, 手 ...), else None


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    doc_id: int | None
    title: str
    category: str
    description: str
    points: int | None  # the least points (积分) the docs name for it, None where they name none
    permission: str | None  # the docs' own sentence about points or permission
    row_cap: int | None  # rows per request, where the docs state it
    params: tuple[Param, ...] | None  # None: tushare's index lists it, the scraped docs do not
    fields: tuple[OutField, ...] | None
    also_doc_ids: tuple[int, ...] = ()

    @property
    def doc_url(self) -> str | None:
        return f"https://tushare.pro/document/2?doc_id={self.doc_id}" if self.doc_id is not None else None

    @property
    def documented(self) -> bool:
        return self.params is not None

    def words(self) -> str:
        """What a search reads of it, weighted by where a word is found (see `Catalog.search`)."""
        fields = " ".join(f"{f.name} {f.description}" for f in self.fields or ())
        params = " ".join(f"{p.name} {p.description}" for p in self.params or ())
        return f"{params} {fields}".lower()

    def unit(self, field: str) -> str | None:
        return next((f.unit for f in self.fields or () if f.name == field), None)


@dataclass(frozen=True)
class Catalog:
    interfaces: dict[str, Interface]
    sources: tuple[dict[str, str], ...]
    crawled: dt.datetime  # when the newest documentation page was scraped (the catalog's "fetched at")

    @property
    def provenance(self) -> str:
        return "; ".join(f"{s['repo']}@{s['commit'][:12]}:{s['path']}" for s in self.sources)

    def get(self, name: object) -> Interface:
        """The interface named `name`, or a PARAMETER error naming the closest names."""
        key = str(name).strip().lower() if isinstance(name, str) else ""
        found = self.interfaces.get(key)
        if found is not None:
            return found
        close = difflib.get_close_matches(key, list(self.interfaces), n=5, cutoff=0.6)
        close += [n for n in self.interfaces if key and key in n and n not in close][: 5 - len(close)]
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise InvalidArgument(
            "api_name",
            f"tushare has no interface {quoted(name)} in the catalog",
            f"{hint}find interfaces with tushare_catalog(query), e.g. tushare_catalog('日线') or ('daily')",
        )

    def search(self, query: str) -> list[Interface]:
        """Interfaces matching every word of `query`, best first: a word in the name counts most, then
        the title, category and description, then a parameter or field (市盈率 finds daily_basic)."""
        terms = [t.lower() for t in _TERMS.findall(query)]
        scored: list[tuple[float, str]] = []
        for item, head, deep in self._haystacks:
            total = 0.0
            for term in terms:
                variants = (term, *GLOSSARY.get(term, ()))
                score = max(_score(v, term, head, deep) for v in variants)
                if score == 0:
                    break
                total += score
            else:
                scored.append((-total, item.name))
        return [self.interfaces[name] for _, name in sorted(scored)]

    @functools.cached_property
    def _haystacks(self) -> list[tuple[Interface, tuple[str, str, str, str], str]]:
        """Each interface's words as a search reads them, lowered once per process."""
        return [(i, (i.name, i.title.lower(), i.category.lower(), i.description.lower()), i.words())
                for i in self.interfaces.values()]  # fmt: skip

    def categories(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for item in self.interfaces.values():
            out.setdefault(item.category.split(",")[0] or "其他 (not in tushare's index)", []).append(item.name)
        return out


def _score(variant: str, term: str, head: tuple[str, str, str, str], deep: str) -> float:
    name, title, category, description = head
    if variant == name:
        return 10.0
    weight = 1.0 if variant == term else 0.8  # a glossary word counts a little less than the word itself
    for where, points in ((name, 5.0), (title, 4.0), (category, 2.0), (description, 2.0), (deep, 1.0)):
        if variant in where:
            return points * weight
    return 0.0


def checked(item: Interface, params: object, fields: object) -> tuple[dict[str, Any], list[str] | None]:
    """`params` and `fields` as tushare will be asked them, or a PARAMETER error that lists the valid ones.

    A date parameter sent as a number (20240102, as some clients send it) is passed as its digits;
    any other value of the wrong type is refused. An interface only in tushare's index (no
    parameter table) is asked with any names, its values still plain scalars.
    """
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise InvalidArgument("params", "params must be an object of parameter names to values",
                              'e.g. {"ts_code": "600519.SH", "start_date": "20240101"}')  # fmt: skip
    known = {p.name: p for p in item.params} if item.params is not None else None
    out: dict[str, Any] = {}
    for name, value in params.items():
        if known is not None and name not in known:
            own = ", ".join(known) or "none"
            extra = " (pages are asked for you: leave limit and offset out)" if name in PAGING else ""
            raise InvalidArgument("params", f"{item.name} has no parameter {quoted(name)}{extra}",
                                  f"its parameters: {own}; see tushare_describe('{item.name}')")  # fmt: skip
        if value is None:
            continue
        out[name] = _value(item, name, value, known[name].type if known is not None else "")
    return out, _fields(item, fields)


def _value(item: Interface, name: str, value: object, kind: str) -> Any:
    wrong = f"{item.name}'s {name} is a {kind or 'scalar'}, not {quoted(value)}"
    remedy = f"see tushare_describe('{item.name}') for each parameter's type"
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidArgument("params", wrong, remedy)
    if kind in _SCALARS:
        if not isinstance(value, _SCALARS[kind]):
            raise InvalidArgument("params", wrong, remedy)
        return value
    if kind in ("str", "datetime") and not isinstance(value, str):
        if isinstance(value, float):
            raise InvalidArgument("params", wrong, remedy)
        return str(value)
    return value


def _fields(item: Interface, fields: object) -> list[str] | None:
    if fields is None:
        return None
    names = [f.strip() for f in fields.split(",")] if isinstance(fields, str) else fields
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise InvalidArgument("fields", "fields must be a list of field names (or one comma-separated string)",
                              f"see tushare_describe('{item.name}') for its fields")  # fmt: skip
    if item.fields is not None:
        valid = [f.name for f in item.fields]
        unknown = [n for n in names if n not in valid]
        if unknown:
            raise InvalidArgument("fields", f"{item.name} has no field {', '.join(map(quoted, unknown))}",
                                  f"its fields: {', '.join(valid)}")  # fmt: skip
    return list(dict.fromkeys(names))


def _interface(raw: dict[str, Any]) -> Interface:
    params = raw["params"]
    fields = raw["fields"]
    return Interface(
        name=raw["name"],
        doc_id=raw["doc_id"],
        title=raw["title"],
        category=raw["category"],
        description=raw["description"],
        points=raw["points"],
        permission=raw["permission"],
        row_cap=raw["row_cap"],
        params=None if params is None else tuple(Param(*p) for p in params),
        fields=None if fields is None else tuple(OutField(*f) for f in fields),
        also_doc_ids=tuple(raw.get("also_doc_ids") or ()),
    )


@functools.cache
def load() -> Catalog:
    """The shipped catalog, parsed once per process on first use."""
    text = resources.files("providers.tushare").joinpath("catalog.json").read_text(encoding="utf-8")
    data = json.loads(text)
    interfaces = {raw["name"]: _interface(raw) for raw in data["interfaces"]}
    crawled = dt.datetime.fromisoformat(data["crawled"]).replace(tzinfo=SHANGHAI)
    return Catalog(interfaces, tuple(data["sources"]), crawled)
