"""Quality findings written to `quality_log`: so far, cross-source disagreement on a close.

The primary source's number is still served when sources disagree; the finding is recorded
once per (code, day, values), however many questions run into it, so that the log counts
problems rather than questions.
"""

from __future__ import annotations

import datetime as dt
import json

from warehouse.store import Warehouse, utc_naive

CROSS_CHECK_TOLERANCE_PCT = 0.01  # percent; tushare and Eastmoney agree to the cent on real data


def record_disagreement(
    store: Warehouse, ts_code: str, day: dt.date, values: dict[str, float], diff_pct: float
) -> bool:
    """Log a close on which sources disagree; False if this exact finding is already logged."""
    sources = ",".join(sorted(values))
    detail = json.dumps(
        {"field": "close", "values": dict(sorted(values.items())), "diff_pct": round(diff_pct, 6)}, sort_keys=True
    )
    seen = store.read(
        ("quality_log",),
        "SELECT count(*) FROM quality_log WHERE rule = 'cross_source_agreement' AND ts_code = ? AND trade_date = ?"
        " AND sources = ? AND detail::VARCHAR = ?",
        (ts_code, day, sources, detail),
    )
    if seen and seen[0][0]:
        return False
    store.append(
        "quality_log",
        {
            "logged_at": utc_naive(dt.datetime.now(dt.UTC)),
            "rule": "cross_source_agreement",
            "severity": "warning",
            "ts_code": ts_code,
            "trade_date": day,
            "sources": sources,
            "detail": detail,
        },
    )
    return True
