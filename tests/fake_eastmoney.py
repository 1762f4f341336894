"""A loopback stand-in for the Eastmoney endpoints akshare calls, serving real figures.

- `GET /api/qt/stock/kline/get` (push2his.eastmoney.com): daily klines, Eastmoney's JSON
  (`data.klines` as "date,open,close,high,low,vol,amount,amplitude,pct,change,turnover").
  Unadjusted (fqt=0) rows are tushare's `daily` rows from tests/fixtures/tushare, which are
  the same exchange numbers: volume in lots, amount x1000 into CNY (PROVENANCE.md checks
  that Eastmoney's 成交量/成交额 equal tushare's vol/amount x1000 exactly); the 沪深300ETF's are
  akshare `fund_etf_hist_em` output from tests/fixtures/eastmoney, served as it is. Forward-adjusted
  (fqt=1) rows are the real Eastmoney qfq files in tests/fixtures/eastmoney, so a client
  that asks for them gets numbers that differ from tushare's, as it would in production.
- `GET /securities/api/data/get` (datacenter.eastmoney.com): F10 main financial indicators,
  tushare's `fina_indicator` figures under Eastmoney's field names.
- `GET /api/qt/clist/get` (82.push2.eastmoney.com): the spot list, paged 100 at a time, from
  a 149-code slice of the real full-market tushare snapshot of 2026-04-15 (as if at the close:
  price = close; fields Eastmoney has and tushare's daily lacks are "-", as Eastmoney sends
  for missing values).
- `GET /api/data/v1/get` (datacenter-web.eastmoney.com): the monthly CPI, PPI and PMI tables
  (reportName RPT_ECONOMY_CPI/PPI/PMI), from akshare's own output of `macro_china_cpi/ppi/pmi`
  mapped back to Eastmoney's field names, sent in the order the `columns` parameter lists them
  (akshare renames them by position) and paged by pageSize/pageNumber.

The transport routes every host to this one server; the path tells them apart.
Run it by hand: `python -m tests.fake_eastmoney --port 7701`.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.loopback import LoopbackHTTP, respond, run_until_interrupted

FIXTURES = Path(__file__).parent / "fixtures"
_INDICATORS = {
    "EPSJB": "eps", "BPS": "bps", "ROEJQ": "roe", "ZZCJLL": "roa", "XSMLL": "grossprofit_margin",
    "XSJLL": "netprofit_margin", "ZCFZL": "debt_to_assets", "LD": "current_ratio", "TOTALOPERATEREVETZ": "or_yoy",
    "PARENTNETPROFITTZ": "netprofit_yoy",
}  # fmt: skip


def _iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:8]}"


def _num(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def _raw_klines() -> dict[str, list[tuple[str, str]]]:
    """code -> [(YYYY-MM-DD, kline)] from tushare daily rows, oldest first."""
    out: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((FIXTURES / "tushare").glob("daily_[0-9]*.csv")):
        with path.open(encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                pre = float(r["pre_close"])
                amplitude = (float(r["high"]) - float(r["low"])) / pre * 100
                amount_cny = float(r["amount"]) * 1000
                line = (
                    f"{_iso(r['trade_date'])},{r['open']},{r['close']},{r['high']},{r['low']},"
                    f"{r['vol']},{amount_cny:.3f},{amplitude:.2f},{r['pct_chg']},{r['change']},-"
                )
                out.setdefault(r["ts_code"][:6], []).append((_iso(r["trade_date"]), line))
    for path in sorted((FIXTURES / "eastmoney").glob("fund_etf_hist_em_*_bfq_*.csv")):
        code = path.name.split("_")[4]  # fund_etf_hist_em_<code>_bfq_...: Eastmoney's kline fields already
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
        out[code] = [(line.split(",", 1)[0], line) for line in lines]
    return {code: sorted(rows) for code, rows in out.items()}


def _qfq_klines() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for path in sorted((FIXTURES / "eastmoney").glob("stock_zh_a_hist_*_qfq_*.csv")):
        with path.open(encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                cols = ("开盘", "收盘", "最高", "最低", "成交量", "成交额", "振幅", "涨跌幅", "涨跌额", "换手率")
                out.setdefault(r["股票代码"].zfill(6), []).append(
                    (r["日期"], ",".join([r["日期"], *(r[c] for c in cols)]))
                )
    return {code: sorted(rows) for code, rows in out.items()}


def _indicators() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with (FIXTURES / "tushare" / "fina_indicator_600519.SH.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            row: dict[str, Any] = {
                "SECUCODE": r["ts_code"],
                "SECURITY_CODE": r["ts_code"][:6],
                "REPORT_DATE": _iso(r["end_date"]) + " 00:00:00",
                "NOTICE_DATE": _iso(r["ann_date"]) + " 00:00:00",
            }
            row.update({theirs: _num(r[ours]) for theirs, ours in _INDICATORS.items()})
            out.setdefault(r["ts_code"], []).append(row)
    for rows in out.values():
        rows.sort(key=lambda x: x["REPORT_DATE"], reverse=True)
    return out


# reportName -> (akshare function whose output is the fixture, Eastmoney field -> akshare column)
_AREAS = {"NATIONAL": "全国", "CITY": "城市", "RURAL": "农村"}
_CPI_PARTS = {"SAME": "同比增长", "BASE": "当月", "SEQUENTIAL": "环比增长", "ACCUMULATE": "累计"}
_MACRO = {
    "RPT_ECONOMY_CPI": ("macro_china_cpi", {f"{area}_{part}": f"{cn}-{col}" for area, cn in _AREAS.items()
                                            for part, col in _CPI_PARTS.items()}),
    "RPT_ECONOMY_PPI": ("macro_china_ppi", {"BASE": "当月", "BASE_SAME": "当月同比增长", "BASE_ACCUMULATE": "累计"}),
    "RPT_ECONOMY_PMI": ("macro_china_pmi", {"MAKE_INDEX": "制造业-指数", "MAKE_SAME": "制造业-同比增长",
                                            "NMAKE_INDEX": "非制造业-指数", "NMAKE_SAME": "非制造业-同比增长"}),
}  # fmt: skip


def _macro_rows() -> dict[str, list[dict[str, Any]]]:
    """reportName -> Eastmoney rows, newest first (REPORT_DATE is the month's first day)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for report, (api, fields) in _MACRO.items():
        (path,) = (FIXTURES / "eastmoney").glob(f"{api}_*.csv")
        with path.open(encoding="utf-8") as handle:
            for r in csv.DictReader(handle):
                year, month = re.findall(r"\d+", r["月份"])
                row: dict[str, Any] = {"REPORT_DATE": f"{year}-{month}-01 00:00:00", "TIME": r["月份"]}
                row.update({theirs: _num(r[ours]) for theirs, ours in fields.items()})
                out.setdefault(report, []).append(row)
    return {report: sorted(rows, key=lambda x: x["REPORT_DATE"], reverse=True) for report, rows in out.items()}


_SPOT_FIELDS = (*range(1, 19), *range(20, 26), 62, 115, 128, 136, 140, 141, 152)


def _spot_rows() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with (FIXTURES / "eastmoney" / "daily_all_20260415_slice.csv").open(encoding="utf-8") as handle:
        for r in csv.DictReader(handle):
            pre, high, low = float(r["pre_close"]), float(r["high"]), float(r["low"])
            values: dict[int, Any] = {
                2: float(r["close"]), 3: float(r["pct_chg"]), 4: float(r["change"]), 5: float(r["vol"]),
                6: round(float(r["amount"]) * 1000, 2), 7: round((high - low) / pre * 100, 2), 12: r["ts_code"][:6],
                13: 1 if r["ts_code"].endswith(".SH") else 0, 14: r["ts_code"], 15: high, 16: low,
                17: float(r["open"]), 18: pre, 152: 2,
            }  # fmt: skip
            # Eastmoney sends its fields in numeric order, two more than akshare asks for, and
            # akshare renames them by position: the order and the count are the wire format.
            row = {f"f{n}": values.get(n, "-") for n in _SPOT_FIELDS}
            out.append(row)
    return out


class FakeEastmoney(LoopbackHTTP):
    def __init__(self, port: int = 0) -> None:
        self.klines = {"0": _raw_klines(), "1": _qfq_klines()}
        self.indicators = _indicators()
        self.spot = _spot_rows()
        self.macro = _macro_rows()
        self.calls: Counter[str] = Counter()
        self.requests: list[dict[str, str]] = []
        # down | rate_limit | bad_json | empty | skewed (prices 0.5% high: a source that disagrees)
        self.mode: str | None = None
        super().__init__(port)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.requests.clear()
        self.mode = None

    def answer(self, path: str, params: dict[str, str]) -> tuple[int, bytes]:
        with self._lock:
            self.calls[path] += 1
            self.requests.append({"path": path, **params})
        if self.mode == "down":
            return 502, b"<html>502 Bad Gateway</html>"
        if self.mode == "rate_limit":
            return 429, b"<html>Too Many Requests</html>"
        if self.mode == "bad_json":
            return 200, b"{not json"
        if path.endswith("/kline/get"):
            body = self._kline(params)
        elif path.endswith("/clist/get"):
            body = self._spot(params)
        elif path.endswith("/data/get"):
            body = self._finance(params)
        elif path.endswith("/data/v1/get"):
            body = self._macro(params)
        else:
            return 404, b"<html>404</html>"
        return 200, json.dumps(body, ensure_ascii=False).encode()

    def _kline(self, params: dict[str, str]) -> dict[str, Any]:
        market, _, code = params.get("secid", "").partition(".")
        rows = self.klines.get(params.get("fqt", "0"), {}).get(code, [])
        begin, end = _iso(params.get("beg", "19700101")), _iso(params.get("end", "20500101"))
        lines = [line for day, line in rows if begin <= day <= end]
        if self.mode == "skewed":
            lines = [self._skew(line) for line in lines]
        if self.mode == "empty" or not rows:
            return {"rc": 0, "rt": 17, "svr": 1, "lt": 1, "full": 0, "dlmkts": "", "data": None}
        data = {"code": code, "market": int(market or 0), "name": code, "decimal": 2, "dktotal": len(rows),
                "preKPrice": 0.0, "klines": lines}  # fmt: skip
        return {"rc": 0, "rt": 17, "svr": 1, "lt": 1, "full": 0, "dlmkts": "", "data": data}

    def _spot(self, params: dict[str, str]) -> dict[str, Any]:
        page, size = int(params.get("pn", "1")), int(params.get("pz", "100"))
        rows = self.spot[(page - 1) * size : page * size]
        return {"rc": 0, "rt": 6, "svr": 1, "lt": 1, "full": 1, "dlmkts": "",
                "data": {"total": len(self.spot), "diff": rows}}  # fmt: skip

    @staticmethod
    def _skew(line: str) -> str:
        day, *prices, rest = line.split(",", 5)
        return ",".join([day, *(f"{float(p) * 1.005:.2f}" for p in prices), rest])

    def _finance(self, params: dict[str, str]) -> dict[str, Any]:
        match = re.search(r'SECUCODE="([^"]+)"', params.get("filter", ""))
        rows = self.indicators.get(match.group(1) if match else "", [])
        if self.mode == "empty" or not rows:
            return {"version": None, "result": None, "success": False, "message": "返回数据为空", "code": 9201}
        result = {"pages": 1, "data": rows, "count": len(rows)}
        return {"version": None, "result": result, "success": True, "message": "ok", "code": 0}

    def _macro(self, params: dict[str, str]) -> dict[str, Any]:
        rows = self.macro.get(params.get("reportName", ""), [])
        if self.mode == "empty" or not rows:
            return {"version": None, "result": None, "success": False, "message": "返回数据为空", "code": 9201}
        if params.get("sortTypes") == "1":
            rows = rows[::-1]
        requested = [c for c in params.get("columns", "ALL").split(",") if c and c != "ALL"]
        size, page = int(params.get("pageSize", "50")), int(params.get("pageNumber", "1"))
        chosen = rows[(page - 1) * size : page * size]
        data = [{c: row.get(c) for c in requested} for row in chosen] if requested else chosen
        result = {"pages": -(-len(rows) // size), "data": data, "count": len(rows)}
        return {"version": None, "result": result, "success": True, "message": "ok", "code": 0}

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        status, data = self.answer(parts.path, params)
        respond(request, status, data, {"Content-Type": "application/json; charset=utf-8"})


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, default=7701)
    args = cli.parse_args()
    server = FakeEastmoney(args.port).start()
    run_until_interrupted(server, f"fake Eastmoney at {server.url} (set TWILIGHT_EASTMONEY_URL to it)")
