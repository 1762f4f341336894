"""What a dataset declaration is: typed columns with their units, key, dates, load rule and markets.

A dataset used to be written five times (the spec, the unit table, the DDL, the SELECTs, the
positional constructors), and the copies drifted. Now `providers.models` declares each dataset
once with these classes, and everything else is derived from the declaration: the `norm_*` DDL
and its migrations (`warehouse.schema`), the column lists and rows by name (`warehouse.pointintime`),
typing on arrival (`providers.contract.conform`) and the claims a tool answers (`mcp_server.claims`).

Units are the tools' canonical unit names (`citation.scales.TOOL_UNITS`), so that a claim's unit
is one the verifier can measure; `providers.units` checks the arithmetic they must satisfy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["text", "date", "number", "flag"]
Rule = Literal["merge", "replace", "append"]
SQL_TYPES: dict[str, str] = {"text": "VARCHAR", "date": "DATE", "number": "DOUBLE", "flag": "BOOLEAN"}


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind = "number"
    unit: str | None = None  # a canonical unit name (numbers only)
    claim: bool = True  # a number a claims tool answers (False: context, such as daily_basic's close)

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.kind]


def text(name: str) -> Column:
    return Column(name, "text")


def day(name: str) -> Column:
    return Column(name, "date")


def number(name: str, unit: str, *, claim: bool = True) -> Column:
    return Column(name, "number", unit, claim)


@dataclass(frozen=True, slots=True)
class Dataset:
    """One dataset as providers hand it over, the store keeps it and the tools answer it.

    `date` is the column a row is of (a trade date, a report period end); `ann_date` the column
    saying when a row became public, where the dataset has one: point in time reads by it.
    The store adds `source` and `fetched_at` to every table.
    """

    name: str
    fields: tuple[Column, ...]
    key: tuple[str, ...]  # what identifies a row (never empty); the store adds `source`
    date: str | None = None
    ann_date: str | None = None
    rule: Rule = "merge"  # "replace": a whole-market load replaces every row of its source
    markets: frozenset[str] = frozenset({"cn"})
    title: str = ""  # what answers and errors call it ("financial indicators"); default: the name
    stored: bool = True  # False: no `norm_*` table (web search answers are kept whole, by question)
    columns: tuple[str, ...] = field(init=False)  # the column names, in the declared order
    dates: tuple[str, ...] = field(init=False)  # columns typed as dates
    numbers: tuple[str, ...] = field(init=False)  # columns typed as float64 (NaN for missing)
    units: dict[str, str] = field(init=False)  # claim column -> unit, in the declared order

    def __post_init__(self) -> None:
        names = tuple(c.name for c in self.fields)
        for wanted in (*self.key, self.date, self.ann_date):
            if wanted is not None and wanted not in names:
                raise ValueError(f"dataset {self.name} names {wanted!r}, which is not one of its columns")
        if any(c.kind == "number" and c.unit is None for c in self.fields):
            raise ValueError(f"dataset {self.name} has a number without a unit")
        object.__setattr__(self, "columns", names)
        object.__setattr__(self, "title", self.title or self.name)
        object.__setattr__(self, "dates", tuple(c.name for c in self.fields if c.kind == "date"))
        object.__setattr__(self, "numbers", tuple(c.name for c in self.fields if c.kind == "number"))
        units = {c.name: c.unit for c in self.fields if c.kind == "number" and c.claim and c.unit}
        object.__setattr__(self, "units", units)

    @property
    def table(self) -> str:
        return f"norm_{self.name}"

    @property
    def scope(self) -> str:
        """The column a question names (a code, an exchange, an indicator): the key's first."""
        return self.key[0]

    @property
    def known_by(self) -> str | None:
        """The column point in time goes by: the announcement date where there is one."""
        return self.ann_date or self.date

    def ddl(self) -> str:
        typed = ", ".join(f"{c.name} {c.sql_type}" for c in self.fields)
        return f"CREATE TABLE IF NOT EXISTS {self.table} ({typed}, source VARCHAR, fetched_at TIMESTAMP)"
