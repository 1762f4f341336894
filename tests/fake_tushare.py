"""A loopback stand-in for tushare's HTTP API, serving the real figures in tests/fixtures/tushare.

It speaks tushare's wire protocol, so the official SDK runs unmodified against it:
`POST {url}/{api_name}` with `{api_name, token, params, fields}` answers
`{code, msg, data: {fields, items}}`; API errors are HTTP 200 with a non-zero `code`.
Rows come newest-first, as tushare sends them. Calls are counted per api for the tests.

Run it by hand for a demo: `python -m tests.fake_tushare --port 7777 --token demo`.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.loopback import LoopbackHTTP, respond, run_until_interrupted

FIXTURES = Path(__file__).parent / "fixtures" / "tushare"
DATE_COLUMN = {
    "daily": "trade_date",
    "adj_factor": "trade_date",
    "daily_basic": "trade_date",
    "trade_cal": "cal_date",
    "fina_indicator": "ann_date",
    "income": "ann_date",
    "balancesheet": "ann_date",
    "cashflow": "ann_date",
    "stock_basic": "list_date",
    "index_daily": "trade_date",
    "index_basic": "list_date",
    "fund_daily": "trade_date",
    "fund_adj": "trade_date",
    "fund_basic": "list_date",
    "moneyflow": "trade_date",
    "cn_cpi": "month",  # asked by start_m/end_m, which the stand-in does not filter on: the module keeps the window
    "cn_ppi": "month",
    "cn_m": "month",
    "sf_month": "month",
    "shibor": "date",
    "dividend": "end_date",  # asked by code only: the column orders its rows
    "top10_holders": "end_date",  # start_date/end_date of these are report periods (tushare's documentation)
    "top10_floatholders": "end_date",
    "stk_holdernumber": "ann_date",
    "forecast": "ann_date",
    "express": "ann_date",
    "index_weight": "trade_date",
    "index_classify": "index_code",  # no date: asked by version (src), ordered by code
    "index_member_all": "in_date",
}
# Columns tushare sends as strings though they look like numbers (the stand-in would send floats).
TEXT_COLUMNS = {"index_classify": frozenset({"industry_code", "parent_code"})}
# Parameters that select rows by a column of the same name (beyond ts_code, trade_date and the window).
SELECTORS = ("index_code", "src")
ROW_CAP = 6000  # tushare's cap per request for daily, adj_factor and daily_basic
TOKEN_INVALID = (40101, "抱歉，您输入的TOKEN无效！")
NO_PERMISSION = (
    40203,
    "抱歉，您没有访问该接口的权限，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。",
)
# verbatim from shared/fixtures/real/tushare_wire/api_error_40203.json (a recorded tushare response)
API_NO_PERMISSION = (40203, "抱歉，您没有接口访问权限，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。")
PER_MINUTE = (
    40203,
    "抱歉，您每分钟最多访问该接口200次，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。",
)
PER_DAY = (
    40203,
    "抱歉，您每天最多访问该接口20000次，权限的具体详情访问：https://tushare.pro/document/1?doc_id=108。",
)


def _value(text: str) -> Any:
    if text == "":
        return None
    try:
        return float(text)
    except ValueError:
        return text


def load_tables() -> dict[str, tuple[list[str], list[dict[str, str]]]]:
    tables: dict[str, tuple[list[str], list[dict[str, str]]]] = {}
    for path in sorted(FIXTURES.glob("*.csv")):
        api = max((a for a in DATE_COLUMN if path.name.startswith(a + "_")), key=len)
        with path.open(encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = list(reader.fieldnames or [])
            rows = list(reader)
        if api in tables:
            tables[api][1].extend(rows)
        else:
            tables[api] = (fields, rows)
    for api, (_, rows) in tables.items():
        rows.sort(key=lambda r: r[DATE_COLUMN[api]], reverse=True)
    return tables


class FakeTushare(LoopbackHTTP):
    """Start with `start()`; `url` is what TUSHARE_API_URL should be set to."""

    methods = ("POST",)
    base_path = "/dataapi"

    def __init__(self, token: str = "test-token", port: int = 0) -> None:
        self.token = token
        self.tables = load_tables()
        self.calls: Counter[str] = Counter()
        self.mode: str | None = None  # down | rate_limit | daily_limit | no_permission | bad_json | slow
        self.delay = 0.0
        self.fail_next = 0  # answer HTTP 503 to this many requests, then recover
        self.row_cap = ROW_CAP  # rows per request, as tushare caps them (a larger `limit` is cut to it)
        # (api, ts_code, YYYYMMDD) -> fields to answer instead of the fixture's (bad data on demand)
        self.patches: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.refused: set[str] = set()  # apis answering tushare's real 40203 (API_NO_PERMISSION) to this token
        super().__init__(port)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
        self.mode = None
        self.delay = 0.0
        self.fail_next = 0
        self.row_cap = ROW_CAP
        self.patches.clear()
        self.refused.clear()

    def answer(self, api: str, body: dict[str, Any]) -> tuple[int, dict[str, Any] | bytes]:
        with self._lock:
            self.calls[api] += 1
            failing = self.fail_next > 0
            self.fail_next -= 1 if failing else 0
        if self.delay:
            time.sleep(self.delay)
        if failing or self.mode == "down":
            return 503, b"<html>503 Service Temporarily Unavailable</html>"
        if self.mode == "slow":
            time.sleep(5)
        if self.mode == "bad_json":
            return 200, b"{not json"
        if body.get("token") != self.token:
            return 200, {"code": TOKEN_INVALID[0], "msg": TOKEN_INVALID[1], "data": None}
        refusal = {"rate_limit": PER_MINUTE, "daily_limit": PER_DAY, "no_permission": NO_PERMISSION}.get(
            self.mode or ""
        )
        if refusal:
            return 200, {"code": refusal[0], "msg": refusal[1], "data": None}
        if api in self.refused:
            return 200, {"code": API_NO_PERMISSION[0], "msg": API_NO_PERMISSION[1], "data": None}
        if api not in self.tables:
            return 200, {"code": 40101, "msg": "请指定正确的接口名 " + api, "data": None}
        fields, rows = self.tables[api]
        params = body.get("params") or {}
        selected = [r for r in rows if self._match(api, r, params)]
        offset = int(params.get("offset") or 0)
        limit = min(int(params.get("limit") or self.row_cap), self.row_cap)
        selected = selected[offset : offset + limit]
        wanted = [f for f in str(body.get("fields") or "").split(",") if f in fields] or fields
        column = DATE_COLUMN[api]
        items = []
        for r in selected:
            patch = self.patches.get((api, r.get("ts_code", ""), r[column]))
            row = {**r, **{k: "" if v is None else str(v) for k, v in patch.items()}} if patch else r
            text = TEXT_COLUMNS.get(api, frozenset())
            items.append([(row[f] or None) if f in text else _value(row[f]) for f in wanted])
        return 200, {"code": 0, "msg": "", "data": {"fields": wanted, "items": items, "has_more": False}}

    @staticmethod
    def _match(api: str, row: dict[str, str], params: dict[str, Any]) -> bool:
        column = DATE_COLUMN[api]
        if params.get("ts_code") and row.get("ts_code") != params["ts_code"]:
            return False
        if params.get("exchange") and row.get("exchange", "SSE") != params["exchange"]:
            return False
        if params.get("trade_date") and row.get("trade_date") != params["trade_date"]:
            return False
        if params.get("period") and row.get("end_date") != params["period"]:
            return False
        if any(params.get(name) and row.get(name) != params[name] for name in SELECTORS):
            return False
        if params.get("start_date") and row[column] < params["start_date"]:
            return False
        return not (params.get("end_date") and row[column] > params["end_date"])

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        try:
            body = json.loads(request.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            body = {}
        api = request.path.rstrip("/").rsplit("/", 1)[-1]
        status, payload = self.answer(api, body)
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        respond(request, status, data, {"Content-Type": "application/json"})


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--port", type=int, default=7777)
    cli.add_argument("--token", default="demo")
    args = cli.parse_args()
    server = FakeTushare(args.token, args.port).start()
    run_until_interrupted(server, f"fake tushare at {server.url} (token {args.token!r})")
