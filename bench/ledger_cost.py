"""What recording every answer costs a cache-hit `price`: servers on the same stand-in, one with the
ledger and two with TWILIGHT_LEDGER_ENABLED=false (their ratio is the noise floor), called in turn.

Both sign their answers (receipts are part of every answer either way); the difference is the
ledger entry, whose write happens off the call's path (buffered, flushed every 0.5 s). It also
prints what signing one price envelope costs in-process.

    python bench/ledger_cost.py [--rounds 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import MCP_HEADERS, bench_env, bench_token, call_tool, free_port, percentile, serve
from citation.receipts import Signer
from tests.fake_tushare import FakeTushare

PRICE = {"code": "600519", "trade_date": "20240620"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()
    upstream = FakeTushare(token="bench").start()
    servers, clients, urls = [], [], []
    try:
        for enabled in ("true", "false", "false"):  # the third: an A/A pair with the second, for the noise
            env = bench_env(tempfile.mkdtemp(prefix="twilight-bench-"), upstream.url, TWILIGHT_LEDGER_ENABLED=enabled)
            port = free_port()
            token = bench_token(env)
            servers.append(serve(env, port))
            clients.append(httpx.Client(headers={"Authorization": f"Bearer {token}", **MCP_HEADERS}, timeout=10))
            urls.append(f"http://127.0.0.1:{port}/mcp")
        for http, url in zip(clients, urls, strict=True):  # cold fetch, then warm-up
            for _ in range(50):
                call_tool(http, url, "price", PRICE)
        times: list[list[float]] = [[], [], []]
        for _ in range(args.rounds):
            for i in (0, 1, 2):
                times[i].append(call_tool(clients[i], urls[i], "price", PRICE))
        envelope = httpx.post(urls[0], json={"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                              "params": {"name": "price", "arguments": PRICE}},
                              headers=clients[0].headers).json()["result"]["structuredContent"]  # fmt: skip
    finally:
        for http in clients:
            http.close()
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        upstream.stop()
    signer = Signer.from_file(Path(tempfile.mkdtemp()) / "key.pem")
    started = time.perf_counter()
    for _ in range(2000):
        signer.receipt(envelope)
    sign_us = (time.perf_counter() - started) / 2000 * 1e6

    ms = 1000.0
    with_ledger, without, again = times
    print(f"rounds: {args.rounds} each, the three servers in turn, keep-alive connections")
    for name, values in (("price, ledger on", with_ledger), ("price, ledger off", without)):
        print(f"{name:18} p50 {percentile(values, 0.5) * ms:6.2f} ms   p95 {percentile(values, 0.95) * ms:6.2f} ms"
              f"   mean {statistics.fmean(values) * ms:6.2f} ms")  # fmt: skip
    print(
        f"ratio on/off: p50 {percentile(with_ledger, 0.5) / percentile(without, 0.5):.3f}x   "
        f"mean {statistics.fmean(with_ledger) / statistics.fmean(without):.3f}x   (target: not measurably slower)"
    )
    print(f"noise floor, off/off (two servers alike): p50 {percentile(again, 0.5) / percentile(without, 0.5):.3f}x"
          f"   mean {statistics.fmean(again) / statistics.fmean(without):.3f}x")  # fmt: skip
    print(f"signing one price envelope (canonical JSON + Ed25519) in-process: {sign_us:.1f} us")


if __name__ == "__main__":
    main()
