"""A loopback TDX hq server, serving the real daily bars in tests/fixtures/tushare to the real pytdx.

It speaks the wire protocol pytdx's parsers read (pytdx/parser/base.py and get_security_bars.py):
a request is a 10-byte header whose bytes 6..7 give the body length, then the body, whose first
two bytes are the command; an answer is a 16-byte header ending in the body's zipped and unzipped
sizes (equal when it is sent plain), then the body, zlib-compressed when that is shorter. The three
setup commands pytdx sends on connect are acknowledged; `get_security_bars` (category 9) answers
the bars from the fixtures, encoded as the inverses of pytdx's decoders (`encode_price`,
`encode_volume`) and in TDX's units: vol in lots (as in tushare), amount in yuan (tushare's
thousand yuan x 1000). Other categories get no bars, other commands a closed connection.

Modes: "down" closes every connection at once, "garbage" answers bars with a frame that is not
the zlib stream its header announces, "short" with fewer bars than it announces, "slow" waits
`delay` seconds before answering bars. `calls` counts connections and requests.

Run it by hand: `python -m tests.fake_tdx --port 7709`, then point pytdx at 127.0.0.1:7709.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import re
import socket
import socketserver
import struct
import threading
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple

from tests.loopback import run_until_interrupted

FIXTURES = Path(__file__).parent / "fixtures" / "tushare"
MARKETS = {"SZ": 0, "SH": 1}
SETUP = 0x000D, 0x0FDB  # pytdx's SetupCmd1/2 and SetupCmd3
SECURITY_BARS = 0x052D
MAGIC = 0x0074CBB1  # first word of every answer in pytdx's recorded sample
_REQUEST_HEADER = 10
_DAILY_FILE = re.compile(r"^daily_\d{6}\.(SH|SZ)_")
_BARS_REQUEST = struct.Struct("<HH6sHHHH")  # command, market, code, category, 1, start, count


class Bar(NamedTuple):
    day: int  # YYYYMMDD
    open: int  # thousandths of a yuan
    close: int
    high: int
    low: int
    vol: float  # lots
    amount: float  # yuan


def encode_price(value: int) -> bytes:
    """Inverse of `pytdx.helper.get_price`: 6 bits and a sign in the first byte, then 7 bits a byte."""
    magnitude = abs(value)
    first = (magnitude & 0x3F) | (0x40 if value < 0 else 0)
    magnitude >>= 6
    out = bytearray([first | (0x80 if magnitude else 0)])
    while magnitude:
        byte = magnitude & 0x7F
        magnitude >>= 7
        out.append(byte | (0x80 if magnitude else 0))
    return bytes(out)


def encode_volume(value: float) -> int:
    """Inverse of `pytdx.helper.get_volume`, which decodes the bits of an IEEE-754 single float."""
    bits: int = struct.unpack("<I", struct.pack("<f", value))[0]
    return bits


def encode_bars(bars: list[Bar]) -> bytes:
    """The body of a category-9 answer: opens relative to the previous close, the rest to the open."""
    body = bytearray(struct.pack("<H", len(bars)))
    previous_close = 0
    for bar in bars:
        body += struct.pack("<I", bar.day)
        body += encode_price(bar.open - previous_close)
        body += encode_price(bar.close - bar.open)
        body += encode_price(bar.high - bar.open)
        body += encode_price(bar.low - bar.open)
        body += struct.pack("<II", encode_volume(bar.vol), encode_volume(bar.amount))
        previous_close = bar.close
    return bytes(body)


def frame(request_header: bytes, command: int, body: bytes, *, compress: bool = True) -> bytes:
    zipped = zlib.compress(body) if compress else body
    if len(zipped) >= len(body):
        zipped = body  # equal sizes tell pytdx the body is plain
    head = struct.pack("<I5sBHHH", MAGIC, request_header[:5], 0, command, len(zipped), len(body))
    return head + zipped


def _thousandths(text: str) -> int:
    return round(float(text) * 1000)


def load_bars() -> dict[tuple[int, str], list[Bar]]:
    """Every `daily_<code>_*.csv` fixture (tushare units) as TDX bars per (market, code), oldest first."""
    table: dict[tuple[int, str], list[Bar]] = {}
    for path in sorted(FIXTURES.glob("daily_*.csv")):
        if not _DAILY_FILE.match(path.name):
            continue  # daily_basic_*
        with path.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                digits, exchange = row["ts_code"].split(".")
                bar = Bar(
                    int(row["trade_date"]),
                    _thousandths(row["open"]),
                    _thousandths(row["close"]),
                    _thousandths(row["high"]),
                    _thousandths(row["low"]),
                    float(row["vol"]),
                    float(row["amount"]) * 1000,
                )
                table.setdefault((MARKETS[exchange], digits), []).append(bar)
    for bars in table.values():
        bars.sort()
    return table


class FakeTdx:
    """Start with `start()`; `address` is the (host, port) to give the client."""

    def __init__(self, port: int = 0) -> None:
        self.bars = load_bars()
        self.calls: Counter[str] = Counter()  # "connect", "setup", "get_security_bars"
        self.mode: str | None = None  # down | garbage | short | slow
        self.delay = 1.0  # seconds, in mode "slow"
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", port), self._handler(), bind_and_activate=False)
        self._server.daemon_threads = True
        self._server.allow_reuse_address = True
        self._server.server_bind()
        self._server.server_activate()
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> FakeTdx:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.drop_connections()
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
        self.mode = None
        self.delay = 1.0

    def drop_connections(self) -> None:
        """Hang up on every client, as a server restart or an idle timeout would."""
        with self._lock:
            connections = list(self._open)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def count(self, what: str) -> None:
        with self._lock:
            self.calls[what] += 1

    def answer_bars(self, header: bytes, body: bytes) -> bytes:
        _, market, code, category, _, start, count = _BARS_REQUEST.unpack_from(body)
        bars = self.bars.get((market, code.decode("ascii", "replace")), []) if category == 9 else []
        end = max(0, len(bars) - start)
        page = bars[max(0, end - count) : end]
        if self.mode == "slow":
            time.sleep(self.delay)
        if self.mode == "garbage":
            junk = b"this is not a zlib stream"
            return struct.pack("<I5sBHHH", MAGIC, header[:5], 0, SECURITY_BARS, len(junk), len(junk) + 100) + junk
        encoded = encode_bars(page)
        if self.mode == "short" and page:
            encoded = struct.pack("<H", len(page) + 5) + encoded[2:]
        return frame(header, SECURITY_BARS, encoded)

    def _handler(self) -> type[socketserver.StreamRequestHandler]:
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                fake.count("connect")
                with fake._lock:
                    fake._open.add(self.request)
                try:
                    self._serve()
                except OSError:
                    pass  # the client hung up (or timed out) mid-answer
                finally:
                    with fake._lock:
                        fake._open.discard(self.request)

            def _serve(self) -> None:
                while fake.mode != "down":
                    header = self.rfile.read(_REQUEST_HEADER)
                    if len(header) < _REQUEST_HEADER:
                        return
                    (length,) = struct.unpack_from("<H", header, 6)
                    body = self.rfile.read(length)
                    if len(body) < max(2, length) or fake.mode == "down":
                        return
                    (command,) = struct.unpack_from("<H", body)
                    if command in SETUP:
                        fake.count("setup")
                        answer = frame(header, command, b"\x00" * 4 + body[-1:], compress=False)
                    elif command == SECURITY_BARS and length >= _BARS_REQUEST.size:
                        fake.count("get_security_bars")
                        answer = fake.answer_bars(header, body)
                    else:
                        return
                    self.wfile.write(answer)
                    self.wfile.flush()

        return Handler


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, default=7709)
    args = cli.parse_args()
    server = FakeTdx(args.port).start()
    host, port = server.address
    run_until_interrupted(server, f"fake TDX hq at {host}:{port} ({len(server.bars)} codes)")
