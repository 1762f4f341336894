"""Loads that a question has answered from but that have not committed yet, and the readers that wait.

A cold question answers from the rows it fetched and lands them after (`Warehouse.write_behind`),
so the writer is not on its path. Until they commit, a read of the same tables about the same code
waits for them: no reader ever sees the store without rows a question has already quoted.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable

ANY = "*"  # a scope that concerns every code (a whole-market load), or a reader of every code


class PendingLandings:
    def __init__(self) -> None:
        self._pending: Counter[tuple[str, str]] = Counter()
        self._changed = threading.Condition()

    def __bool__(self) -> bool:
        return bool(self._pending)  # read without the lock: a stale answer only skips a wait that found nothing

    def add(self, tables: Iterable[str], scope: str) -> list[tuple[str, str]]:
        keys = [(table, scope) for table in tables]
        with self._changed:
            self._pending.update(keys)
        return keys

    def done(self, keys: list[tuple[str, str]]) -> None:
        with self._changed:
            self._pending.subtract(keys)
            self._pending = +self._pending  # drop the zeros
            self._changed.notify_all()

    def wait(self, tables: Iterable[str], scope: str | None, timeout: float = 30.0) -> None:
        """Until no load of `tables` about `scope` (every scope when None) is pending."""
        wanted = set(tables)

        def clear() -> bool:
            return not any(
                table in wanted and (scope is None or scope == ANY or pending in (scope, ANY))
                for table, pending in self._pending
            )

        with self._changed:
            self._changed.wait_for(clear, timeout)

    def drain(self, timeout: float = 30.0) -> None:
        """Until every pending load has committed (or failed): before the file is closed."""
        with self._changed:
            self._changed.wait_for(lambda: not self._pending, timeout)
