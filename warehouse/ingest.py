"""Ingestion jobs: whole-market days, per-code backfills, and the quality checks after them.

A whole-market day is one upstream question per dataset (`daily`, `adj_factor`,
`daily_basic` by trade_date, paged past the row cap by the provider), loaded leniently:
rows that fail validation go to quarantine, the rest load. Curated and feature rows of the
day are derived once all three are in, then the quality rules run for the day.

A trading day upstream answered with no rows is "pending", not loaded: it is asked again on the
next run (an upstream months behind is found out with one question for the newest day, not
one per day in between). A code with no bars in a backfill's span is a failure.

Idempotent: a day whose datasets are already loaded is skipped without an upstream call
(`force` asks again; the merge rules make the re-load change no normalized, curated or
feature row; raw payloads are append-only, so the audit trail records the second fetch).
Incremental: `catch_up` resumes after the last loaded day. A backfill that stops part-way
resumes where it stopped, because finished days (and codes) are skipped.

Jobs take turns (one at a time); progress goes to a callback as plain dicts, so that the CLI
can draw a bar locally or from the server's stream alike.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.to_thread
import structlog

from citation.attempts import Attempts
from providers.composer import Composer
from providers.contract import ALL, Query
from providers.errors import ProviderError
from warehouse import quality, rules
from warehouse.calendar import TradingCalendar
from warehouse.curate import Curator
from warehouse.landing import land
from warehouse.listing import LISTING_TTL
from warehouse.market_clock import MarketClock
from warehouse.store import Warehouse, utc_naive

log = structlog.get_logger("warehouse.ingest")
MARKET_DATASETS = ("daily", "adj_factor", "daily_basic")
CODE_DATASETS = ("daily", "adj_factor", "daily_basic", "fina_indicator")
MACRO_INDICATORS = ("cpi", "ppi", "pmi")
MACRO_YEARS = 3
QUALITY_SHOWN = 20  # findings a quality run returns in full (all go to quality_log)
Progress = Callable[[dict[str, Any]], None]


@dataclass
class Summary:
    """What a job did: per layer the rows it added, the upstream requests it made, how long it took."""

    job: str
    started: float = field(default_factory=time.monotonic)
    steps: int = 0
    loaded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)  # asked, nothing published yet: asked again next run
    failed: list[str] = field(default_factory=list)
    upstream_calls: int = 0
    rows: Counter[str] = field(default_factory=Counter)  # dataset -> normalized rows loaded
    quarantined: int = 0
    findings: int = 0
    layers_before: dict[str, int] = field(default_factory=dict)
    layers_after: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "seconds": round(time.monotonic() - self.started, 3),
            "loaded": self.loaded,
            "skipped": self.skipped,
            "pending": self.pending,
            "failed": self.failed,
            "upstream_calls": self.upstream_calls,
            "rows_loaded": dict(self.rows),
            "quarantined": self.quarantined,
            "quality_findings": self.findings,
            "rows_per_layer": {k: self.layers_after.get(k, 0) - v for k, v in self.layers_before.items()},
        }


class Ingestor:
    def __init__(
        self, store: Warehouse, composer: Composer, calendar: TradingCalendar, curator: Curator, clock: MarketClock
    ) -> None:
        self._store = store
        self._composer = composer
        self._calendar = calendar
        self._curator = curator
        self._clock = clock
        self._turn = anyio.Lock()

    def _order(self, dataset: str) -> list[str]:
        return [p.name for p in self._composer.order(dataset, "cn")]

    # -- jobs -------------------------------------------------------------------------------
    async def daily(self, day: dt.date, *, force: bool = False, progress: Progress | None = None) -> dict[str, Any]:
        """One whole-market day through every layer, then its quality checks."""
        async with self._job(f"daily {day.isoformat()}") as summary:
            summary.steps = 1
            await self._market_day(day, summary, force, progress)
        return summary.as_dict()

    async def catch_up(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """Every whole-market day after the last one loaded, up to the newest final day."""
        latest = await self._calendar.latest_final_day()
        last = self._last_market_day()
        start = last + dt.timedelta(days=1) if last else latest
        return await self.backfill(start, latest, None, progress=progress, job="catch_up")

    async def backfill(
        self, start: dt.date, end: dt.date, codes: Sequence[str] | None, *, force: bool = False,
        progress: Progress | None = None, job: str = "backfill",
    ) -> dict[str, Any]:  # fmt: skip
        """start..end for `codes` (each dataset of each code in one question), or whole-market days."""
        async with self._job(f"{job} {start.isoformat()}..{end.isoformat()}") as summary:
            if codes:
                summary.steps = len(codes)
                for i, code in enumerate(codes):
                    await self._code_range(code, start, end, summary, force)
                    self._report(progress, summary, i + 1, code)
            else:
                await self._market_days(start, end, summary, force, progress)
        return summary.as_dict()

    async def _market_days(
        self, start: dt.date, end: dt.date, summary: Summary, force: bool, progress: Progress | None
    ) -> None:
        """Day by day; on the first day upstream has nothing for, the newest day is asked: when it
        has nothing either, upstream is behind and the days between are not asked one by one."""
        days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
        summary.steps = len(days)
        for i, day in enumerate(days):
            published = await self._market_day(day, summary, force, None)
            self._report(progress, summary, i + 1, day.isoformat())
            if published is False and day < end and await self._market_day(end, summary, force, None) is False:
                newest = (day - dt.timedelta(days=1)).isoformat()
                for between in days[i + 1 : -1]:
                    if (await self._calendar.is_open_or_weekday(between))[0]:
                        summary.pending.append(
                            f"{between.isoformat()}: not asked (upstream has nothing after {newest})"
                        )
                self._report(progress, summary, len(days), end.isoformat())
                return

    async def macro(self, *, progress: Progress | None = None) -> dict[str, Any]:
        """The akshare macro series (CPI, PPI, PMI): each one question for its last MACRO_YEARS."""
        today = self._clock.today()
        start = today.replace(year=today.year - MACRO_YEARS, day=1)
        async with self._job("macro") as summary:
            summary.steps = len(MACRO_INDICATORS)
            for i, indicator in enumerate(MACRO_INDICATORS):
                await self._load(Query("macro", indicator, "cn", start, today), summary, indicator)
                summary.loaded.append(indicator)
                self._report(progress, summary, i + 1, indicator)
        return summary.as_dict()

    async def check_freshness(self) -> dict[str, Any]:
        """Only the freshness rule (between ingestions): stale sources go to the quality log."""
        latest = await self._calendar.latest_final_day()
        found = rules.freshness(self._store, self._clock.now(), self._clock.final_of(latest))
        added = await anyio.to_thread.run_sync(quality.record, self._store, found)
        return {"stale": [f.sources for f in found], "new": added}

    async def run_quality(self, day: dt.date | None = None) -> dict[str, Any]:
        """Every rule for `day` (default: the newest day with bars) plus freshness; findings recorded."""
        if day is None:
            newest = self._store.query("SELECT max(trade_date) FROM norm_daily WHERE currency = 'CNY'")[0][0]
            day = newest or self._clock.today()
        found = await self._findings(day, MARKET_DATASETS)
        added = await anyio.to_thread.run_sync(quality.record, self._store, found)
        counts = Counter(f.severity for f in found)
        return {"day": day.isoformat(), "findings": len(found), "new": added, "by_severity": dict(counts),
                "by_rule": dict(Counter(f.rule for f in found)),
                "first": [{"rule": f.rule, "severity": f.severity, "ts_code": f.ts_code, "message": f.message}
                          for f in found[:QUALITY_SHOWN]]}  # fmt: skip

    # -- steps ------------------------------------------------------------------------------
    def _job(self, name: str) -> _Job:
        return _Job(self, name)

    def _layers(self) -> dict[str, int]:
        return {layer: info["rows"] for layer, info in self._store.stats()["layers"].items()}

    async def _market_day(self, day: dt.date, summary: Summary, force: bool, progress: Progress | None) -> bool | None:
        """Load one whole-market day; True when upstream had its bars, False when it had none yet,
        None when there was nothing to ask (not a trading day, already loaded)."""
        label = day.isoformat()
        is_open, basis = await self._calendar.is_open_or_weekday(day)
        if not is_open:
            summary.skipped.append(f"{label}: not a trading day ({basis})")
            return None
        todo = [d for d in MARKET_DATASETS if force or not self._loaded(d, ALL, day, day)]
        if not todo:
            summary.skipped.append(f"{label}: already loaded")
            return None
        await self._ensure_listing(summary)
        empty: list[str] = []
        for n, dataset in enumerate(todo):
            if await self._load(Query(dataset, ALL, "cn", day, day), summary, label) == 0:
                empty.append(dataset)
            self._report(progress, summary, n + 1, f"{label} {dataset}", total=len(todo))
        if "daily" in empty or not self._loaded("daily", ALL, day, day):
            summary.pending.append(f"{label}: upstream has no bars of the day yet; asked again next run")
            return False
        if empty:
            summary.pending.append(f"{label}: upstream has no {', '.join(empty)} rows of the day yet; asked again")
        await anyio.to_thread.run_sync(self._store.write, lambda cur: self._curator.refresh(cur, ALL, day, day))
        found = await self._findings(day, MARKET_DATASETS)
        summary.findings += await anyio.to_thread.run_sync(quality.record, self._store, found)
        summary.loaded.append(label)
        return True

    async def _code_range(self, code: str, start: dt.date, end: dt.date, summary: Summary, force: bool) -> None:
        todo = [d for d in CODE_DATASETS if force or not self._loaded(d, code, start, end)]
        if not todo:
            summary.skipped.append(f"{code}: already loaded")
            return
        rows = {dataset: await self._load(Query(dataset, code, "cn", start, end), summary, code) for dataset in todo}
        if rows.get("daily") == 0:
            summary.failed.append(f"{code}: no provider has a bar of it in {start}..{end} (an unknown code, or not"
                                  " listed then)")  # fmt: skip
            return
        last = self._store.query("SELECT max(trade_date) FROM cur_daily WHERE ts_code = ?", (code,))[0][0]
        feature_end = max(end, last) if last else end  # later features depend on these bars
        await anyio.to_thread.run_sync(
            self._store.write, lambda cur: self._curator.refresh(cur, [code], start, feature_end)
        )
        summary.loaded.append(code)

    async def _load(self, query: Query, summary: Summary, label: str) -> int | None:
        """One question through the composer into the store: the rows it loaded, or None when it
        failed (recorded in the summary, not raised)."""
        attempts = Attempts()
        try:
            fetched = await anyio.to_thread.run_sync(
                functools.partial(land, self._store, self._composer, query, attempts, f"ingest-{label}",
                                  self._clock.now, lenient=True)
            )  # fmt: skip
        except ProviderError as exc:
            summary.upstream_calls += len(attempts.log)
            summary.failed.append(f"{label} {query.dataset}: {type(exc).__name__}: {exc}")
            log.warning("ingest_failed", dataset=query.dataset, code=query.code, error=str(exc))
            return None
        summary.upstream_calls += len(attempts.log) - 1 + fetched.requests  # the tries before, then the pages
        summary.rows[query.dataset] += len(fetched.rows)
        summary.quarantined += len(fetched.rejected)
        return len(fetched.rows) + len(fetched.rejected)

    async def _ensure_listing(self, summary: Summary) -> None:
        """stock_basic (names, boards, listing dates) once a day, for the anomaly and completeness rules."""
        fetched_at = self._store.query("SELECT max(fetched_at) FROM fetch_log WHERE dataset = 'stock_basic'")[0][0]
        if fetched_at is not None and utc_naive(self._clock.now()) - fetched_at < LISTING_TTL:
            return
        today = self._clock.today()
        await self._load(Query("stock_basic", ALL, "cn", today, today), summary, "listing")

    def _loaded(self, dataset: str, scope: str, start: dt.date, end: dt.date) -> bool:
        """Upstream already answered this dataset for the whole span. A whole-market trading day,
        or a code's bars, with no rows means "not published yet" (or an unknown code), never
        "loaded"; other per-code datasets may truly have none once the span's last bar is final
        (a code's reports in a short span, factors before they start)."""
        final = utc_naive(self._clock.final_of(end))
        needs_rows = scope == ALL or dataset == "daily"
        row = self._store.query(
            "SELECT count(*) FROM fetch_log WHERE dataset = ? AND scope = ? AND start_date <= ? AND end_date >= ?"
            " AND (row_count > 0 OR (NOT ? AND fetched_at >= ?))",
            (dataset, scope, start, end, needs_rows, final),
        )
        return bool(row[0][0])

    def _last_market_day(self) -> dt.date | None:
        row = self._store.query(
            "SELECT max(end_date) FROM fetch_log WHERE dataset = 'daily' AND scope = ? AND row_count > 0", (ALL,)
        )
        return row[0][0] if row else None

    async def _findings(self, day: dt.date, datasets: Sequence[str]) -> list[quality.Finding]:
        latest = await self._calendar.latest_final_day()
        latest_final = self._clock.final_of(latest)
        now = self._clock.now()

        def run() -> list[quality.Finding]:
            return [
                *rules.cross_source(self._store, day, self._order),
                *rules.freshness(self._store, now, latest_final),
                *rules.schema_validation(self._store, day),
                *rules.anomalies(self._store, day),
                *rules.completeness(self._store, day, datasets),
            ]

        return await anyio.to_thread.run_sync(run)

    @staticmethod
    def _report(progress: Progress | None, summary: Summary, done: int, what: str, total: int | None = None) -> None:
        if progress is not None:
            progress({"event": "progress", "done": done, "total": total or summary.steps, "item": what,
                      "upstream_calls": summary.upstream_calls, "rows": sum(summary.rows.values())})  # fmt: skip


class _Job:
    """One job at a time: the turn, the layer counts before and after, and the log lines."""

    def __init__(self, ingestor: Ingestor, name: str) -> None:
        self._ingestor = ingestor
        self.summary = Summary(name)

    async def __aenter__(self) -> Summary:
        await self._ingestor._turn.acquire()
        # Jobs read the curated layer with plain queries: the questions' pending rows are derived first.
        await anyio.to_thread.run_sync(self._ingestor._store.derive_pending)
        self.summary.layers_before = await anyio.to_thread.run_sync(self._ingestor._layers)
        log.info("ingest_started", job=self.summary.job)
        return self.summary

    async def __aexit__(self, *exc: object) -> None:
        try:
            self.summary.layers_after = await anyio.to_thread.run_sync(self._ingestor._layers)
            log.info("ingest_finished", **self.summary.as_dict())
        finally:
            self._ingestor._turn.release()
