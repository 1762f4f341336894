"""Render time of `chart`'s PNG for 1, 2 and 5 years of real daily bars (target: well under a second).

Draws 600519.SH's real bars of 2020-2024 (tests/fixtures/tushare/daily_600519.SH_2020-2024.csv)
as `chart` draws them, candles and closes, with MA20 and MA60 over them, and prints the median
of several renders of each, plus the first render of the process (matplotlib's import in it).

    python bench/chart.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from mcp_server.chart_tool import Bars, means
from mcp_server.drawing import Line, Picture, render
from warehouse.views import COLUMNS

BARS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "tushare" / "daily_600519.SH_2020-2024.csv"
TRADING_DAYS = 242  # about a year of A-share sessions


def _rows() -> list[list[object]]:
    """The fixture's bars as curated rows (COLUMNS["curated"] order), oldest first."""
    with BARS.open(encoding="utf-8") as handle:
        found = sorted(csv.DictReader(handle), key=lambda r: r["trade_date"])
    rows = []
    for r in found:
        day = f"{r['trade_date'][:4]}-{r['trade_date'][4:6]}-{r['trade_date'][6:]}"
        prices = {k: float(r[k]) for k in ("open", "high", "low", "close", "pre_close", "vol", "amount")}
        values = {"ts_code": r["ts_code"], "trade_date": day, "currency": "CNY", "adj_factor": None,
                  "source": "tushare", "factor_source": None, "fetched_at": None, **prices}  # fmt: skip
        rows.append([values[c] for c in COLUMNS["curated"]])
    return rows


def _picture(rows: list[list[object]], years: int, kind: str) -> Picture:
    first = max(0, len(rows) - years * TRADING_DAYS)
    closes = Bars(rows, first).column("close")
    drawn = Bars(rows[first:], 0)
    lines = [Line(f"MA{n}", means(closes, n)[first:], color) for n, color in ((20, "#ff9900"), (60, "#9933ff"))]

    return Picture(
        title=f"600519.SH {years}y", dates=drawn.column("trade_date"), open=drawn.column("open"),
        high=drawn.column("high"), low=drawn.column("low"), close=drawn.column("close"), volume=drawn.column("vol"),
        kind=kind, price_label="CNY", volume_label="vol, 10k lots", lines=lines,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = _rows()
    started = time.perf_counter()
    render(_picture(rows, 1, "kline"))
    print(f"first render (imports matplotlib): {(time.perf_counter() - started) * 1000:.0f} ms")
    for kind in ("kline", "line"):
        for years in (1, 2, 5):
            picture = _picture(rows, years, kind)
            times = []
            for _ in range(args.rounds):
                began = time.perf_counter()
                png = render(picture)
                times.append(time.perf_counter() - began)
            print(f"{kind:5} {years}y {len(picture.dates):5} bars: median {statistics.median(times) * 1000:6.0f} ms,"
                  f" max {max(times) * 1000:6.0f} ms, {len(png) // 1024} KB")  # fmt: skip


if __name__ == "__main__":
    main()
