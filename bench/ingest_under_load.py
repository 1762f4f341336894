"""A whole-market ingestion day on the real HTTP server, idle and under read load from other processes.

Reads and ingestion share one server process (and its GIL): a `twilight ingest` job goes to the
running server over its control port and runs next to the MCP tools. bench/ingest.py part 3
measures this in-process; here the server is `twilight serve`, the loads come from the CLI and the
readers are separate processes, each with one MCP session over streamable HTTP, as in production.

Starts the fake tushare and Eastmoney upstreams and `twilight serve` on free ports, loads
2026-04-15 and five years of 600519.SH, then times `--loads` forced loads of that day idle and
while `--clients` readers alternate `price` and `warehouse_daily` in a tight loop, and prints the
load times, their ratio, and per tool the calls, failures, latency and throughput during the loads.

    python bench/ingest_under_load.py [--clients 4] [--loads 3] [--timeout 300]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ISSUE_BENCH_TOKEN, ROOT, TWILIGHT, free_port, percentile

DAY = "20260415"
CALLS: list[tuple[str, dict[str, Any]]] = [
    ("price", {"code": "600519", "trade_date": "20240620"}),
    ("warehouse_daily", {"code": "600519.SH", "start": "2020-01-01", "end": "2024-12-31", "layer": "curated"}),
]
MS = 1000.0
Run = tuple[float, float, float | None]  # a forced load: its start (epoch), wall seconds, the server's `seconds`
Popen = subprocess.Popen[bytes]


def wait_for_port(port: int, process: Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.1)
    raise SystemExit(f"{what} did not come up on port {port}")


async def worker(url: str, token: str, stop: Path, out: Path) -> None:
    """One MCP session; alternate the reads until `stop` exists; one JSON line per call to `out`."""
    auth = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=auth, timeout=600) as http,
        Client(streamable_http_client(url + "/mcp", http_client=http)) as client,
    ):
        with out.open("w") as sink:
            turn = 0
            while not stop.exists():
                name, arguments = CALLS[turn % len(CALLS)]
                turn += 1
                began, started = time.time(), time.perf_counter()
                error: str | None = None
                broken = False
                try:
                    result = await client.call_tool(name, arguments)
                    if result.is_error:
                        error = str(getattr(result.content[0], "text", "isError") if result.content else "isError")
                except Exception as exc:  # a transport or SDK failure counts as a failed call
                    error, broken = f"{type(exc).__name__}: {exc}", True
                sink.write(json.dumps([name, began, time.perf_counter() - started, error]) + "\n")
                sink.flush()
                if broken:
                    await anyio.sleep(0.1)  # do not spin on a broken session


def cli(env: dict[str, str], timeout: float, *args: str) -> tuple[float, dict[str, Any] | None, str]:
    """Wall seconds of a `twilight` run, its last JSON object on stdout, and a note (empty when it went well)."""
    started = time.perf_counter()
    try:
        done = subprocess.run([TWILIGHT, *args], env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return time.perf_counter() - started, None, f"TIMEOUT after {timeout:.0f} s"
    wall = time.perf_counter() - started
    text = done.stdout[done.stdout.rfind("\n{") + 1 :]
    try:
        summary: dict[str, Any] | None = json.loads(text) if text.startswith("{") else None
    except json.JSONDecodeError:
        summary = None
    note = "" if done.returncode == 0 else f"exit {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]}"
    return wall, summary, note


def forced_loads(env: dict[str, str], args: argparse.Namespace, label: str, server: Popen) -> list[Run]:
    """(start, wall seconds, server `seconds`) of each forced load of DAY, printed as they finish."""
    runs = []
    for i in range(args.loads):
        began = time.time()
        wall, summary, note = cli(env, args.timeout, "ingest", "daily", "--date", DAY, "--force", "--json")
        seconds = summary.get("seconds") if summary else None
        runs.append((began, wall, seconds))
        rows = summary["rows_loaded"] if summary else None
        if server.poll() is not None:  # then the CLI ran the job itself, and the figures are not the server's
            note += f"   THE SERVER HAS EXITED ({server.returncode})"
        print(f"{label} load {i + 1}: wall {wall:7.2f} s   server 'seconds' {seconds}   rows {rows}   {note}")
    return runs


def start(procs: list[Popen], cmd: list[str], env: dict[str, str], **kw: Any) -> None:
    procs.append(subprocess.Popen(cmd, env=env, cwd=ROOT, **kw))


def report(runs: dict[str, list[Run]], outs: list[Path]) -> None:
    idle, loaded = runs["idle"], runs["loaded"]
    print("\n== forced whole-market loads of", DAY)
    for label, group in (("idle", idle), ("under load", loaded)):
        print(f"{label:11} wall   " + "   ".join(f"{w:7.2f} s" for _, w, _ in group))
        print(f"{'':11} server " + "   ".join(f"{s:7.2f} s" if s is not None else "   none  " for _, _, s in group))
    ratios = []
    for label, column in (("wall", 1), ("server", 2)):
        worst, usual = [r[column] or 0.0 for r in loaded], [r[column] or 0.0 for r in idle]
        if all(worst + usual):  # a timed-out run has no server figure
            ratios.append(f"{label} {max(worst) / percentile(usual, 0.5):.1f}x")
    print("ratio worst loaded / idle median:", "   ".join(ratios))
    windows = [(began, began + wall) for began, wall, _ in loaded]
    span = sum(end - began for began, end in windows)
    times: dict[str, list[float]] = {name: [] for name, _ in CALLS}
    failures = dict.fromkeys(times, 0)
    errors: list[str] = []
    outside = 0
    for out in outs:
        for line in out.read_text().splitlines() if out.exists() else []:
            with contextlib.suppress(ValueError):  # a killed worker may leave half a line
                name, began, elapsed, error = json.loads(line)
                if not any(a <= began <= b for a, b in windows):
                    outside += 1
                    continue
                times[name].append(elapsed)
                if error:
                    failures[name] += 1
                    errors.append(f"{name}: {error[:200]}")
    print(f"\n== reads during the loads ({len(outs)} client processes, {span:.1f} s of loading; "
          f"{outside} calls outside the loads not counted)")  # fmt: skip
    for name, values in times.items():
        print(f"{name:16}calls {len(values):6}   failures {failures[name]}   " + (
              f"p50 {percentile(values, 0.5) * MS:8.1f} ms   p95 {percentile(values, 0.95) * MS:8.1f} ms   "
              f"max {max(values) * MS:8.1f} ms   {len(values) / span:7.1f} calls/s" if values else ""))  # fmt: skip
    for line in errors[:5]:
        print("  e.g.", line)


def run(args: argparse.Namespace) -> None:
    print(f"machine: {os.cpu_count()} CPUs; clients {args.clients}, loads {args.loads}, timeout {args.timeout:.0f} s")
    procs: list[Popen] = []
    workers: list[Popen] = []
    home = Path(tempfile.mkdtemp(prefix="twilight-bench-"))
    stop = home / "stop"
    try:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIGHT_", "TUSHARE_"))}
        tushare_port, eastmoney_port, port = free_port(), free_port(), free_port()
        quiet = {"stdout": subprocess.DEVNULL}
        start(procs, [sys.executable, "-m", "tests.fake_tushare", "--port", str(tushare_port), "--token", "bench"],
              base, **quiet)  # fmt: skip
        wait_for_port(tushare_port, procs[-1], "fake tushare")
        start(procs, [sys.executable, "-m", "tests.fake_eastmoney", "--port", str(eastmoney_port)], base, **quiet)
        wait_for_port(eastmoney_port, procs[-1], "fake Eastmoney")
        env = {**base, "TWILIGHT_HOME": str(home), "TUSHARE_TOKEN": "bench",
               "TUSHARE_API_URL": f"http://127.0.0.1:{tushare_port}/dataapi",
               "TWILIGHT_EASTMONEY_URL": f"http://127.0.0.1:{eastmoney_port}",
               "TWILIGHT_TDX_SERVERS": '["127.0.0.1:9"]', "TWILIGHT_SCHEDULE": "false",
               "TWILIGHT_LOG_LEVEL": "WARNING"}  # fmt: skip
        issued = subprocess.run(ISSUE_BENCH_TOKEN, env=env, capture_output=True,
                                text=True, check=True)  # fmt: skip
        token = issued.stdout.strip().splitlines()[-1]
        url = f"http://127.0.0.1:{port}"
        start(procs, [TWILIGHT, "serve", "--port", str(port)], env, stderr=(home / "server.log").open("w"))
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise SystemExit("server did not come up:\n" + (home / "server.log").read_text()[-2000:])

        print("\n== warm-up")
        backfill = ("ingest", "backfill", "--start", "20200101", "--end", "20241231", "--codes", "600519", "--json")
        for what in (("ingest", "daily", "--date", DAY, "--json"), backfill):
            wall, summary, note = cli(env, args.timeout, *what)
            print(f"{' '.join(what[:2]):15} wall {wall:7.2f} s   rows per layer "
                  f"{summary.get('rows_per_layer') if summary else None}   {note}")  # fmt: skip

        print("\n== idle")
        runs = {"idle": forced_loads(env, args, "idle", procs[-1])}
        print(f"\n== under load ({args.clients} client processes, ~2 s warm-up)")
        outs = [home / f"worker-{i}.jsonl" for i in range(args.clients)]
        for out in outs:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", url, str(stop), str(out)]
            workers.append(subprocess.Popen(cmd, env={**env, "BENCH_TOKEN": token}, cwd=ROOT))
        deadline = time.monotonic() + 60  # every session open and answering (or its worker gone), then ~2 s more
        while time.monotonic() < deadline and not all(
            (out.exists() and out.stat().st_size) or proc.poll() is not None
            for out, proc in zip(outs, workers, strict=True)
        ):
            time.sleep(0.1)
        time.sleep(2)
        runs["loaded"] = forced_loads(env, args, "loaded", procs[-1])
        stop.touch()
        for proc in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=30)
        report(runs, outs)
    finally:
        stop.touch()
        for proc in reversed([*procs, *workers]):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per `twilight ingest` run")
    parser.add_argument("--worker", nargs=3, metavar=("URL", "STOP", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        url, stop, out = args.worker
        try:
            anyio.run(worker, url, os.environ["BENCH_TOKEN"], Path(stop), Path(out))
        except KeyboardInterrupt:
            pass
        except Exception as exc:  # one line, not a traceback, when the session cannot open or breaks
            sys.exit(f"worker {Path(out).name}: {exc!r}"[:400])
        return
    try:
        run(args)
    except KeyboardInterrupt:
        sys.exit("interrupted; every process this bench started was stopped")


if __name__ == "__main__":
    main()
