"""What every bench shares: the CLI next to this interpreter, a free loopback port, percentiles."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TWILIGHT = str(Path(sys.executable).with_name("twilight"))
# A bench key: the default limit (60 requests a minute) would answer most of a bench with 429.
ISSUE_BENCH_TOKEN = [TWILIGHT, "token", "issue", "--user", "bench", "--rate-limit", "1000000"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
