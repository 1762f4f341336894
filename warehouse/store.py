"""The warehouse file: one writer, many readers, in one process.

DuckDB lets one process hold a file read-write and no other process open it at all, so the
server owns it: writes go through `write` (one lock, one transaction each; what questions
answered before landing goes through the store's own writer thread, `write_behind`) and every
reading thread gets its own cursor on the same database.

DuckDB spends 0.3-1.5 ms planning even a point lookup on a tiny table, several times what
a whole MCP call costs. So `read` remembers the rows a statement returned until a write
touches one of the tables it reads: answers are still exactly what the store holds, and
a repeated question costs no query. This is the store answering faster, not a second store.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from providers.contract import RawPayload
from warehouse import merging
from warehouse.batch import Batch
from warehouse.coverage import CoverageIndex, Span
from warehouse.pending import PendingLandings
from warehouse.schema import DERIVED, LAYERS, MIGRATIONS, SETUP, TABLES, added_columns

if TYPE_CHECKING:
    import pandas as pd

# Rows remembered over all statements (each counts at least one), cleared whole when full: a bound
# on memory, where one on statements was not (one statement may return 5,000 rows or raw payloads).
_MEMO_ROWS = 200_000
# Questions' loads written behind them in one transaction at most: a bound on a transaction's size.
_GROUP = 64
_FETCH_LOG = ("dataset", "source", "scope", "start_date", "end_date", "row_count", "fetched_at", "raw_id")
Behind = tuple[Sequence["Landing"], list[tuple[str, str]], concurrent.futures.Future[None]]


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file."""


@dataclass(frozen=True, slots=True)
class Coverage:
    dataset: str
    scope: str  # ts_code, or exchange for calendars
    start: dt.date
    end: dt.date


@dataclass(frozen=True, slots=True)
class Landing:
    """One upstream answer ready to write: the transaction's work, what follows its commit, and
    what a reader must wait for while it is pending (its tables, about its scope)."""

    work: Callable[[Batch], Iterable[str]]
    committed: Callable[[], None]
    tables: tuple[str, ...]
    scope: str


def utc_naive(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(tzinfo=None)


def utc_aware(when: dt.datetime) -> dt.datetime:
    return when.replace(tzinfo=dt.UTC)


RAW_COLUMNS = ("id", "source", "api_name", "params", "item_count", "payload", "fetched_at", "request_id")


def _raw_row(raw: RawPayload) -> list[Any]:
    """An upstream answer as raw_payloads holds it, without its id."""
    return [
        raw.source,
        raw.api_name,
        json.dumps(raw.params, ensure_ascii=False, default=str),
        len(raw.items),
        json.dumps({"fields": raw.fields, "items": raw.items}, ensure_ascii=False, default=str),
        utc_naive(raw.fetched_at),
        raw.request_id,
    ]


def insert_raw(cur: duckdb.DuckDBPyConnection, raw: RawPayload) -> int | None:
    """Append one upstream answer to the raw layer, as received; its id."""
    marks = ", ".join("?" for _ in RAW_COLUMNS[1:])
    row = cur.execute(
        f"INSERT INTO raw_payloads ({', '.join(RAW_COLUMNS[1:])}) VALUES ({marks}) RETURNING id", _raw_row(raw)
    ).fetchone()
    return int(row[0]) if row else None


# Runs inside a load's transaction after its rows are staged; returns the tables it wrote (or stages).
Derive = Callable[[Batch], Iterable[str]]


def _weight(rows: Sequence[tuple[Any, ...]] | None) -> int:
    """What a remembered statement counts against `_MEMO_ROWS`: its rows, an empty answer one, none none."""
    return 0 if rows is None else max(1, len(rows))


class Warehouse:
    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """`read_only` opens a replica (a snapshot file): reads only, and no schema changes."""
        self.path = Path(path)
        self.read_only = read_only
        try:
            self._con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise WarehouseBusy(
                f"the warehouse {self.path} is held by another process ({exc}); "
                "stop the other `twilight serve` or point TWILIGHT_HOME elsewhere"
            ) from exc
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._memo: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        self._memo_by_table: dict[str, set[tuple[Any, ...]]] = {t.name: set() for t in TABLES}
        self._memo_lock = threading.Lock()
        self._memo_rows = 0
        self._generation: dict[str, int] = {t.name: 0 for t in TABLES}
        self._coverage = CoverageIndex(self._spans)
        self.pending = PendingLandings()
        self._behind: queue.SimpleQueue[Behind | None] = queue.SimpleQueue()
        self._behind_writer: threading.Thread | None = None
        self._behind_started = threading.Lock()
        # Brings the curated and feature rows up to date before `read` answers from them: set by
        # whoever defers their derivation (`Curator.defer`), so that no read sees them behind.
        self.catch_up: Callable[[], None] | None = None
        if read_only:
            return
        for stmt in SETUP:
            self._con.execute(stmt)
        for table in TABLES:
            self._con.execute(table.ddl)
        present = self._con.execute("SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'main'")
        for stmt in (*added_columns(set(present.fetchall())), *MIGRATIONS):
            self._con.execute(stmt)

    def close(self) -> None:
        self.pending.drain()
        if self._behind_writer is not None:
            self._behind.put(None)
            self._behind_writer.join(timeout=30)
        self._con.close()

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's reading cursor (DuckDB connections are not shared across threads)."""
        cur: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._con.cursor()
            self._local.cursor = cur
        return cur

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Any statement, once every pending load has landed (it may read anything)."""
        if self.pending:
            self.pending.drain()
        return self._query(sql, params)

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.cursor().execute(sql, list(params)).fetchall()

    def read(
        self, tables: tuple[str, ...], sql: str, params: Sequence[Any] = (), scope: str | None = None
    ) -> list[tuple[Any, ...]]:
        """`query`, remembered until a write to any of `tables` (which must be all it reads).

        `scope` names the one code the statement reads, if it reads one: it then waits only for
        pending loads of that code (`write_behind`), not for every load of its tables.
        """
        if self.pending:
            self.pending.wait(tables, scope)
        if not DERIVED.isdisjoint(tables):
            self.derive_pending()
        key = (tables, sql, *params)
        rows = self._memo.get(key)
        if rows is not None:
            return rows
        before = [self._generation[t] for t in tables]
        rows = self._query(sql, params)
        with self._memo_lock:
            if [self._generation[t] for t in tables] == before:  # no write landed meanwhile
                if self._memo_rows + _weight(rows) > _MEMO_ROWS:
                    self._memo.clear()
                    self._memo_rows = 0
                    for keys in self._memo_by_table.values():
                        keys.clear()
                self._memo_rows += _weight(rows) - _weight(self._memo.get(key))  # another thread's, replaced
                self._memo[key] = rows
                for table in tables:
                    self._memo_by_table[table].add(key)
        return rows

    def derive_pending(self) -> None:
        """Bring the curated and feature layers up to date (`catch_up`), when anyone defers them."""
        if self.catch_up is not None:
            self.catch_up()

    def _forget(self, written: Iterable[str]) -> None:
        with self._memo_lock:
            for table in written:
                self._generation[table] += 1
                for key in self._memo_by_table[table]:
                    self._memo_rows -= _weight(self._memo.pop(key, None))
                self._memo_by_table[table].clear()

    def write(
        self, work: Callable[[duckdb.DuckDBPyConnection], Iterable[str]], committed: Callable[[], None] | None = None
    ) -> None:
        """Run `work` in one transaction as the one writer; it returns the tables it wrote.

        `committed` runs once the transaction has committed, before the next writer starts.
        """
        with self._write_lock:
            cur = self._con.cursor()
            try:
                cur.execute("BEGIN")
                written = set(work(cur))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            finally:
                cur.close()
            if committed is not None:
                committed()
        self._forget(written)

    def load(
        self, table: str, rows: pd.DataFrame, raw: RawPayload, coverage: Coverage, *,
        rejected: merging.Rejected = (), derive: Derive | None = None,
    ) -> int:  # fmt: skip
        """Write one upstream response through the layers in one transaction (see `landing`)."""
        self.write_all([self.landing(table, rows, raw, coverage, rejected=rejected, derive=derive)])
        return len(rows)

    def write_all(self, landings: Sequence[Landing]) -> None:
        """Several upstream answers in one transaction: one commit, and one statement per table they
        write, however many datasets and questions."""

        def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            batch = Batch(cur, len(landings))
            written = {table for landing in landings for table in landing.work(batch)}
            return written | batch.flush()

        def committed() -> None:
            for landing in landings:
                landing.committed()

        self.write(work, committed)

    def write_behind(self, landings: Sequence[Landing]) -> concurrent.futures.Future[None]:
        """`write_all` later, by the store's own writer thread; readers of what it writes wait for it
        from now on. The future is done once it has committed (or failed).

        The writer lands every load queued meanwhile in one transaction: 30 questions at once were 30
        commits in a row, each a few milliseconds of the one writer's time.
        """
        keys = [key for landing in landings for key in self.pending.add(landing.tables, landing.scope)]
        landed: concurrent.futures.Future[None] = concurrent.futures.Future()
        landed.set_running_or_notify_cancel()  # an asker that stops waiting cannot cancel the load
        with self._behind_started:
            if self._behind_writer is None:
                self._behind_writer = threading.Thread(target=self._land_behind, name="land-behind", daemon=True)
                self._behind_writer.start()
        self._behind.put((landings, keys, landed))
        return landed

    def _land_behind(self) -> None:
        while (first := self._behind.get()) is not None:
            group = [first]
            while len(group) < _GROUP:
                try:
                    more = self._behind.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._behind.put(None)  # stop after this group
                    break
                group.append(more)
            failures: list[BaseException | None] = [None] * len(group)
            try:
                self.write_all([landing for landings, _, _ in group for landing in landings])
            except Exception:
                for i, (landings, _, _) in enumerate(group):  # one bad load must not take the others with it
                    try:
                        self.write_all(landings)
                    except Exception as exc:
                        failures[i] = exc
            for (_, keys, landed), failure in zip(group, failures, strict=True):
                self.pending.done(keys)
                if failure is None:
                    landed.set_result(None)
                else:
                    landed.set_exception(failure)

    def landing(
        self, table: str, rows: pd.DataFrame, raw: RawPayload, coverage: Coverage, *,
        rejected: merging.Rejected = (), derive: Derive | None = None,
    ) -> Landing:  # fmt: skip
        """One upstream response through the layers, ready to write in one transaction.

        The raw payload is appended; normalized rows are loaded by the table's declared rule;
        rows that failed validation go to quarantine with their reason; the fetch is logged
        with its coverage; then `derive` builds the layers above from what was loaded, so
        that no reader ever sees normalized rows without their curated and feature rows.
        """
        fetched = utc_naive(raw.fetched_at)

        def work(batch: Batch) -> Iterable[str]:
            written = {table, "fetch_log", "raw_payloads"}
            raw_key = batch.raw_id()
            batch.add("raw_payloads", RAW_COLUMNS, [[raw_key, *_raw_row(raw)]])
            merging.merge(batch, table, rows, raw.source, fetched, whole=coverage.scope == "*")
            if rejected:
                merging.quarantine(batch, coverage.dataset, raw.source, rejected, fetched, raw_key)
                written.add("quarantine")
            batch.add("fetch_log", _FETCH_LOG, [[coverage.dataset, raw.source, coverage.scope, coverage.start,
                                                 coverage.end, len(rows), fetched, raw_key]])  # fmt: skip
            if derive is not None:
                written.update(derive(batch))
            return written

        span = (coverage.start, coverage.end, fetched)
        return Landing(work, lambda: self._coverage.committed(coverage.dataset, coverage.scope, span),
                       (table, "fetch_log"), coverage.scope)  # fmt: skip

    def append(self, table: str, rows: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Add rows (all with the same columns) to an append-only table (quality findings)."""
        batch = [rows] if isinstance(rows, dict) else rows
        if not batch:
            return
        columns = ", ".join(batch[0])
        marks = ", ".join("?" for _ in batch[0])

        def work(cur: duckdb.DuckDBPyConnection) -> Iterable[str]:
            cur.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", [list(r.values()) for r in batch])
            return {table}

        self.write(work)

    def covered_at(self, dataset: str, scope: str, day: dt.date) -> dt.datetime | None:
        """The latest time upstream was asked about `day` for this dataset and scope."""
        if self.pending:
            self.pending.wait(("fetch_log",), scope)
        fetched = self._coverage.latest(dataset, scope, day)
        return utc_aware(fetched) if fetched is not None else None

    def _spans(self, dataset: str, scope: str) -> list[Span]:
        return [
            (start, end, fetched)
            for start, end, fetched in self._query(
                "SELECT start_date, end_date, fetched_at FROM fetch_log WHERE dataset = ? AND scope = ?",
                (dataset, scope),
            )
        ]

    def stats(self) -> dict[str, Any]:
        """Rows and date range per table, grouped by layer, and the file's size."""
        self.derive_pending()
        layers: dict[str, dict[str, Any]] = {layer: {"rows": 0, "tables": {}} for layer in LAYERS}
        for t in TABLES:
            column = t.date_column
            span = f"min({column}), max({column})" if column else "NULL, NULL"
            count, first, last = self.query(f"SELECT count(*), {span} FROM {t.name}")[0]
            layers[t.layer]["rows"] += count
            layers[t.layer]["tables"][t.name] = {
                "rows": count,
                "rule": t.rule,
                "from": first.isoformat() if first is not None else None,
                "to": last.isoformat() if last is not None else None,
            }
        return {"path": str(self.path), "bytes": self._bytes(), "read_only": self.read_only, "layers": layers}

    def health(self) -> dict[str, Any]:
        """What a health probe needs, from DuckDB's catalog (estimated rows): no table is scanned."""
        rows = dict(self.query("SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'main'"))
        return {"path": str(self.path), "bytes": self._bytes(), "read_only": self.read_only,
                "estimated_rows": {t.name: rows.get(t.name, 0) for t in TABLES}}  # fmt: skip

    def _bytes(self) -> int:
        """The file and its write-ahead log: what the warehouse takes on disk."""
        files = (self.path, self.path.with_name(self.path.name + ".wal"))
        return sum(f.stat().st_size for f in files if f.exists())

    def snapshot(self, target: Path) -> dict[str, Any]:
        """Write a consistent copy of the warehouse to `target` (atomically replaced), for replicas.

        Writes wait while the copy is made, so the copy is one moment of the store.
        """
        self.derive_pending()  # a replica derives nothing: it gets the curated rows, never a pending list
        target = target.resolve()
        if target == self.path.resolve():
            raise ValueError("the snapshot path is the warehouse itself; choose another file")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        started = dt.datetime.now(dt.UTC)
        with self._write_lock:
            cur = self._con.cursor()
            try:
                cur.execute("ATTACH ? AS snapshot_target", [str(partial)])  # a path is data: bound, never pasted
                try:
                    catalog = self._catalog().replace('"', '""')
                    cur.execute(f'COPY FROM DATABASE "{catalog}" TO snapshot_target')
                finally:
                    cur.execute("DETACH snapshot_target")
            finally:
                cur.close()
        partial.replace(target)
        return {"path": str(target), "bytes": target.stat().st_size, "taken_at": started.isoformat()}

    def _catalog(self) -> str:
        return str(self.query("SELECT current_database()")[0][0])
