"""How warehouse jobs reach the one process that may write the warehouse.

DuckDB lets one process hold the file; a second cannot even read it. So whoever holds the
warehouse holds `TWILIGHT_HOME/warehouse.lock` (an flock, with its holder written inside):
- `twilight serve` holds it for its lifetime and listens for jobs on a loopback-only control
  port, written with a random secret to `TWILIGHT_HOME/server.json` (mode 0600);
- a CLI job (`ingest`, `quality run`, `warehouse ...`) sends the job to that server and prints
  its progress stream; with no server, it takes the lock and runs the job itself. If another
  CLI job holds it, it waits its turn. It never opens a held file, so it never meets a lock error.
A server is running only if it answers on its control port with its secret: a server killed with
SIGKILL leaves its server.json behind, and the PID in it may since belong to another process.
Whoever takes the lock removes such a leftover (a live server would be holding the lock).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
import httpx
import structlog
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from providers.symbols import InvalidArgument, parse_code, parse_date

if TYPE_CHECKING:  # a CLI job that goes to the server need not import the whole runtime
    from ops.runtime import Runtime

Event = Callable[[dict[str, Any]], None]
log = structlog.get_logger("ops.control")
USAGE_EVERY = 2.0  # seconds between usage_log writes
BIND_EVERY = 1.0  # seconds between rounds of the bots' QR bindings
BIND_POLLS = 50  # QR long polls at once
QR_RETRY = 60.0  # seconds before asking iLink again for a QR it could not give
PRUNE_EVERY = 24 * 3600.0  # seconds between ledger retention passes (and one at start)
PROBE_TIMEOUT = 5.0  # seconds a live server has to answer on its control port
JOBS = ("daily", "backfill", "quality", "stats", "snapshot", "macro", "ledger_show", "verify")


def lock_path(home: Path) -> Path:
    return home / "warehouse.lock"


def server_file(home: Path) -> Path:
    return home / "server.json"


class ServerLost(RuntimeError):
    """The server stopped answering after it was sent a job: whether the job finished is unknown."""


class ServerGone(RuntimeError):
    """The server could not be reached to send it the job: nothing was started there."""


@contextlib.contextmanager
def holding(home: Path, kind: str, mcp_url: str | None = None) -> Iterator[bool]:
    """Try to take the warehouse lock (without waiting); yields whether this process holds it.

    `mcp_url` is where a server answers MCP over HTTP, written down for the stdio servers it refuses.
    """
    home.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(home), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "kind": kind, "mcp_url": mcp_url}).encode())
        server_file(home).unlink(missing_ok=True)  # a dead server's: a live one would hold the lock
        try:
            yield True
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def holder(home: Path) -> dict[str, Any]:
    """Who holds the warehouse lock, as it wrote itself down ({} when unknown)."""
    try:
        return dict(json.loads(lock_path(home).read_text() or "{}"))
    except (OSError, ValueError):
        return {}


# -- the jobs, the same wherever they run ---------------------------------------------------
def _day(value: Any, name: str, rt: Runtime) -> dt.date:
    return parse_date(str(value), name, today=rt.clock.today())


async def run_job(rt: Runtime, job: dict[str, Any], progress: Event) -> dict[str, Any]:
    """Run one job against the warehouse this process holds; bad arguments raise InvalidArgument."""
    kind = job.get("job")
    force = bool(job.get("force"))
    if kind == "daily":
        if job.get("date"):
            return await rt.ingestor.daily(_day(job["date"], "--date", rt), force=force, progress=progress)
        return await rt.ingestor.catch_up(progress=progress)
    if kind == "backfill":
        start, end = _day(job.get("start"), "--start", rt), _day(job.get("end"), "--end", rt)
        if start > end:
            raise InvalidArgument("--start", f"--start {start} is after --end {end}", "swap them")
        symbols = [parse_code(str(c)) for c in job.get("codes") or []]
        foreign = [s.code for s in symbols if s.market != "cn"]
        if foreign:
            raise InvalidArgument("--codes", f"{', '.join(foreign)} is not an A-share code",
                                  "backfill takes A-share codes such as 600519 or 000858.SZ")  # fmt: skip
        codes = [s.code for s in symbols] or None
        return await rt.ingestor.backfill(start, end, codes, force=force, progress=progress)
    if kind == "macro":
        return await rt.ingestor.macro(progress=progress)
    if kind == "quality":
        return await rt.ingestor.run_quality(_day(job["date"], "--date", rt) if job.get("date") else None)
    if kind == "stats":
        return await anyio.to_thread.run_sync(rt.store.stats)
    if kind == "snapshot":
        return await anyio.to_thread.run_sync(rt.store.snapshot, Path(str(job.get("path"))))
    if kind == "ledger_show":
        return await anyio.to_thread.run_sync(_ledger_entry, rt, str(job.get("id") or ""))
    if kind == "verify":
        return await anyio.to_thread.run_sync(_verify, rt, str(job.get("text") or ""), job.get("user"))
    raise InvalidArgument("job", f"unknown job {kind!r}", f"use one of {', '.join(JOBS)}")


def _verify(rt: Runtime, text: str, user: str | None) -> dict[str, Any]:
    """An operator's check of a reply: against `user`'s answers, or anyone's without --user."""
    from mcp_server.verify_tool import check
    from warehouse.ledger import caller_of_user

    verdict = check(rt.ledger, text, caller_of_user(user) if user else None)
    rt.metrics.verification(verdict.verdict, [c.status for c in verdict.claims])
    return verdict.model_dump(mode="json")


def _ledger_entry(rt: Runtime, tool_call_id: str) -> dict[str, Any]:
    found = rt.ledger.entries([tool_call_id], None)
    if tool_call_id not in found:
        raise InvalidArgument(
            "ID", f"no answer {tool_call_id!r} in the ledger", "give a cite.tool_call_id (tc_ and 16 hex) the server"
            f" answered within the last {rt.settings.ledger_retention_days} days (TWILIGHT_LEDGER_RETENTION_DAYS)",
        )  # fmt: skip
    return found[tool_call_id].as_dict()


# -- the server side ------------------------------------------------------------------------
def control_app(rt: Runtime, secret: str) -> Starlette:
    def refused(request: Request) -> Response | None:
        if secrets.compare_digest(request.headers.get("authorization", ""), f"Bearer {secret}"):
            return None
        return JSONResponse({"error": "bad control secret"}, status_code=401)

    async def alive(request: Request) -> Response:
        return refused(request) or JSONResponse({"pid": os.getpid()})

    async def jobs(request: Request) -> Response:
        if (refusal := refused(request)) is not None:
            return refusal
        job = await request.json()
        send, receive = anyio.create_memory_object_stream[dict[str, Any]](100)

        async def work() -> None:
            async with send:
                try:
                    result = await run_job(rt, job, lambda e: send.send_nowait(e) if _room(send) else None)
                    await send.send({"event": "result", "result": result})
                except (InvalidArgument, ValueError, OSError) as exc:
                    remedy = exc.remedy if isinstance(exc, InvalidArgument) else "fix it and run the command again"
                    await send.send({"event": "error", "error": str(exc), "remedy": remedy})

        async def stream() -> AsyncIterator[bytes]:
            async with anyio.create_task_group() as tg:
                tg.start_soon(work)
                async with receive:
                    async for event in receive:
                        yield (json.dumps(event, ensure_ascii=False, default=str) + "\n").encode()

        return StreamingResponse(stream(), media_type="application/x-ndjson")

    return Starlette(routes=[Route("/jobs", jobs, methods=["POST"]), Route("/alive", alive, methods=["GET"])])


def _room(send: Any) -> bool:
    return bool(send.statistics().current_buffer_used < send.statistics().max_buffer_size)


async def serve_control(rt: Runtime) -> None:
    """Listen for CLI jobs on a loopback port until cancelled; server.json says where."""
    secret = secrets.token_urlsafe(32)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # before server.json names it: a CLI that reads the file can always connect
    port = sock.getsockname()[1]
    path = server_file(rt.settings.home)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"pid": os.getpid(), "url": f"http://127.0.0.1:{port}", "secret": secret}, handle)
    config = uvicorn.Config(control_app(rt, secret), log_config=None, access_log=False, lifespan="off")
    try:
        await uvicorn.Server(config).serve(sockets=[sock])
    finally:
        path.unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def background(rt: Runtime) -> AsyncIterator[list[dict[str, str | None]]]:
    """While serving: the control listener, the usage writer and, on a primary with scheduling on,
    the scheduler.

    Yields a live list of the scheduled jobs and their next runs (for /healthz).
    """
    from ops.runtime import schedule
    from warehouse.scheduler import build_scheduler, describe

    jobs: list[dict[str, str | None]] = []
    scheduler = (
        build_scheduler(schedule(rt.settings), rt.ingestor) if rt.settings.schedule and rt.replica is None else None
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve_control, rt)
        tg.start_soon(write_usage, rt)
        tg.start_soon(write_ledger, rt)
        tg.start_soon(bind_bots, rt)
        tg.start_soon(watch_subscriptions, rt)
        if rt.settings.profile_runner == "process":
            tg.start_soon(supervise_profiles, rt)
        if scheduler is not None:
            scheduler.start()
            jobs.extend(describe(scheduler))
        try:
            yield jobs
        finally:
            if scheduler is not None:
                scheduler.shutdown(wait=False)
            tg.cancel_scope.cancel()
    try:
        await anyio.to_thread.run_sync(rt.usage.flush)  # the calls of the last seconds
    except Exception:
        log.exception("usage_flush_failed")
    try:
        await anyio.to_thread.run_sync(rt.ledger.flush)
    except Exception:
        log.exception("ledger_flush_failed")


async def supervise_profiles(rt: Runtime) -> None:
    """The `process` runner's hermes children: health recorded, the dead restarted, every
    TWILIGHT_PROFILE_HEALTH_EVERY seconds."""
    while True:
        await anyio.sleep(rt.settings.profile_health_every)
        try:
            await anyio.to_thread.run_sync(rt.provisioner.supervise)
        except Exception:
            log.exception("supervise_failed")


async def write_usage(rt: Runtime) -> None:
    """Buffered usage_log rows to the accounts database every USAGE_EVERY seconds."""
    while True:
        await anyio.sleep(USAGE_EVERY)
        try:
            await anyio.to_thread.run_sync(rt.usage.flush)
        except Exception:  # the accounts database may be briefly away; the rows wait for the next turn
            log.exception("usage_flush_failed")


async def write_ledger(rt: Runtime) -> None:
    """Buffered answers to the ledger every FLUSH_EVERY seconds; entries past retention pruned daily."""
    from warehouse.ledger import FLUSH_EVERY

    pruned_at = 0.0
    while True:
        await anyio.sleep(FLUSH_EVERY)
        try:
            await anyio.to_thread.run_sync(rt.ledger.flush)
            if anyio.current_time() - pruned_at >= PRUNE_EVERY:
                pruned_at = anyio.current_time()
                gone = await anyio.to_thread.run_sync(rt.ledger.prune, rt.clock.now())
                if gone:
                    log.info("ledger_pruned", entries=gone, retention_days=rt.settings.ledger_retention_days)
        except Exception:  # the warehouse may be busy; the entries wait for the next turn
            log.exception("ledger_flush_failed")


async def bind_bots(rt: Runtime) -> None:
    """Every BIND_EVERY seconds: a QR for each paid profile that has none yet, and a long poll (a
    thread each, at most BIND_POLLS at once) for each open binding not being polled."""
    polling: set[int] = set()
    limiter = anyio.CapacityLimiter(BIND_POLLS)  # long polls must not take the warehouse reads' threads

    async def poll(binding_id: int) -> None:
        try:
            await anyio.to_thread.run_sync(rt.binder.poll, binding_id, limiter=limiter)
        except Exception:
            log.exception("binding_poll_failed", binding=binding_id)
            await anyio.sleep(BIND_EVERY * 5)
        finally:
            polling.discard(binding_id)

    tried: dict[str, float] = {}  # profile -> when its QR was last asked for and could not be had
    async with anyio.create_task_group() as tg:
        while True:
            try:
                for name in await anyio.to_thread.run_sync(rt.binder.unbound_profiles):
                    if anyio.current_time() - tried.get(name, -QR_RETRY) < QR_RETRY:
                        continue
                    try:
                        await anyio.to_thread.run_sync(rt.binder.ensure, name, limiter=limiter)
                    except Exception as exc:
                        tried[name] = anyio.current_time()
                        log.warning("binding_qr_unavailable", profile=name, reason=str(exc), retry_in=QR_RETRY)
                for binding_id in await anyio.to_thread.run_sync(rt.binder.open_ids):
                    if binding_id not in polling and len(polling) < BIND_POLLS:
                        polling.add(binding_id)
                        tg.start_soon(poll, binding_id)
            except Exception:  # iLink or the database away: the next round tries again
                log.exception("binding_round_failed")
            await anyio.sleep(BIND_EVERY)


async def watch_subscriptions(rt: Runtime) -> None:
    """Bots of ended subscriptions stopped (after their last message), every TWILIGHT_SUBSCRIPTION_CHECK_EVERY s."""
    while True:
        try:
            stopped = await anyio.to_thread.run_sync(rt.subscriptions.expire_due, rt.clock.now())
            if stopped:
                log.info("subscriptions_ended", users=stopped)
        except Exception:
            log.exception("subscription_check_failed")
        await anyio.sleep(rt.settings.subscription_check_every)


# -- the CLI side ---------------------------------------------------------------------------
def running_server(home: Path) -> dict[str, Any] | None:
    """The server that holds the warehouse, if it answers on its control port with its secret."""
    try:
        found = dict(json.loads(server_file(home).read_text()))
        headers = {"authorization": f"Bearer {found['secret']}"}
        with httpx.Client(timeout=PROBE_TIMEOUT, trust_env=False) as client:  # loopback: never via a proxy
            answer = client.get(str(found["url"]) + "/alive", headers=headers)
        if answer.status_code != 200 or answer.json().get("pid") != found.get("pid"):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError, httpx.HTTPError):
        return None
    return found


def submit(server: dict[str, Any], job: dict[str, Any], progress: Event) -> dict[str, Any]:
    """Send a job to the server and relay its progress; its result, or RuntimeError with its error.

    ServerGone when it could not be reached (nothing started), ServerLost when it stopped
    answering after taking the job.
    """
    try:
        return _relay(server, job, progress)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise ServerGone(f"the server (pid {server.get('pid')}) did not take the job") from exc
    except httpx.TransportError as exc:
        raise ServerLost(
            f"the server (pid {server.get('pid')}) stopped answering during the {job.get('job')} job, so the job"
            " may or may not have finished: check `twilight warehouse stats` and the server's log, then run the"
            " command again (what was loaded is skipped)"
        ) from exc


def _relay(server: dict[str, Any], job: dict[str, Any], progress: Event) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {server['secret']}"}
    with (
        httpx.Client(timeout=httpx.Timeout(10.0, read=None), trust_env=False) as client,
        client.stream("POST", server["url"] + "/jobs", json=job, headers=headers) as response,
    ):
        if response.status_code != 200:
            raise RuntimeError(f"the server refused the job (HTTP {response.status_code}): {response.read()!r}")
        for line in response.iter_lines():
            if not line:
                continue
            event = json.loads(line)
            if event["event"] == "result":
                return dict(event["result"])
            if event["event"] == "error":
                raise InvalidArgument("job", event["error"], event.get("remedy") or "fix it and run the command again")
            progress(event)
    raise RuntimeError("the server closed the job's stream without a result (see its log)")
