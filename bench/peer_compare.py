"""Twilight Drive beside a peer tushare MCP server (hanlinlibham/tushare_mcp) on one tushare stand-in, in one run.

Both servers get the same loopback tushare stand-in (real fixture figures) and the same question,
"the latest close of CODE" (`price` here, `get_latest_daily_close` there), over streamable HTTP.
It prints, for each server and as a ratio ours/peer: a cold question (a code neither has seen),
its upstream calls, a cache hit, 30 cold questions for different codes at once (errors, wall time),
and RSS when idle, after 2,000 calls and after 2,000 more (the first round includes
the allocators' warm-up). Both servers run side by side and are asked in turn, question by
question and crowd by crowd, so that a busy moment of this shared machine falls on both.

The peer is not ours and is never committed: bring its repository (`fetch github:hanlinlibham/tushare_mcp`,
then `git clone` the snapshot) and install it in a throwaway environment. Its requirements pull
fastmcp 4, which it cannot import, so:

    python3 -m venv /tmp/peer-venv
    /tmp/peer-venv/bin/pip install -r /tmp/peer/requirements.txt 'fastmcp<4' six
    python bench/peer_compare.py --peer-src /tmp/peer --peer-python /tmp/peer-venv/bin/python

Targets (issue 15): cold <= 3x the peer; 30 cold codes at once with 0 errors and <= 1.5x the peer's
wall time; cold upstream calls <= 3; cache hit <= 0.85x the peer; idle RSS <= 160 MiB, no growth.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import MCP_HEADERS, bench_env, bench_token, free_port, percentile, serve
from tests.fake_tushare import FIXTURES, FakeTushare

# Runs inside the peer's interpreter: its tushare SDK pointed at the stand-in, then the peer's own main().
PEER_LAUNCHER = """
import sys, tushare.pro.client as c
c.DataApi._DataApi__http_url = sys.argv[1]
sys.path.insert(0, sys.argv[2])
from findatamcp.server import main
main()
"""
CALLS_FOR_RSS = 2000
CROWDS = 3  # crowds of 30 per server, taken in turn with the peer's; the median wall is the figure


@dataclass
class Server:
    """One MCP server under test: how to ask it the question, and its process."""

    name: str
    url: str
    tool: str
    code_argument: str
    process: subprocess.Popen[bytes]
    headers: dict[str, str] = field(default_factory=dict)

    def session(self) -> httpx.Client:
        """A client that has done the MCP handshake (the peer keeps sessions; ours answers without one)."""
        http = httpx.Client(headers={**MCP_HEADERS, **self.headers}, timeout=60)
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}
        response = http.post(self.url, json={"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": hello})
        session_id = response.headers.get("mcp-session-id")
        if session_id:
            http.headers["mcp-session-id"] = session_id
        http.post(self.url, json={"jsonrpc": "2.0", "method": "notifications/initialized"})
        return http

    def ask(self, http: httpx.Client, code: str) -> tuple[float, bool]:
        """(seconds, answered with a close) for the latest close of `code`."""
        params = {"name": self.tool, "arguments": {self.code_argument: code}}
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        started = time.perf_counter()
        response = http.post(self.url, json=body)
        elapsed = time.perf_counter() - started
        return elapsed, response.status_code == 200 and _answered(response.text)

    def rss_mib(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        kib = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kib / 1024

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _answered(text: str) -> bool:
    """True when the JSON-RPC answer (plain or one SSE event) is a tool result carrying a close."""
    payload = text
    if text.lstrip().startswith(("event:", "data:")):
        payload = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    result = json.loads(payload).get("result", {})
    if result.get("isError"):
        return False
    content = json.dumps(result.get("structuredContent") or result.get("content"), ensure_ascii=False)
    return '"close' in content or '\\"price\\": ' in content or '"price": ' in content


def cold_codes(count: int) -> list[str]:
    """Codes with a real bar on the stand-in's newest day (2026-04-15), in file order."""
    with (FIXTURES / "daily_all_20260415.csv").open(encoding="utf-8") as handle:
        codes = [row["ts_code"] for row in csv.DictReader(handle) if row["close"]]
    return codes[:count]


def start_ours(upstream: FakeTushare) -> Server:
    port = free_port()
    env = bench_env(tempfile.mkdtemp(prefix="twilight-bench-"), upstream.url)
    token = bench_token(env)
    process = serve(env, port)
    auth = {"Authorization": f"Bearer {token}"}
    return Server("ours", f"http://127.0.0.1:{port}/mcp", "price", "code", process, auth)


def start_peer(upstream: FakeTushare, python: str, src: str) -> Server:
    port = free_port()
    env = {**os.environ, "TUSHARE_TOKEN": "bench", "MCP_SERVER_HOST": "127.0.0.1", "MCP_SERVER_PORT": str(port),
           "LOG_LEVEL": "WARNING"}  # fmt: skip
    process = subprocess.Popen(
        [python, "-c", PEER_LAUNCHER, upstream.url, src], env=env, cwd=src,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    server = Server("peer", f"http://127.0.0.1:{port}/mcp", "get_latest_daily_close", "ts_code", process)
    for _ in range(600):
        try:
            server.session().close()
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the peer did not come up")


def _crowd(server: Server, codes: list[str]) -> tuple[float, int]:
    """(wall seconds, errors) for one question per code, all at once, each on a fresh session."""

    def one(code: str) -> bool:
        with closing(server.session()) as client:
            return server.ask(client, code)[1]

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(codes)) as pool:
        answers = list(pool.map(one, codes))
    return time.perf_counter() - started, answers.count(False)


def measure(servers: list[Server], upstream: FakeTushare, codes: list[str], rounds: int) -> dict[str, dict[str, Any]]:
    """Every figure for each server, asking them in turn (this machine's noise then falls on both
    alike): `codes` are cold for both, the first `len - 30 * CROWDS` one by one, the rest in crowds."""
    figures: dict[str, dict[str, Any]] = {s.name: {"idle_rss": s.rss_mib()} for s in servers}
    singles, crowds = codes[: -30 * CROWDS], codes[-30 * CROWDS :]
    sessions = {s.name: s.session() for s in servers}
    try:
        cold: dict[str, list[float]] = {s.name: [] for s in servers}
        calls = {s.name: Counter[str]() for s in servers}
        for code in singles:
            for server in servers:
                before = Counter(upstream.calls)
                seconds, ok = server.ask(sessions[server.name], code)
                if not ok:
                    raise SystemExit(f"{server.name}: cold question for {code} failed")
                cold[server.name].append(seconds)
                calls[server.name] += Counter(upstream.calls) - before
        hits: dict[str, list[float]] = {s.name: [] for s in servers}
        for _ in range(rounds):
            for server in servers:
                hits[server.name].append(server.ask(sessions[server.name], singles[0])[0])
        walls: dict[str, list[float]] = {s.name: [] for s in servers}
        for n in range(CROWDS):
            for server in servers:
                wall, errors = _crowd(server, crowds[30 * n : 30 * (n + 1)])
                walls[server.name].append(wall)
                figures[server.name]["crowd_errors"] = figures[server.name].get("crowd_errors", 0) + errors
        for server in servers:
            mine = figures[server.name]
            mine["cold_p50"] = statistics.median(cold[server.name])
            mine["cold_calls"] = {api: n / len(singles) for api, n in sorted(calls[server.name].items())}
            mine["hit_p50"], mine["hit_p95"] = percentile(hits[server.name], 0.5), percentile(hits[server.name], 0.95)
            mine["crowd_wall"] = statistics.median(walls[server.name])
            mine["served_rss"] = server.rss_mib()
        for key in ("after_rss", "steady_rss"):  # the first 2,000 include the allocators' warm-up; the next do not
            for index in range(CALLS_FOR_RSS):
                for server in servers:
                    server.ask(sessions[server.name], singles[index % len(singles)])
            for server in servers:
                figures[server.name][key] = server.rss_mib()
    finally:
        for http in sessions.values():
            http.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-src", required=True, help="a checkout of hanlinlibham/tushare_mcp")
    parser.add_argument("--peer-python", required=True, help="the interpreter of its throwaway environment")
    parser.add_argument("--cold", type=int, default=10, help="cold questions asked one by one")
    parser.add_argument("--rounds", type=int, default=300, help="cache hits timed")
    args = parser.parse_args()

    upstream = FakeTushare(token="bench").start()
    codes = cold_codes(args.cold + 30 * CROWDS)
    servers: list[Server] = []
    try:
        servers.append(start_ours(upstream))
        servers.append(start_peer(upstream, args.peer_python, args.peer_src))
        time.sleep(2)  # idle: let start-up work settle before reading RSS
        results = measure(servers, upstream, codes, args.rounds)
    finally:
        for server in servers:
            server.stop()
        upstream.stop()

    ours, peer = results["ours"], results["peer"]
    ms = 1000.0
    rows = [
        ("cold question p50 (ms)", ours["cold_p50"] * ms, peer["cold_p50"] * ms, "<= 3x"),
        ("cache hit p50 (ms)", ours["hit_p50"] * ms, peer["hit_p50"] * ms, "<= 0.85x"),
        ("cache hit p95 (ms)", ours["hit_p95"] * ms, peer["hit_p95"] * ms, ""),
        (f"30 cold codes at once, wall (s), median of {CROWDS}", ours["crowd_wall"], peer["crowd_wall"], "<= 1.5x"),
        (f"30 cold codes at once, errors in {CROWDS}", ours["crowd_errors"], peer["crowd_errors"], "0"),
        ("idle RSS (MiB)", ours["idle_rss"], peer["idle_rss"], "<= 160 MiB"),
        ("RSS after serving (MiB)", ours["served_rss"], peer["served_rss"], ""),
        (f"RSS after {CALLS_FOR_RSS} more calls (MiB)", ours["after_rss"], peer["after_rss"], "no growth"),
        (f"RSS after {CALLS_FOR_RSS} further calls (MiB)", ours["steady_rss"], peer["steady_rss"], "no growth"),
    ]
    print(f"{'':46} {'ours':>10} {'peer':>10} {'ours/peer':>10}   target")
    for label, mine, theirs, target in rows:
        ratio = f"{mine / theirs:.2f}x" if theirs else "-"
        print(f"{label:46} {mine:10.2f} {theirs:10.2f} {ratio:>10}   {target}")
    for name, figures in results.items():
        calls = ", ".join(f"{api} {n:g}" for api, n in figures["cold_calls"].items())
        print(f"upstream calls per cold question, {name}: {sum(figures['cold_calls'].values()):g} ({calls})")
    growth = ours["after_rss"] - ours["served_rss"]
    steady = ours["steady_rss"] - ours["after_rss"]
    print(f"ours: RSS growth over {CALLS_FOR_RSS} calls {growth:+.1f} MiB, over the next {steady:+.1f} MiB")


if __name__ == "__main__":
    main()
