"""Answering before landing: the writer is off a cold question's path, and nothing is lost for it.

`SingleFlight.answer_then_land` returns the answer at once and lands after; `Warehouse.write_behind`
makes the code's readers wait meanwhile, and its writer lands what queued meanwhile in one transaction.
These hold even when the event loop that asked is gone before the load is written (a client hanging
up, a server stopping).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import duckdb

from warehouse.batch import Batch
from warehouse.loader import SingleFlight
from warehouse.pending import PendingLandings
from warehouse.store import Landing, Warehouse


def _pending_row(code: str, block: threading.Event | None = None, fail: bool = False) -> Landing:
    """A load of one curation_pending row about `code` (waiting for `block`, or failing, first)."""

    def work(batch: Batch) -> Iterable[str]:
        if block is not None:
            block.wait(5)
        if fail:
            raise duckdb.ConstraintException(f"{code} breaks a constraint")
        batch.cur.execute("INSERT INTO curation_pending VALUES (?, DATE '2026-04-15', DATE '2026-04-15')", [code])
        return ("curation_pending",)

    return Landing(work, lambda: None, ("norm_daily",), code)


def _codes(store: Warehouse) -> list[str]:
    return [code for (code,) in store.query("SELECT ts_code FROM curation_pending ORDER BY 1")]


def test_a_landing_outlives_the_loop_that_asked_for_it(tmp_path: Path) -> None:
    """The asker gives up while upstream is still answering, and its loop closes: the rows it had
    asked for still land, so the code's readers are not left waiting for a load nobody writes."""
    store = Warehouse(tmp_path / "w.duckdb")
    flight = SingleFlight(lambda dataset, outcome: None)

    def fetch() -> tuple[str, concurrent.futures.Future[None]]:
        time.sleep(0.3)  # upstream is slow; the asker below stops waiting after 0.05 s
        return "answer", store.write_behind([_pending_row("600519.SH")])

    async def ask() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flight.answer_then_land("daily", "key", lambda: False, fetch), 0.05)

    asyncio.run(ask())  # closing the loop cancels the question's task while its fetch still runs
    deadline = time.monotonic() + 5
    while not _codes(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _codes(store) == ["600519.SH"], "the fetched rows never landed"
    store.pending.wait(["norm_daily"], "600519.SH", timeout=5)
    assert not store.pending
    store.close()


def test_loads_queued_meanwhile_land_together_and_a_bad_one_loses_only_itself(tmp_path: Path) -> None:
    store = Warehouse(tmp_path / "w.duckdb")
    busy = threading.Event()
    first = store.write_behind([_pending_row("000001.SZ", block=busy)])  # holds the writer
    queued = [store.write_behind([_pending_row(code, fail=code == "000002.SZ")])
              for code in ("600519.SH", "000002.SZ", "600036.SH")]  # fmt: skip
    busy.set()
    first.result(5)
    assert [f.exception(5) is None for f in queued] == [True, False, True]
    assert isinstance(queued[1].exception(), duckdb.ConstraintException)
    assert _codes(store) == ["000001.SZ", "600036.SH", "600519.SH"]
    assert not store.pending  # the failed load's readers are not left waiting either
    store.close()


def test_a_reader_of_another_code_does_not_wait() -> None:
    pending = PendingLandings()
    keys = pending.add(["norm_daily", "fetch_log"], "600519.SH")
    started = time.monotonic()
    pending.wait(["norm_daily"], "000858.SZ", timeout=5)
    assert time.monotonic() - started < 1
    waited = threading.Thread(target=pending.wait, args=(["norm_daily"], None))  # every code: waits
    waited.start()
    waited.join(0.2)
    assert waited.is_alive()
    pending.done(keys)
    waited.join(5)
    assert not waited.is_alive() and not pending
