"""Cache-hit `price` vs a no-op tool (`ping`) over HTTP on the same server, in one run.

Starts the fake tushare upstream (real fixture figures) and `twilight serve` on free ports,
fills the warehouse with one cold call, then alternates warm `price` and `ping` calls over
one keep-alive HTTP connection and prints p50/p95 of each and their ratio (target <= 1.5x).
It also prints the upstream calls that 100 sequential identical calls cost.

    python bench/price_latency.py [--rounds 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import MCP_HEADERS, bench_env, bench_token, call_tool, free_port, percentile, serve
from tests.fake_tushare import FakeTushare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()

    upstream = FakeTushare(token="bench").start()
    port = free_port()
    env = bench_env(tempfile.mkdtemp(prefix="twilight-bench-"), upstream.url)
    token = bench_token(env)
    server = serve(env, port)
    base = f"http://127.0.0.1:{port}"
    try:
        headers = {"Authorization": f"Bearer {token}", **MCP_HEADERS}
        args_price = {"code": "600519", "trade_date": "20240620"}
        with httpx.Client(headers=headers, timeout=10) as http:
            cold = call_tool(http, base + "/mcp", "price", args_price)
            for _ in range(100):
                call_tool(http, base + "/mcp", "price", args_price)
            upstream_after_100 = dict(upstream.calls)
            for _ in range(50):  # warm-up of both paths
                call_tool(http, base + "/mcp", "price", args_price)
                call_tool(http, base + "/mcp", "ping", {})
            price, ping = [], []
            for _ in range(args.rounds):
                price.append(call_tool(http, base + "/mcp", "price", args_price))
                ping.append(call_tool(http, base + "/mcp", "ping", {}))
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
