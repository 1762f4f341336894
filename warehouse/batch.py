"""What one transaction's loads add, written table by table once they are all in.

A DuckDB statement costs about a millisecond whatever its rows: a cold question's two loads
were a dozen statements, and 30 questions landing together 360. Staged here, the rows of
every load in the transaction go in as one statement per table, in the order they were staged,
so the store ends as it would have after the loads one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, TypeVar

import duckdb

T = TypeVar("T")
# DuckDB binds at most this many values in one statement; a larger stage is written in parts.
_MAX_VALUES = 30_000


class Batch:
    def __init__(self, cur: duckdb.DuckDBPyConnection, loads: int = 1) -> None:
        """`loads`: how many loads will ask `raw_id`, whose ids are then drawn in one statement."""
        self.cur = cur  # for statements that cannot wait (call `flush(table)` first if they touch staged rows)
        self._added: dict[tuple[str, tuple[str, ...]], list[Sequence[Any]]] = {}
        self._replaced: dict[tuple[str, tuple[str, ...], tuple[str, ...]], dict[tuple[Any, ...], Sequence[Any]]] = {}
        self._shared: dict[Hashable, Any] = {}
        self._last: list[Callable[[duckdb.DuckDBPyConnection], Iterable[str]]] = []
        self._ids: list[int] = []
        self._loads = max(1, loads)

    def raw_id(self) -> int:
        """An id for a raw payload, from raw_payload_ids as the column's default would take it."""
        if not self._ids:
            drawn = self.cur.execute("SELECT nextval('raw_payload_ids') FROM range(?)", [self._loads]).fetchall()
            self._ids = [int(i) for (i,) in reversed(drawn)]
        return self._ids.pop()

    def add(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Rows to append to `table`."""
        self._added.setdefault((table, tuple(columns)), []).extend(rows)

    def replace(self, table: str, key: Sequence[str], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Rows that replace the stored rows of their `key`; of two staged with one key, the later stands."""
        staged = self._replaced.setdefault((table, tuple(key), tuple(columns)), {})
        at = [columns.index(k) for k in key]
        for row in rows:
            k = tuple(row[i] for i in at)
            staged.pop(k, None)  # re-staged rows go last, as a later load's would land
            staged[k] = row

    def shared(self, key: Hashable, make: Callable[[], T]) -> T:
        """One value for every load in the transaction that asks by `key` (a tally, say)."""
        if key not in self._shared:
            self._shared[key] = make()
        value: T = self._shared[key]
        return value

    def last(self, work: Callable[[duckdb.DuckDBPyConnection], Iterable[str]]) -> None:
        """A statement to run once the staged rows are in (it returns the tables it wrote)."""
        self._last.append(work)

    def flush(self, table: str | None = None) -> set[str]:
        """Write what is staged (for `table`, or everything, then the `last` work); the tables written."""
        written: set[str] = set()
        for staged_key in [k for k in self._replaced if table in (None, k[0])]:
            name, key, columns = staged_key
            rows = list(self._replaced.pop(staged_key).values())
            at = [columns.index(k) for k in key]
            for part in _parts(rows, len(columns)):
                match = " OR ".join("(" + " AND ".join(f"{k} = ?" for k in key) + ")" for _ in part)
                self.cur.execute(f"DELETE FROM {name} WHERE {match}", [row[i] for row in part for i in at])
                _insert(self.cur, name, columns, part)
            written.add(name)
        for added_key in [k for k in self._added if table in (None, k[0])]:
            name, columns = added_key
            for part in _parts(self._added.pop(added_key), len(columns)):
                _insert(self.cur, name, columns, part)
            written.add(name)
        if table is None:
            while self._last:
                written.update(self._last.pop(0)(self.cur))
        return written


def _parts(rows: list[Sequence[Any]], width: int) -> Iterable[list[Sequence[Any]]]:
    size = max(1, _MAX_VALUES // max(1, width))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _insert(cur: duckdb.DuckDBPyConnection, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    marks = ", ".join("(" + ", ".join("?" for _ in columns) + ")" for _ in rows)
    cur.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {marks}", [v for row in rows for v in row])
