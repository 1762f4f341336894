"""Answering before landing: the writer is off a cold question's path, and nothing is lost for it.

`SingleFlight.answer_then_land` returns the answer at once and lands after; `Warehouse.write_behind`
makes the code's readers wait meanwhile. These hold even when the event loop that asked is gone
before the load is written (a client hanging up, a server stopping).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable

from warehouse.loader import SingleFlight
from warehouse.pending import PendingLandings


def test_a_landing_outlives_the_loop_that_asked_for_it() -> None:
    """The asker gives up while upstream is still answering, and its loop closes: the rows it had
    asked for still land, so the code's readers are not left waiting for a load nobody writes."""
    pending = PendingLandings()
    landed = threading.Event()
    flight = SingleFlight(lambda dataset, outcome: None)

    def fetch() -> tuple[str, Callable[[], None]]:
        time.sleep(0.3)  # upstream is slow; the asker below stops waiting after 0.05 s
        keys = pending.add(["norm_daily"], "600519.SH")

        def land() -> None:
            landed.set()
            pending.done(keys)

        return "answer", land

    async def ask() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(flight.answer_then_land("daily", "key", lambda: False, fetch), 0.05)

    asyncio.run(ask())  # closing the loop cancels the question's task while its fetch still runs
    assert landed.wait(5), "the fetched rows never landed"
    pending.wait(["norm_daily"], "600519.SH", timeout=5)
    assert not pending


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
