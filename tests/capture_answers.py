"""Capture real tool answers for the verifier's corpus: `python -m tests.capture_answers`.

The verifier's tests must check replies against figures our tools really serve, never invented
ones. This runs the real tools (through the MCP client, as an agent calls them) against the
loopback stand-in upstreams, which serve the real fixture figures, and writes each answer's
structuredContent, with the tool name and arguments, to tests/fixtures/answers/<name>.json.
Run it again when the tools' answers change shape; the corpus refers to answers by name only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from pydantic import SecretStr

from ops.runtime import Runtime
from ops.settings import Settings
from tests.conftest import CLOSED, SettableClock
from tests.fake_eastmoney import FakeEastmoney
from tests.fake_tushare import FakeTushare
from tests.fake_yahoo import FakeYahoo
from tests.helpers import call

ANSWERS = Path(__file__).parent / "fixtures" / "answers"


@dataclass(frozen=True)
class Capture:
    name: str
    tool: str
    arguments: dict[str, Any]
    clock: tuple[int, int, int] = (2024, 12, 31)
    backfill: tuple[str, ...] = field(default=())  # codes to backfill 2020..2024 into the warehouse first


PRICE = [
    Capture("price_600519_20240620", "price", {"code": "600519", "trade_date": "2024-06-20"}),
    Capture("price_600519_20240619", "price", {"code": "600519", "trade_date": "2024-06-19"}),
    Capture("price_600519_20241231", "price", {"code": "600519", "trade_date": "2024-12-31"}),
    Capture("price_000858_20241231", "price", {"code": "000858", "trade_date": "2024-12-31"}),
    Capture("price_000858_20240620", "price", {"code": "000858", "trade_date": "2024-06-20"}),
    Capture("price_600036_20240620", "price", {"code": "600036", "trade_date": "2024-06-20"}),
    Capture("price_002594_20240620", "price", {"code": "002594", "trade_date": "2024-06-20"}),
    Capture("price_aapl", "price", {"code": "AAPL"}),
]
FUNDAMENTALS = [  # the 2025 clock last: the later reports it stores must not reach the 2024 answers
    Capture("fundamentals_600519_20240620", "fundamentals", {"code": "600519", "trade_date": "2024-06-20"}),
    Capture("fundamentals_600519_20240619", "fundamentals", {"code": "600519", "trade_date": "2024-06-19"}),
    Capture(
        "fundamentals_600519_20251023",
        "fundamentals",
        {"code": "600519", "trade_date": "20251023"},
        clock=(2025, 10, 23),
    ),
]
WAREHOUSE = [
    Capture("features_600519_20241231", "warehouse_features", {"code": "600519", "date": "2024-12-31"}),
    Capture("features_600519_20240620", "warehouse_features", {"code": "600519", "date": "2024-06-20"}),
    Capture("daily_600519_202406", "warehouse_daily", {"code": "600519", "start": "20240617", "end": "20240621"}),
    Capture(
        "daily_600519_202406_qfq",
        "warehouse_daily",
        {"code": "600519", "start": "20240617", "end": "20240621", "adjust": "qfq"},
    ),
    Capture("daily_000858_202412", "warehouse_daily", {"code": "000858", "start": "20241225", "end": "20241231"}),
    Capture("wfundamentals_600519_20240630", "warehouse_fundamentals", {"code": "600519", "period": "20240630"}),
    Capture("wfundamentals_600519_20230930", "warehouse_fundamentals", {"code": "600519", "period": "20230930"}),
]
WAREHOUSE_CODES = ("600519.SH", "000858.SZ")


def _runtime(home: Path, clock: SettableClock, tushare: FakeTushare, eastmoney: FakeEastmoney,
             yahoo: FakeYahoo) -> Runtime:  # fmt: skip
    settings = Settings(
        home=home,
        tushare_token=SecretStr("test-token"),
        tushare_api_url=tushare.url,
        upstream_backoff=0.001,
        upstream_timeout=1.0,
        eastmoney_url=eastmoney.url,
        yahoo_url=yahoo.url,
        tdx_servers=[CLOSED],
    )
    return Runtime.open(settings, clock=clock)


async def _capture(captures: list[Capture], rt: Runtime, clock: SettableClock) -> dict[str, dict[str, Any]]:
    written: dict[str, dict[str, Any]] = {}
    for capture in captures:
        clock.set(*capture.clock)
        result = await call(rt, capture.tool, **capture.arguments)
        if result.is_error or result.structured_content is None:
            raise SystemExit(f"{capture.name}: the tool failed: {result.content}")
        written[capture.name] = {
            "tool": capture.tool,
            "arguments": capture.arguments,
            "answer": result.structured_content,
        }
    return written


async def capture_all() -> dict[str, dict[str, Any]]:
    tushare, eastmoney, yahoo = FakeTushare(token="test-token").start(), FakeEastmoney().start(), FakeYahoo().start()
    clock = SettableClock()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            rt = _runtime(Path(tmp) / "live", clock, tushare, eastmoney, yahoo)
            try:
                answers = await _capture(PRICE + FUNDAMENTALS, rt, clock)
            finally:
                rt.close()
            clock.set(2025, 1, 2)
            rt = _runtime(Path(tmp) / "warehouse", clock, tushare, eastmoney, yahoo)
            try:
                await rt.ingestor.backfill(dt.date(2020, 1, 1), dt.date(2024, 12, 31), list(WAREHOUSE_CODES))
                answers |= await _capture([_at_backfill(c) for c in WAREHOUSE], rt, clock)
            finally:
                rt.close()
    finally:
        for fake in (tushare, eastmoney, yahoo):
            fake.stop()
    return answers


def _at_backfill(capture: Capture) -> Capture:
    """Warehouse reads happen the day after the backfill, as the warehouse tests read them."""
    return Capture(capture.name, capture.tool, capture.arguments, clock=(2025, 1, 2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ANSWERS)
    out: Path = parser.parse_args().out
    answers = anyio.run(capture_all)
    out.mkdir(parents=True, exist_ok=True)
    for name, entry in answers.items():
        (out / f"{name}.json").write_text(json.dumps(entry, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(answers)} answers to {out}")


if __name__ == "__main__":
    main()
