"""Cache-hit `price` vs a no-op tool (`ping`) over HTTP on the same server, in one run.

Starts the fake tushare upstream (real fixture figures) and `twilight serve` on free ports,
fills the warehouse with one cold call, then alternates warm `price` and `ping` calls over
one keep-alive HTTP connection and prints p50/p95 of each and their ratio (target <= 1.5x).
It also prints the upstream calls that 100 sequential identical calls cost.

    python bench/price_latency.py [--rounds 500]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ISSUE_BENCH_TOKEN, TWILIGHT, free_port, percentile
from tests.fake_tushare import FakeTushare


def call(http: httpx.Client, url: str, name: str, arguments: dict[str, Any]) -> float:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    started = time.perf_counter()
    response = http.post(url, json=body)
    elapsed = time.perf_counter() - started
    payload = response.json()
    if response.status_code != 200 or payload.get("result", {}).get("isError"):
        raise SystemExit(f"{name} failed: {response.status_code} {response.text[:300]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()

    upstream = FakeTushare(token="bench").start()
    home = tempfile.mkdtemp(prefix="twilight-bench-")
    port = free_port()
    env = {**os.environ, "TWILIGHT_HOME": home, "TUSHARE_TOKEN": "bench", "TUSHARE_API_URL": upstream.url,
           "TWILIGHT_LOG_LEVEL": "WARNING"}  # fmt: skip
    token = subprocess.run(ISSUE_BENCH_TOKEN, env=env, capture_output=True, text=True, check=True).stdout.splitlines()[
        -1
    ]
    server = subprocess.Popen([TWILIGHT, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        }
        args_price = {"code": "600519", "trade_date": "20240620"}
        with httpx.Client(headers=headers, timeout=10) as http:
            cold = call(http, base + "/mcp", "price", args_price)
            for _ in range(100):
                call(http, base + "/mcp", "price", args_price)
            upstream_after_100 = dict(upstream.calls)
            for _ in range(50):  # warm-up of both paths
                call(http, base + "/mcp", "price", args_price)
                call(http, base + "/mcp", "ping", {})
            price, ping = [], []
            for _ in range(args.rounds):
                price.append(call(http, base + "/mcp", "price", args_price))
                ping.append(call(http, base + "/mcp", "ping", {}))
    finally:
        server.terminate()
        server.wait(timeout=10)
        upstream.stop()

    ms = 1000.0
    print(f"cold price (upstream fetch + load): {cold * ms:.2f} ms")
    print(f"upstream calls after 1 cold + 100 identical price calls: {upstream_after_100}")
    print(f"rounds: {args.rounds} each, alternating, one keep-alive connection")
    for name, values in (("price (cache hit)", price), ("ping (no-op)", ping)):
        print(
            f"{name:18} p50 {percentile(values, 0.5) * ms:6.2f} ms   p95 {percentile(values, 0.95) * ms:6.2f} ms"
            f"   mean {statistics.fmean(values) * ms:6.2f} ms"
        )
    print(f"ratio price/ping: p50 {percentile(price, 0.5) / percentile(ping, 0.5):.2f}x   "
          f"p95 {percentile(price, 0.95) / percentile(ping, 0.95):.2f}x   (target <= 1.5x)")  # fmt: skip


if __name__ == "__main__":
    main()
