"""usage_log: every tool call a user's key made (tool, when, outcome, upstream calls it cost).

A tool call must not wait on an accounts-database write, so calls are buffered and written
in batches (by the server's background loop every few seconds, and when it stops). Calls
without a user (stdio, the local operator) are not billed to anyone and are not logged.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from provisioning.accounts import UsageLog, User


@dataclass(frozen=True)
class Call:
    user: str
    tool: str
    called_at: dt.datetime
    outcome: str
    upstream_calls: int
    latency_ms: float


class Usage:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._pending: list[Call] = []
        self._lock = threading.Lock()

    def add(self, call: Call) -> None:
        with self._lock:
            self._pending.append(call)

    def flush(self) -> int:
        """Write the buffered calls (blocking); how many were written."""
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        try:
            return self._write(batch)
        except Exception:
            with self._lock:  # kept for the next flush
                self._pending[:0] = batch
            raise

    def _write(self, batch: list[Call]) -> int:
        with Session(self._engine) as session, session.begin():
            names = {c.user for c in batch}
            ids = {
                name: user_id
                for name, user_id in session.execute(select(User.name, User.id).where(User.name.in_(names)))
            }
            rows = [
                {"user_id": ids[c.user], "tool": c.tool, "called_at": c.called_at, "outcome": c.outcome,
                 "upstream_calls": c.upstream_calls, "latency_ms": c.latency_ms}
                for c in batch if c.user in ids
            ]  # fmt: skip
            if rows:
                session.execute(insert(UsageLog), rows)
        return len(rows)

    def summary(self, user: str, since: dt.datetime) -> list[dict[str, Any]]:
        """Per tool since `since`: calls, failures, upstream calls, mean latency."""
        self.flush()
        failed = func.sum(case((UsageLog.outcome != "ok", 1), else_=0))
        spent, mean = func.sum(UsageLog.upstream_calls), func.avg(UsageLog.latency_ms)
        query = (
            select(UsageLog.tool, func.count(), failed, spent, mean, func.max(UsageLog.called_at))
            .join(User, User.id == UsageLog.user_id)
            .where(User.name == user, UsageLog.called_at >= since)
            .group_by(UsageLog.tool)
            .order_by(UsageLog.tool)
        )  # fmt: skip
        with Session(self._engine) as session:
            return [
                {"tool": tool, "calls": calls, "failed": int(bad or 0), "upstream_calls": int(up or 0),
                 "mean_latency_ms": round(float(mean or 0), 2), "last_call": last}
                for tool, calls, bad, up, mean, last in session.execute(query)
            ]  # fmt: skip
