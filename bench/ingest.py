"""Ingestion cost, a five-year warehouse read, and reads during ingestion, in-process, in one run.

Starts the fake tushare and Eastmoney upstreams (real fixture figures) on loopback, opens a
Runtime on a temporary TWILIGHT_HOME and prints:

1. a whole-market day (2026-04-15, 5,473 codes) into an empty warehouse, through every layer
   and the quality checks, then again with force=True (target < 2 s);
2. `warehouse_daily` over five years of 600519.SH against `ping`, through the SDK's in-memory
   client and through `MCPServer.call_tool` alone (p50/p95 and ratios), and the store read
   under it, cold and warm (target < 10 ms inside the server);
3. `price` and `warehouse_daily` called in a loop while three forced whole-market loads run,
   with failures and lock errors counted (target: zero); it lasts as long as the loads do.

    python bench/ingest.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp import Client
from mcp.server.mcpserver import MCPServer

from bench.common import percentile
from mcp_server.server import build_server
from ops.logging import configure_logging
from ops.runtime import Runtime
from ops.settings import Settings
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare

DAY = dt.date(2026, 4, 15)
FIVE_YEARS = {"code": "600519.SH", "start": "2020-01-01", "end": "2024-12-31", "layer": "curated"}
PRICE = {"code": "600519", "trade_date": "20240620"}
LOCKISH = ("lock", "conflict", "resource in use")
MS = 1000.0


def spread(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5) * MS:7.2f} ms   p95 {percentile(values, 0.95) * MS:7.2f} ms"


async def timed_call(client: Client, name: str, arguments: dict[str, Any]) -> tuple[float, str | None]:
    """Seconds the call took, and its error text (None when it succeeded)."""
    started = time.perf_counter()
    try:
        result = await client.call_tool(name, arguments)
    except Exception as exc:  # a transport or SDK failure counts as a failed call
        return time.perf_counter() - started, f"{type(exc).__name__}: {exc}"
    error = str(getattr(result.content[0], "text", "isError") if result.content else "isError")
    return time.perf_counter() - started, error if result.is_error else None


async def whole_market_day(rt: Runtime, tushare: FakeTushare) -> float:
    print("== 1. whole-market day", DAY.isoformat(), "(empty warehouse, all layers + quality checks)")
    took = 0.0
    for label, force in (("first load", False), ("forced re-load", True)):
        before = dict(tushare.calls)
        started = time.perf_counter()
        summary = await rt.ingestor.daily(DAY, force=force)
        took = time.perf_counter() - started
        print(f"{label:15} {took:6.3f} s   upstream calls {summary['upstream_calls']}   "
              f"rows loaded {summary['rows_loaded']}   quarantined {summary['quarantined']}   "
              f"findings {summary['quality_findings']}")  # fmt: skip
        print(f"{'':15} rows per layer {summary['rows_per_layer']}   failed {summary['failed'] or 'none'}")
        asked = {api: n - before.get(api, 0) for api, n in tushare.calls.items() if n > before.get(api, 0)}
        print(f"{'':15} requests the fake tushare counted {asked}")
    print("target < 2 s")
    return took


async def five_year_read(rt: Runtime, server: MCPServer, client: Client, rounds: int, registered: bool) -> None:
    print("\n== 2. five years of one code (600519.SH 2020-01-01..2024-12-31, curated)")
    started = time.perf_counter()
    summary = await rt.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), ["600519.SH"])
    print(f"backfill        {time.perf_counter() - started:6.3f} s   upstream calls {summary['upstream_calls']}   "
          f"rows per layer {summary['rows_per_layer']}")  # fmt: skip
    sql = "SELECT * FROM cur_daily WHERE ts_code = ? AND trade_date BETWEEN ? AND ?"
    params = ("600519.SH", dt.date(2020, 1, 1), dt.date(2024, 12, 31))
    reads = []
    for memo in (True, True, True, False):  # cold, warm, warm, then DuckDB itself without the memo
        started = time.perf_counter()
        rows = rt.store.read(("cur_daily",), sql, params) if memo else rt.store.query(sql, params)
        reads.append(time.perf_counter() - started)
    print(f"store.read      cold {reads[0] * MS:7.2f} ms   warm {min(reads[1:3]) * MS:7.3f} ms (memo)   "
          f"store.query (no memo) {reads[3] * MS:7.2f} ms   rows {len(rows)}")  # fmt: skip
    if not registered:
        print("warehouse_daily: NOT REGISTERED on the server yet; timing ping only")
    args: dict[str, dict[str, Any]] = {"ping": {}, "warehouse_daily": FIVE_YEARS}
    tools = []
    for name in ["ping", "warehouse_daily"] if registered else ["ping"]:  # a check that the tool answers
        _, error = await timed_call(client, name, args[name])
        if error:
            print(f"{name} FAILED: {error[:300]}")
        else:
            tools.append(name)

    async def via_client(name: str) -> float:
        return (await timed_call(client, name, args[name]))[0]

    async def via_server(name: str) -> float:
        started = time.perf_counter()
        await server.call_tool(name, args[name])
        return time.perf_counter() - started

    paths = {"client": via_client, "server": via_server}
    times: dict[tuple[str, str], list[float]] = {(path, name): [] for path in paths for name in tools}
    for path, how in paths.items():
        for name in tools:
            for _ in range(5):  # warm-up
                await how(name)
        for _ in range(rounds):
            for name in tools:
                times[path, name].append(await how(name))
    print(f"rounds: {rounds} each after 5 warm-up, alternating. client: the SDK's in-memory Client (with its"
          " output-schema check); server: MCPServer.call_tool (no client, no transport)")  # fmt: skip
    for path, name in times:
        print(f"{path:6} {name:16}{spread(times[path, name])}")
    if tools == ["ping", "warehouse_daily"]:
        for path in paths:
            wd, ping = times[path, "warehouse_daily"], times[path, "ping"]
            print(f"{path:6} ratio warehouse_daily/ping: p50 {percentile(wd, 0.5) / percentile(ping, 0.5):.2f}x   "
                  f"p95 {percentile(wd, 0.95) / percentile(ping, 0.95):.2f}x")  # fmt: skip
    print("target < 10 ms inside the server")


async def reads_during_ingestion(rt: Runtime, server: MCPServer, registered: bool, alone: float) -> None:
    print("\n== 3. reads during ingestion (3 forced whole-market loads in a row)")
    tools = {"price": PRICE, **({"warehouse_daily": FIVE_YEARS} if registered else {})}
    if not registered:
        print("warehouse_daily: NOT REGISTERED on the server yet; price only")
    times: dict[str, list[float]] = {name: [] for name in tools}
    failures: Counter[str] = Counter()
    lock_errors: Counter[str] = Counter()
    errors: list[str] = []
    loads: list[float] = []
    done = anyio.Event()

    async def ingest() -> None:
        try:
            for _ in range(3):
                started = time.perf_counter()
                await rt.ingestor.daily(DAY, force=True)
                loads.append(time.perf_counter() - started)
        finally:
            done.set()

    async def reader(name: str) -> None:
        async with Client(server) as client:
            while not done.is_set():
                elapsed, error = await timed_call(client, name, tools[name])
                times[name].append(elapsed)
                if error:
                    failures[name] += 1
                    lock_errors[name] += any(word in error.lower() for word in LOCKISH)
                    errors.append(f"{name}: {error[:200]}")

    async with anyio.create_task_group() as tg:
        for name in tools:
            tg.start_soon(reader, name)
        tg.start_soon(ingest)
    print("loads           " + "   ".join(f"{s:6.3f} s" for s in loads)
          + f"   (alone: {alone:.3f} s, so {max(loads, default=0) / alone:.0f}x at worst under reads)")  # fmt: skip
    for name, values in times.items():
        print(f"{name:16}calls {len(values):6}   failures {failures[name]}   lock errors {lock_errors[name]}   "
              f"{spread(values) if values else ''}   max {max(values, default=0) * MS:.1f} ms")  # fmt: skip
    for line in sorted(set(errors))[:5]:
        print("  e.g.", line)
    print("target: zero failures, zero lock errors")


async def run(rounds: int, tushare: FakeTushare) -> None:
    rt = Runtime.open(Settings())
    try:
        try:
            server = build_server(rt, http_auth=False)
        except Exception as exc:  # the warehouse tools are being written: still time the ingestion
            print(f"THE SERVER COULD NOT BE BUILT ({type(exc).__name__}: {exc}); parts 2 and 3 skipped")
            await whole_market_day(rt, tushare)
            return
        async with Client(server) as client:
            registered = "warehouse_daily" in {t.name for t in (await client.list_tools()).tools}
            alone = await whole_market_day(rt, tushare)
            await five_year_read(rt, server, client, rounds, registered)
            _, error = await timed_call(client, "price", PRICE)  # fills the cache before part 3
            if error:
                print(f"price failed before part 3: {error[:300]}")
        await reads_during_ingestion(rt, server, registered, alone)
    finally:
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    tushare = FakeTushare(token="bench").start()
    eastmoney = FakeEastmoney().start()
    with tempfile.TemporaryDirectory(prefix="twilight-bench-") as home:
        os.environ.update({"TWILIGHT_HOME": home, "TUSHARE_TOKEN": "bench", "TUSHARE_API_URL": tushare.url,
                           "TWILIGHT_EASTMONEY_URL": eastmoney.url, "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]',
                           "TWILIGHT_SCHEDULE": "false", "TWILIGHT_LOG_LEVEL": "WARNING"})  # fmt: skip
        configure_logging("WARNING")
        try:
            anyio.run(run, args.rounds, tushare)
        finally:
            tushare.stop()
            eastmoney.stop()
    print(f"\nupstream calls in all: tushare {dict(tushare.calls)}   eastmoney {dict(eastmoney.calls)}")


if __name__ == "__main__":
    main()
