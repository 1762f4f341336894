"""The ledger of answers: every successful tool answer, as served, under its tool_call_id.

It is what makes a citation checkable: a reply's `[tc_…]` is looked up here and its numbers
compared with what the tool really answered (citation.verifier). Entries belong to their
caller (a key's user, or the local operator over stdio); a caller reads only their own.

A tool answer must not wait on a warehouse write, so entries are buffered and written in
batches by the server's background loop (every FLUSH_EVERY seconds) and when it stops; a
read flushes first, so an answer is in the ledger from the moment it was served. Entries
older than the retention are pruned by the same loop once a day.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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


class Ledger:
    def __init__(self, store: Warehouse, retention_days: int) -> None:
        self._store = store
        self._retention = dt.timedelta(days=retention_days)
        self._pending: list[list[Any]] = []
        self._lock = threading.Lock()

    def record(self, entry: Entry, answer_json: str) -> None:
        """Buffer one answer, given as served (`answer_json`: the text the caller got): no I/O and no
        second serialization, as this is on every tool call's path."""
        row = [entry.tool_call_id, entry.caller, entry.tool, json.dumps(entry.arguments, ensure_ascii=False),
               answer_json, utc_naive(entry.recorded_at), entry.server_version]  # fmt: skip
        with self._lock:
            self._pending.append(row)

    def flush(self) -> int:
        """Write the buffered entries in one transaction (blocking); how many were written.

        One bulk insert of a frame: DuckDB's executemany costs about a millisecond a row, held
        against the serving threads."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        import pandas as pd  # here, not at module level: an idle server needs none (see providers/__init__)

        frame = pd.DataFrame(batch, columns=_COLUMNS.split(", "))

        def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            cur.register("ledger_batch", frame)
            try:
                cur.execute(f"INSERT INTO answer_ledger ({_COLUMNS}) SELECT {_COLUMNS} FROM ledger_batch")
            finally:
                cur.unregister("ledger_batch")
            return {"answer_ledger"}

        try:
            self._store.write(work)
        except Exception:
            with self._lock:  # kept for the next flush
                self._pending[:0] = batch
            raise
        return len(batch)

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
        found: dict[str, Entry] = {}
        for tc, who, tool, arguments, answer, recorded, version in self._store.query(sql, params):
            found[tc] = Entry(tc, who, tool, json.loads(arguments), json.loads(answer), utc_aware(recorded), version)
        return found

    def prune(self, now: dt.datetime) -> int:
        """Drop the entries older than the retention; how many went."""
        self.flush()
        cutoff = utc_naive(now - self._retention)
        gone: list[int] = []

        def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            row = cur.execute("DELETE FROM answer_ledger WHERE recorded_at < ? RETURNING 1", [cutoff]).fetchall()
            gone.append(len(row))
            return {"answer_ledger"}

        self._store.write(work)
        return gone[0]
