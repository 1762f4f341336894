"""The in-process scheduler (APScheduler, Asia/Shanghai) that keeps the warehouse current.

It runs inside `twilight serve`, beside the one writer, on the server's event loop:
whole-market ingestion after the close (catching up any missed days), quality checks,
akshare macro series weekly, and a freshness check every few hours. Times come from the
settings; a job that is still running when its next time comes is not started twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from providers.models import SHANGHAI
from warehouse.ingest import Ingestor

log = structlog.get_logger("warehouse.scheduler")
WEEKDAYS = "mon-fri"


def _hhmm(text: str, setting: str) -> tuple[int, int]:
    try:
        hour, minute = (int(part) for part in text.strip().split(":"))
    except ValueError as exc:
        raise ValueError(f"{setting} {text!r} is not HH:MM") from exc
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise ValueError(f"{setting} {text!r} is not a time of day")
    return hour, minute


@dataclass(frozen=True)
class Schedule:
    """When the jobs run (the roof, `ops.runtime`, makes it from the settings)."""

    ingest_daily_at: str  # HH:MM, Mon-Fri
    quality_at: str  # HH:MM, Mon-Fri
    macro_weekly_at: str  # DAY HH:MM
    freshness_every_hours: float


def build_scheduler(settings: Schedule, ingestor: Ingestor) -> AsyncIOScheduler:
    """The jobs, not yet started (start it inside the running event loop)."""
    scheduler = AsyncIOScheduler(timezone=SHANGHAI)

    async def run(name: str, job: Any) -> None:
        try:
            log.info("scheduled_job", job=name, result=await job())
        except Exception:  # a failed job must not stop the scheduler or the server
            log.exception("scheduled_job_failed", job=name)

    def add(name: str, trigger: Any, job: Any) -> None:
        scheduler.add_job(run, trigger, args=(name, job), id=name, max_instances=1, coalesce=True,
                          misfire_grace_time=3600, replace_existing=True)  # fmt: skip

    hour, minute = _hhmm(settings.ingest_daily_at, "TWILIGHT_INGEST_DAILY_AT")
    add("ingest_daily", CronTrigger(day_of_week=WEEKDAYS, hour=hour, minute=minute, timezone=SHANGHAI),
        ingestor.catch_up)  # fmt: skip
    hour, minute = _hhmm(settings.quality_at, "TWILIGHT_QUALITY_AT")
    add("quality", CronTrigger(day_of_week=WEEKDAYS, hour=hour, minute=minute, timezone=SHANGHAI),
        ingestor.run_quality)  # fmt: skip
    day, _, at = settings.macro_weekly_at.strip().partition(" ")
    hour, minute = _hhmm(at, "TWILIGHT_MACRO_WEEKLY_AT")
    add("macro_weekly", CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=SHANGHAI), ingestor.macro)
    add("freshness", IntervalTrigger(hours=settings.freshness_every_hours, timezone=SHANGHAI),
        ingestor.check_freshness)  # fmt: skip
    return scheduler


def describe(scheduler: AsyncIOScheduler) -> list[dict[str, str | None]]:
    """Each job and its next run (for /healthz)."""
    return [
        {"job": job.id, "next_run": job.next_run_time.isoformat() if job.next_run_time else None}
        for job in scheduler.get_jobs()
    ]
