"""Whether anyone has written to the accounts database since a given moment, without a query.

Checking a bearer key is a database read on every request (0.5 ms on SQLite through SQLAlchemy,
a third of a cached answer's time). A key's owner changes only when a row of the accounts does,
and SQLite says exactly when that happened: `PRAGMA data_version` on a connection of our own
changes whenever any other connection, of any process (the CLI revoking a key, the server
logging usage), commits. So an owner read once holds until the next commit anywhere, and a
revocation takes effect on the very next request. Other databases have no such signal: their
keys are read on every request.
"""

from __future__ import annotations

import sqlite3
import threading
from itertools import count

from sqlalchemy.engine import Engine

_BUSY = count(-1, -1)  # a mark nothing matches: when the file cannot be read, nothing cached holds


class ChangeMark:
    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0, check_same_thread=False)
        self._lock = threading.Lock()

    @classmethod
    def of(cls, engine: Engine) -> ChangeMark | None:
        """The mark of a SQLite file; None for any other database (or SQLite in memory)."""
        database = engine.url.database
        if engine.dialect.name != "sqlite" or not database or database == ":memory:":
            return None
        return cls(database)

    def now(self) -> int:
        """A number that stays the same until someone else commits (microseconds: one pragma)."""
        with self._lock:
            try:
                return int(self._connection.execute("PRAGMA data_version").fetchone()[0])
            except sqlite3.Error:
                return next(_BUSY)

    def close(self) -> None:
        self._connection.close()
