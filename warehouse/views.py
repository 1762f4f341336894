"""What the warehouse tools read: layers of one code, features, reports, quality state.

These answer from the store only, never upstream: the warehouse is authoritative for what it
holds, and says what it holds when a question falls outside it. They read through
`Warehouse.read` (remembered until a write), from the primary or from a read-only replica.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from providers.models import DATASETS
from providers.symbols import InvalidArgument
from warehouse.freshness import is_stale
from warehouse.pointintime import Found, found_rows, select_list
from warehouse.store import Warehouse, utc_aware

MAX_ROWS = 5000  # about twenty years of trading days; larger answers drown an agent's context
MAX_RAW_PAYLOADS = 20
_PRICES = ("open", "high", "low", "close", "pre_close")
_DAILY = DATASETS["daily"].columns
_REPORTS = DATASETS["fina_indicator"]
COLUMNS = {
    "curated": (*_DAILY, "adj_factor", "source", "factor_source", "fetched_at"),
    "normalized": (*_DAILY, "source", "fetched_at"),
}
_DERIVED_DECIMALS = 4
FEATURES = ("close_qfq", "ma_5", "ma_10", "ma_20", "ma_60", "momentum_5d", "momentum_20d", "volatility_20d",
            "pe_ttm", "pb", "pe_band_low", "pe_band_mid", "pe_band_high", "pe_percentile", "pe_band_days")  # fmt: skip


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]
    sources: list[str]
    ingested_at: dt.datetime | None
    notes: list[str]


def _as_json(column: str) -> str:
    """A column selected as its JSON value (dates as text, NaN as null), so that a 1,200-row
    answer needs no per-value conversion in Python."""
    if column == "trade_date":
        return "strftime(trade_date, '%Y-%m-%d') AS trade_date"
    if column == "fetched_at":
        return "strftime(fetched_at, '%Y-%m-%dT%H:%M:%S.%f+00:00') AS fetched_at"
    if column in ("ts_code", "currency", "source", "factor_source"):
        return column
    return f"CASE WHEN isnan({column}) THEN NULL ELSE {column} END AS {column}"


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return utc_aware(value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value


class WarehouseViews:
    def __init__(self, store: Warehouse) -> None:
        self.store = store

    def _held(self, code: str) -> str:
        first, last = self.store.read(
            ("cur_daily",), "SELECT min(trade_date), max(trade_date) FROM cur_daily WHERE ts_code = ?", (code,)
        )[0]
        if first is None:
            return f"the warehouse holds no bars of {code}"
        return f"the warehouse holds {code} from {first.isoformat()} to {last.isoformat()}"

    def daily(self, code: str, start: dt.date, end: dt.date, layer: str, adjust: str) -> Table:
        if layer == "raw":
            if adjust != "none":
                raise InvalidArgument("adjust", "raw payloads are as upstream sent them", "use adjust=none with raw")
            return self._raw(code, start, end)
        if adjust != "none" and layer != "curated":
            raise InvalidArgument("adjust", f"{layer} rows carry no factor", "use layer=curated to adjust")
        columns = COLUMNS[layer]
        table = "cur_daily" if layer == "curated" else "norm_daily"
        count = self.store.read(
            (table,),
            f"SELECT count(*) FROM {table} WHERE ts_code = ? AND trade_date BETWEEN ? AND ?",
            (code, start, end),
        )[0][0]
        if count > MAX_ROWS:
            raise InvalidArgument(
                "start", f"{start.isoformat()}..{end.isoformat()} holds {count} rows of {code}, over {MAX_ROWS}",
                "ask for a shorter range (about 20 years of daily bars fit)",
            )  # fmt: skip
        where = f"FROM {table} WHERE ts_code = ? AND trade_date BETWEEN ? AND ?"
        rows = self.store.read(
            (table,), f"SELECT {', '.join(_as_json(c) for c in columns)} {where} ORDER BY trade_date, source",
            (code, start, end),
        )  # fmt: skip
        if not rows:
            raise InvalidArgument(
                "start", f"no {layer} rows of {code} in {start.isoformat()}..{end.isoformat()}; {self._held(code)}",
                "ask for a range the warehouse holds, use `price` (it fetches on demand), or have an operator run "
                "`twilight ingest backfill`",
            )  # fmt: skip
        notes: list[str] = []
        out = [list(r) for r in rows]
        if adjust != "none":
            out, notes = self._adjust(code, out, list(columns), adjust)
        sources, ingested = self.store.read(
            (table,), f"SELECT list(DISTINCT source ORDER BY source), max(fetched_at) {where}", (code, start, end)
        )[0]
        return Table(list(columns), out, sources, ingested, notes)

    def _adjust(
        self, code: str, rows: list[list[Any]], columns: list[str], adjust: str
    ) -> tuple[list[list[Any]], list[str]]:
        latest = self.store.read(
            ("cur_daily",),
            "SELECT arg_max(adj_factor, trade_date), max(trade_date) FROM cur_daily WHERE ts_code = ?"
            " AND adj_factor IS NOT NULL",
            (code,),
        )[0]
        base, base_date = latest
        factor_at = columns.index("adj_factor")
        prices = [columns.index(c) for c in _PRICES]
        missing = 0
        for row in rows:
            factor = row[factor_at]
            if factor is None or base is None:
                missing += 1
                for i in prices:
                    row[i] = None
                continue
            scale = factor / base if adjust == "qfq" else factor
            for i in prices:
                row[i] = None if row[i] is None else round(row[i] * scale, _DERIVED_DECIMALS)
        notes = [
            f"{adjust} prices: raw x adj_factor" + (f" / {base} (the factor of {base_date})" if adjust == "qfq" else "")
        ]
        if missing:
            source = columns.index("factor_source")
            sources = sorted({str(r[source]) for r in rows if r[source]}) or ["none"]
            notes.append(f"{missing} rows have no adjustment factor from this code's factor source"
                         f" ({', '.join(sources)}: one source per code, so that scales never mix);"
                         " their prices are null")  # fmt: skip
        return rows, notes

    def _raw(self, code: str, start: dt.date, end: dt.date) -> Table:
        """Payloads that answered for this code (its own, or whole-market days), its items only."""
        payloads = self.store.read(
            ("raw_payloads",),
            "SELECT id, source, api_name, params::VARCHAR, payload::VARCHAR, fetched_at FROM raw_payloads"
            " WHERE (params->>'ts_code' = $1 OR params->>'symbol' = $2"
            "  OR (params->>'trade_date' BETWEEN $3 AND $4))"
            " AND api_name IN ('daily', 'stock_zh_a_hist', 'get_security_bars', 'chart')"
            " ORDER BY id DESC LIMIT $5",
            (code, code.split(".")[0], start.strftime("%Y%m%d"), end.strftime("%Y%m%d"), MAX_RAW_PAYLOADS),
        )
        rows = []
        for pid, source, api, params, payload, fetched in payloads:
            body = json.loads(payload)
            fields = body["fields"]
            key = fields.index("ts_code") if "ts_code" in fields else None
            items = [i for i in body["items"] if key is None or i[key] == code]
            rows.append([pid, source, api, json.loads(params), fields, items, _plain(fetched)])
        if not rows:
            raise InvalidArgument("code", f"no raw payloads for {code} in range; {self._held(code)}",
                                  "ask layer=curated, or for a range the warehouse holds")  # fmt: skip
        columns = ["raw_id", "source", "api_name", "params", "fields", "items", "fetched_at"]
        return Table(columns, rows, sorted({r[1] for r in rows}), max(p[5] for p in payloads), [])

    def features(self, code: str, day: dt.date | None) -> tuple[dt.date, dict[str, Any], dt.datetime, float | None]:
        sql = f"SELECT trade_date, {', '.join(FEATURES)}, computed_at, adj_base FROM feat_daily WHERE ts_code = ?"
        rows = self.store.read(
            ("feat_daily",),
            sql
            + (" AND trade_date <= ? ORDER BY trade_date DESC LIMIT 1" if day else " ORDER BY trade_date DESC LIMIT 1"),
            (code, day) if day else (code,),
        )
        if not rows:
            raise InvalidArgument(
                "date", f"no features of {code} on or before {day or 'today'}; {self._held(code)}",
                "ask for a date the warehouse holds, or have an operator backfill the code",
            )  # fmt: skip
        found, *values, computed, base = rows[0]
        features = {f: _plain(v) for f, v in zip(FEATURES, values, strict=True)}
        # Means and ratios of 2-decimal prices carry no 16 digits: 4 decimals, as qfq prices everywhere.
        rounded = {f: round(v, _DERIVED_DECIMALS) if isinstance(v, float) else v for f, v in features.items()}
        return found, rounded, computed, base

    def reports(self, code: str, period: dt.date | None) -> list[Found]:
        """Every stored version of the period (default: the newest period), newest announcement first."""
        where = " AND end_date = ?" if period else ""
        rows = found_rows(_REPORTS, self.store.read(
            ("norm_fina_indicator",),
            f"SELECT source, {select_list(_REPORTS)}, fetched_at FROM norm_fina_indicator WHERE ts_code = ?{where}"
            " ORDER BY end_date DESC, ann_date DESC, fetched_at DESC",
            (code, period) if period else (code,),
        ))  # fmt: skip
        if not rows:
            held = self.store.read(
                ("norm_fina_indicator",), "SELECT list(DISTINCT end_date ORDER BY end_date) FROM norm_fina_indicator"
                " WHERE ts_code = ?", (code,))[0][0] or []  # fmt: skip
            periods = ", ".join(d.isoformat() for d in held[-8:]) or "none"
            raise InvalidArgument(
                "period",
                f"no report of {code} for {period or 'any period'} in the warehouse (periods held: {periods})",
                "ask for a period held, or use `fundamentals` (it fetches on demand)",
            )  # fmt: skip
        return rows

    def status(self, now: dt.datetime, latest_final: dt.datetime) -> list[dict[str, Any]]:
        rows = self.store.read(
            ("source_freshness",),
            "SELECT source, dataset, last_success, last_failure, last_error, rows_day, rows_today"
            " FROM source_freshness ORDER BY source, dataset",
        )
        today = now.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
        out = []
        for source, dataset, success, failure, error, rows_day, rows_today in rows:
            success_at = utc_aware(success) if success else None
            out.append({
                "source": source, "dataset": dataset, "last_success": _plain(success), "last_failure": _plain(failure),
                "last_error": error, "rows_today": rows_today if rows_day == today else 0,
                "stale": is_stale(success_at, now, latest_final),
            })  # fmt: skip
        return out

    def severity_counts(self, since: dt.datetime) -> dict[str, int]:
        """Findings since `since` by severity, counted in the store (not from a capped page of them)."""
        rows = self.store.read(
            ("quality_log",), "SELECT severity, count(*) FROM quality_log WHERE logged_at >= ? GROUP BY severity",
            (since.replace(tzinfo=None),),
        )  # fmt: skip
        return {str(severity): int(n) for severity, n in rows}

    def logs(self, severity: str | None, since: dt.datetime | None, limit: int) -> list[dict[str, Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if severity:
            clauses.append("severity = ?")
            params.append(severity)
        if since:
            clauses.append("logged_at >= ?")
            params.append(since.replace(tzinfo=None))
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        rows = self.store.read(
            ("quality_log",),
            "SELECT logged_at, rule, severity, ts_code, trade_date, sources, message, detail::VARCHAR FROM quality_log"
            + where + " ORDER BY logged_at DESC, rule LIMIT ?",
            (*params, limit),
        )  # fmt: skip
        keys = ("logged_at", "rule", "severity", "ts_code", "trade_date", "sources", "message", "detail")
        return [
            {k: (json.loads(v) if k == "detail" and v else _plain(v)) for k, v in zip(keys, r, strict=True)}
            for r in rows
        ]
