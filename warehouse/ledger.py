"""The ledger of answers: every successful tool answer, as served, under its tool_call_id.

It is what makes a citation checkable: a reply's `[tc_…]` is looked up here and its numbers
compared with what the tool really answered (citation.verifier). Entries belong to their
caller (a key's user, or the local operator over stdio); a caller reads only their own.

A tool answer must not wait on a write, so entries are buffered and written in batches by the
server's background loop (every FLUSH_EVERY seconds) and when it stops; a read flushes first, so
an answer is in the ledger from the moment it was served. Entries older than the retention are
pruned by the same loop once a day.

The ledger is its own SQLite file beside the warehouse, not a DuckDB table: it is appended to
on every call and read one tool_call_id at a time, which is SQLite's work, and SQLite's page
cache is bounded. In the warehouse each answer stayed in DuckDB's memory (about 3.5 MiB more
per 2,000 answers, for as long as the server ran). A ledger a release before kept in the
warehouse is moved here when the server opens it (`adopt`).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from warehouse.store import Warehouse, utc_aware, utc_naive

FLUSH_EVERY = 0.5  # seconds between ledger writes
LOCAL_OPERATOR = "operator:local"  # who calls over stdio (no key)
_COLUMNS = "tool_call_id, caller, tool, arguments, answer, recorded_at, server_version"


def caller_of_user(user: str) -> str:
    """The ledger's name for a key's user (never equal to LOCAL_OPERATOR, whatever the user is called)."""
    return f"user:{user}"


@dataclass(frozen=True, slots=True)
class Entry:
    tool_call_id: str
    caller: str
    tool: str
    arguments: dict[str, Any]
    answer: dict[str, Any]
    recorded_at: dt.datetime  # aware, UTC
    server_version: str

    def as_dict(self) -> dict[str, Any]:
        return {"tool_call_id": self.tool_call_id, "caller": self.caller, "tool": self.tool,
                "arguments": self.arguments, "answer": self.answer,
                "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
                "server_version": self.server_version}  # fmt: skip


_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS answer_ledger (
        tool_call_id TEXT PRIMARY KEY, caller TEXT NOT NULL, tool TEXT NOT NULL, arguments TEXT NOT NULL,
        answer TEXT NOT NULL, recorded_at TEXT NOT NULL, server_version TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS answer_ledger_recorded_at ON answer_ledger (recorded_at)",
)
_CACHE_KIB = 2048  # SQLite's page cache for the ledger: all the memory it holds, however long it runs
_ADOPT_BATCH = 500  # rows moved at a time from a warehouse's old ledger table


def _stamp(when: dt.datetime) -> str:
    """A time as the ledger stores it: UTC, ISO text (which sorts as the times do)."""
    return utc_naive(when).isoformat(sep=" ")


class Ledger:
    def __init__(self, path: Path, retention_days: int) -> None:
        self.path = path
        self._retention = dt.timedelta(days=retention_days)
        self._pending: list[list[Any]] = []
        self._lock = threading.Lock()  # the buffer
        self._db_lock = threading.Lock()  # the connection: one, shared by the serving threads
        fresh = not path.exists()
        self._con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if fresh:
            os.chmod(path, 0o600)  # answers are the callers' own
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", f"cache_size=-{_CACHE_KIB}", "busy_timeout=5000"):
            self._con.execute(f"PRAGMA {pragma}")
        for statement in _SCHEMA:
            self._con.execute(statement)

    def close(self) -> None:
        self.flush()
        with self._db_lock:
            self._con.close()

    def record(self, entry: Entry, answer_json: str) -> None:
        """Buffer one answer, given as served (`answer_json`: the text the caller got): no I/O and no
        second serialization, as this is on every tool call's path."""
        row = [entry.tool_call_id, entry.caller, entry.tool, json.dumps(entry.arguments, ensure_ascii=False),
               answer_json, _stamp(entry.recorded_at), entry.server_version]  # fmt: skip
        with self._lock:
            self._pending.append(row)

    def flush(self) -> int:
        """Write the buffered entries in one transaction (blocking); how many were written."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            self._write(f"INSERT OR IGNORE INTO answer_ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        except Exception:
            with self._lock:  # kept for the next flush
                self._pending[:0] = batch
            raise
        return len(batch)

    def _write(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        with self._db_lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                changed = self._con.executemany(sql, rows).rowcount
                self._con.execute("COMMIT")
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
        return changed

    def entries(self, ids: Sequence[str], caller: str | None) -> dict[str, Entry]:
        """The entries among `ids` that `caller` made (any caller's when None: operators only)."""
        if not ids:
            return {}
        self.flush()
        marks = ", ".join("?" for _ in ids)
        sql = f"SELECT {_COLUMNS} FROM answer_ledger WHERE tool_call_id IN ({marks})"
        params: list[Any] = list(ids)
        if caller is not None:
            sql += " AND caller = ?"
            params.append(caller)
        with self._db_lock:
            rows = self._con.execute(sql, params).fetchall()
        found: dict[str, Entry] = {}
        for tc, who, tool, arguments, answer, recorded, version in rows:
            when = utc_aware(dt.datetime.fromisoformat(recorded))
            found[tc] = Entry(tc, who, tool, json.loads(arguments), json.loads(answer), when, version)
        return found

    def prune(self, now: dt.datetime) -> int:
        """Drop the entries older than the retention; how many went."""
        self.flush()
        return self._write("DELETE FROM answer_ledger WHERE recorded_at < ?", [[_stamp(now - self._retention)]])

    def adopt(self, store: Warehouse) -> int:
        """Move the ledger an earlier release kept in the warehouse (table answer_ledger) into this
        file, then drop that table; how many entries came. A batch at a time, so that a year of
        answers never sits in memory at once; an entry already here is kept as it is."""
        if store.read_only or not store.query(
            "SELECT 1 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'answer_ledger'"
        ):
            return 0
        moved = 0
        cursor = store.cursor().execute(f"SELECT {_COLUMNS} FROM answer_ledger ORDER BY recorded_at")
        while batch := cursor.fetchmany(_ADOPT_BATCH):
            rows = [[*row[:5], _stamp(utc_aware(row[5])), row[6]] for row in batch]
            moved += self._write(f"INSERT OR IGNORE INTO answer_ledger ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                 rows)  # fmt: skip

        def drop(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            cur.execute("DROP TABLE answer_ledger")
            return ()  # no table the warehouse declares: nothing of its memo to forget

        store.write(drop)
        return moved
