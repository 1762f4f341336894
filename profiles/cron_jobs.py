"""A template's `crontab.json`: scheduled jobs for hermes-agent, checked before they are installed.

crontab.json is a JSON list of jobs whose keys are keyword arguments of hermes-agent's own
`cron.jobs.create_job` (hermes-agent 0.19.0, `cron/jobs.py`): the function `hermes cron create`
(`hermes_cli/cron.py`) and the agent's `cronjob` tool call, which stores the job, with the runtime
fields hermes adds (id, schedule {kind, expr, display}, next_run_at, state, repeat, ...), in
`<HERMES_HOME>/cron/jobs.json` as `{"jobs": [...], "updated_at": ...}`. Installing a job is,
with HERMES_HOME set to the profile and hermes' Python: `cron.jobs.create_job(**job)`. (`hermes cron
create "<schedule>" "<prompt>" --name N --deliver D --workdir W` works too, but has no flag for
enabled_toolsets.) The fields (JOB_FIELDS):

- name (str, required): the job's name in `hermes cron list`.
- schedule (str, required): a 5-field cron expression (minute hour day month weekday) of digits and
  `* - , /` only: hermes' `parse_schedule` takes nothing else as cron, so `1-5`, not `MON-FRI`. It
  is read in the profile's `timezone` from config.yaml (`hermes_time.py`; hermes keeps no per-job
  timezone), which the shipped templates set to Asia/Shanghai.
- prompt (str, required): self-contained; the job's agent sees it and the workdir's AGENTS.md.
- deliver (str): `local` (hermes' default: output kept in `cron/output/<id>/`) or a platform target.
- enabled_toolsets (list of str): e.g. `["twilight"]`, only our MCP server's tools.
- workdir (str, absolute): its AGENTS.md is injected and it is the job's terminal cwd.
- skills (list of str), repeat (int or null: runs before the job ends; null forever), model (str).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from profiles.rendering import TemplateError, placeholders

_CRON_FIELD = re.compile(r"^[\d*\-,/]+$")  # hermes' own test in cron/jobs.py parse_schedule
_CRON_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("weekday", 0, 7))

JOB_FIELDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "schedule": (str,),
    "prompt": (str,),
    "deliver": (str,),
    "enabled_toolsets": (list,),
    "workdir": (str,),
    "skills": (list,),
    "repeat": (int, type(None)),
    "model": (str,),
}
REQUIRED_JOB_FIELDS = ("name", "schedule", "prompt")


def cron_expression_errors(expr: str) -> list[str]:
    """What is wrong with a 5-field cron expression, as hermes parses it (empty: nothing)."""
    parts = expr.split()
    if len(parts) != 5:
        return [f"{expr!r} has {len(parts)} fields; use 5: minute hour day month weekday"]
    errors = []
    for part, (field, low, high) in zip(parts, _CRON_RANGES, strict=True):
        if not _CRON_FIELD.match(part):
            errors.append(f"{field} {part!r}: only digits and * - , / (hermes takes no names like MON)")
        elif not all(_cron_item_ok(item, low, high) for item in part.split(",")):
            errors.append(f"{field} {part!r} is not valid: values {low}-{high}, ranges ascending, steps above 0")
    return errors


def _cron_item_ok(item: str, low: int, high: int) -> bool:
    base, slash, step = item.partition("/")
    if slash and not (step.isdigit() and int(step) > 0):
        return False
    if base == "*":
        return True
    first, dash, last = base.partition("-")
    bounds = [first, last] if dash else [first]
    return all(b.isdigit() and low <= int(b) <= high for b in bounds) and int(bounds[0]) <= int(bounds[-1])


def validate_jobs(jobs: object, *, source: str) -> list[dict[str, Any]]:
    """crontab.json's jobs, checked against JOB_FIELDS; TemplateError naming every problem."""
    if not isinstance(jobs, list):
        raise TemplateError(f"{source}: must be a JSON list of jobs")
    errors: list[str] = []
    names: set[str] = set()
    for index, job in enumerate(jobs):
        label = f"job {index}"
        if not isinstance(job, dict):
            errors.append(f"{label}: not an object")
            continue
        label = f"job {index} ({job.get('name')!r})"
        errors += [f"{label}: {problem}" for problem in _job_errors(job)]
        if job.get("name") in names:
            errors.append(f"{label}: name used twice")
        names.add(str(job.get("name")))
    if errors:
        raise TemplateError(f"{source}: " + "; ".join(errors))
    return jobs


def _job_errors(job: Mapping[str, Any]) -> list[str]:
    errors = [f"{key!r} is not a job field ({', '.join(JOB_FIELDS)})" for key in job if key not in JOB_FIELDS]
    errors += [f"{key!r} is required" for key in REQUIRED_JOB_FIELDS if not str(job.get(key) or "").strip()]
    for key, value in job.items():
        kinds = JOB_FIELDS.get(key)
        if kinds is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
            errors.append(f"{key!r} must be {' or '.join(k.__name__ for k in kinds)}")
        elif isinstance(value, list) and not all(isinstance(v, str) and v for v in value):
            errors.append(f"{key!r} must be a list of names")
    if isinstance(job.get("schedule"), str):
        errors += cron_expression_errors(job["schedule"])
    workdir = job.get("workdir")
    if isinstance(workdir, str) and not placeholders(workdir) and not Path(workdir).is_absolute():
        errors.append(f"workdir {workdir!r} must be an absolute path")
    return errors


def load_jobs(path: Path) -> list[dict[str, Any]]:
    """A crontab.json's jobs (none when the file is missing)."""
    if not path.exists():
        return []
    try:
        return validate_jobs(json.loads(path.read_text()), source=str(path))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{path}: not JSON: {exc}") from exc
