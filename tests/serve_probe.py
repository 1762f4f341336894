"""`twilight serve` in this process, watched from a thread: which heavy libraries it has loaded.

Run by tests/test_lazy_imports.py as `python -m tests.serve_probe PORT TOKEN` in a fresh
interpreter (the test process has imported everything already), with the environment naming
the stand-in upstreams. The server runs exactly as the CLI starts it (its main thread, its
lifespan and background loops); a thread waits for /healthz, notes the heavy modules loaded,
asks `price` over HTTP (served by akshare, from the Eastmoney stand-in), notes them again, and
stops the server. The last line on stdout is the report, as JSON.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from typing import Any

# What a server must not load until a question needs it (hypothesis: never, at run time).
HEAVY = ("akshare", "yfinance", "pytdx", "tushare", "pandas", "numpy", "alembic", "bs4", "lxml", "curl_cffi",
         "py_mini_racer", "matplotlib", "hypothesis", "requests")  # fmt: skip


def loaded() -> list[str]:
    return [name for name in HEAVY if name in sys.modules]


def probe(port: int, token: str, report: dict[str, Any]) -> None:
    import httpx  # the server has it already (web search, the MCP SDK)

    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        report["started"] = loaded()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream",
                   "MCP-Protocol-Version": "2025-06-18"}  # fmt: skip
        arguments = {"code": "600519", "trade_date": "2024-06-20"}
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "price", "arguments": arguments}}
        answer = httpx.post(f"{base}/mcp", json=body, headers=headers, timeout=60).json()["result"]
        report["answer"] = answer.get("structuredContent") or answer
        report["after_price"] = loaded()
    except Exception as exc:
        report["error"] = repr(exc)
    finally:
        os.kill(os.getpid(), signal.SIGINT)  # uvicorn's way out: the lifespan ends, the CLI returns


def main() -> None:
    port, token = int(sys.argv[1]), sys.argv[2]
    report: dict[str, Any] = {}
    threading.Thread(target=probe, args=(port, token, report), daemon=True).start()
    from ops.cli import main as twilight

    report["exit"] = twilight(["serve", "--port", str(port)])
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
