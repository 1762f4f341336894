"""`twilight`: serve the MCP server, manage API tokens, and run warehouse jobs.

Warehouse jobs go to the running server when there is one (it owns the warehouse file) and
run here otherwise; see `ops.control`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio

from ops import __version__, accounts_cli, profiles_cli
from ops.logging import configure_logging
from ops.settings import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import anyio
    import uvicorn

    from mcp_server.server import build_server
    from ops import control
    from ops.app import build_app
    from ops.held import cannot_open, held_by, serve_refusal
    from ops.runtime import Runtime
    from provisioning.migrate import NotMigrated
    from warehouse.store import WarehouseBusy

    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    configure_logging(settings.log_level)
    replica = Path(args.warehouse_replica) if args.warehouse_replica else None
    if replica is not None and not replica.is_file():
        print(f"twilight serve: --warehouse-replica {replica} is not a file; make one with "
              "`twilight warehouse snapshot PATH` on the primary", file=sys.stderr)  # fmt: skip
        return 2
    over_stdio = (args.transport or settings.transport) == "stdio"
    mcp_url = None if over_stdio else f"http://{settings.host}:{settings.port}/mcp"
    with _warehouse_turn(settings, "serve", mcp_url) as held:
        if not held:
            who = control.holder(settings.home)
            if over_stdio:  # its client gets the reason in each tool's answer, not a closed connection
                anyio.run(serve_refusal, held_by(settings.home, who))
                return 2
            pid = who.get("pid", "?")
            print(f"twilight serve: the warehouse in {settings.home} is held by another `twilight serve`"
                  f" (pid {pid}); stop it or point TWILIGHT_HOME elsewhere", file=sys.stderr)  # fmt: skip
            return 2
        failure: str | None = None
        try:
            rt = Runtime.open(settings, replica=replica)
        except (WarehouseBusy, NotMigrated) as exc:
            failure = str(exc)
        if failure is not None and not over_stdio:
            print(f"twilight serve: {failure}", file=sys.stderr)
            return 2
        if failure is None and over_stdio:
            server = build_server(rt, http_auth=False)

            async def stdio() -> None:
                async with control.background(rt):
                    await server.run_stdio_async()

            try:
                anyio.run(stdio)
            finally:
                rt.close()
            return 0
        if failure is None:
            print(f"twilight {__version__}: MCP at http://{settings.host}:{settings.port}/mcp", file=sys.stderr)
            uvicorn.run(build_app(rt), host=settings.host, port=settings.port, log_config=None, access_log=False)
            return 0
    anyio.run(serve_refusal, cannot_open(failure))  # the lock let go: a refusing server holds nothing
    return 2


@contextlib.contextmanager
def _warehouse_turn(settings: Settings, kind: str, mcp_url: str | None = None) -> Iterator[bool]:
    """Take the warehouse lock, waiting while a CLI job holds it; False if a server holds it."""
    from ops import control

    told = False
    while True:
        with control.holding(settings.home, kind, mcp_url) as held:
            if held:
                yield True
                return
            who = control.holder(settings.home)
            if who.get("kind") == "serve" or (kind != "serve" and control.running_server(settings.home)):
                yield False
                return
            if not told:
                print(f"twilight: waiting for `twilight` (pid {who.get('pid', '?')}) to finish with the warehouse…",
                      file=sys.stderr)  # fmt: skip
                told = True
        time.sleep(0.2)


def _job(settings: Settings, job: dict[str, Any], *, as_json: bool = False) -> int:
    """Run a warehouse job on the running server, or here when none runs; print its result."""
    from ops import control
    from providers.symbols import InvalidArgument

    bar = _ProgressBar(enabled=not as_json and job["job"] in ("daily", "backfill", "macro"))
    waited = False
    try:
        while True:
            server = control.running_server(settings.home)
            if server is not None:
                try:
                    result = control.submit(server, job, bar.update)
                    break
                except control.ServerGone:
                    continue  # it died before taking the job: the next turn finds the lock free
            with _warehouse_turn(settings, "cli") as held:
                if held:
                    from ops.runtime import Runtime  # only here: it takes a second to import

                    configure_logging(settings.log_level)
                    rt = Runtime.open(settings)
                    try:
                        result = anyio.run(control.run_job, rt, job, bar.update)
                    finally:
                        rt.close()
                    break
            if not waited:
                pid = control.holder(settings.home).get("pid", "?")
                print(f"twilight: waiting for the server holding the warehouse (pid {pid}) to answer on its"
                      " control port (stop it if it hangs)…", file=sys.stderr)  # fmt: skip
                waited = True
            time.sleep(0.2)  # a server holds it but is not listening yet
    except InvalidArgument as exc:
        bar.close()
        print(f"twilight: {exc}; {exc.remedy}", file=sys.stderr)
        return 2
    except (RuntimeError, OSError, ValueError) as exc:
        bar.close()
        print(f"twilight: {exc}", file=sys.stderr)
        return 1
    bar.close()
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str) if as_json else _summary(job, result))
    return 1 if result.get("failed") or result.get("verdict") == "fail" else 0


class _ProgressBar:
    """A one-line progress bar on stderr (only when it is a terminal, or asked for)."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False

    def update(self, event: dict[str, Any]) -> None:
        if not self.enabled or event.get("event") != "progress":
            return
        done, total = int(event["done"]), max(1, int(event["total"]))
        filled = int(30 * done / total)
        line = (f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} {event.get('item', '')}"
                f"  rows {event.get('rows', 0)}  calls {event.get('upstream_calls', 0)}")  # fmt: skip
        sys.stderr.write(line[:150].ljust(150))
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            self.shown = False


def _summary(job: dict[str, Any], result: dict[str, Any]) -> str:
    if job["job"] == "verify":
        counts = ", ".join(f"{n} {status}" for status, n in result["counts"].items() if n) or "no claims"
        lines = [f"{result['verdict'].upper()}: {counts}"]
        for claim in result["claims"]:
            cited = ",".join(claim["tool_call_id"]) or "-"
            expected = "; ".join(f"{e['field']}={e['value']}{' ' + e['unit'] if e['unit'] else ''}"
                                 for e in claim.get("expected") or [])  # fmt: skip
            lines.append(f"  {claim['status']:16} {claim['text']:18} {cited:20} {claim['matched'] or ''}"
                         + (f"  expected {expected}" if expected else ""))  # fmt: skip
        return "\n".join(lines)
    if job["job"] == "ledger_show":
        head = (f"{result['tool_call_id']}  {result['tool']}  by {result['caller']}  at {result['recorded_at']}"
                f"  ({result['server_version']})")  # fmt: skip
        arguments = json.dumps(result["arguments"], ensure_ascii=False)
        return "\n".join([head, f"arguments: {arguments}", json.dumps(result["answer"], indent=2, ensure_ascii=False)])
    if job["job"] == "stats":
        lines = [f"{result['path']}: {result['bytes'] / 1e6:.1f} MB"]
        for layer, info in result["layers"].items():
            lines.append(f"  {layer:11} {info['rows']:>12,} rows")
            for name, t in info["tables"].items():
                span = f"{t['from']} .. {t['to']}" if t["from"] else ""
                lines.append(f"    {name:22} {t['rows']:>12,}  {span}")
        return "\n".join(lines)
    if job["job"] == "quality":
        counts = ", ".join(f"{n} {k}" for k, n in sorted(result["by_severity"].items())) or "none"
        rules = ", ".join(f"{k} {n}" for k, n in sorted(result["by_rule"].items()))
        lines = [f"quality {result['day']}: {result['findings']} findings ({result['new']} new): {counts}"]
        lines += [f"  by rule: {rules}"] if rules else []
        lines += [f"  {f['severity']:7} {f['rule']:17} {f['ts_code'] or '':10} {f['message']}" for f in result["first"]]
        if result["findings"] > len(result["first"]):
            lines.append(f"  ... {result['findings'] - len(result['first'])} more: the quality_logs tool lists them")
        return "\n".join(lines)
    if "seconds" not in result:
        return json.dumps(result, indent=2, ensure_ascii=False, default=str)
    lines = [
        f"{result['job']}: {len(result['loaded'])} loaded, {len(result['skipped'])} skipped,"
        f" {len(result.get('pending', []))} pending, {len(result['failed'])} failed in {result['seconds']} s,"
        f" {result['upstream_calls']} upstream calls"
    ]
    lines.append("  rows per layer: " + ", ".join(f"{k} +{v}" for k, v in result["rows_per_layer"].items()))
    if result["quarantined"]:
        lines.append(f"  quarantined rows: {result['quarantined']}")
    lines.append(f"  quality findings: {result['quality_findings']} new")
    lines += [f"  skipped {s}" for s in result["skipped"][:10]]
    lines += [f"  pending {p}" for p in result.get("pending", [])[:10]]
    lines += [f"  FAILED {f}" for f in result["failed"]]
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="twilight", description="Twilight Drive: cited market data over MCP.")
    root.add_argument("--version", action="version", version=f"twilight {__version__}")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the MCP server")
    serve.add_argument("--transport", choices=["http", "stdio"], help="default: TWILIGHT_TRANSPORT, else http")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1, or TWILIGHT_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default 9100, or TWILIGHT_PORT)")
    serve.add_argument("--warehouse-replica", default=None, metavar="PATH",
                       help="serve the warehouse tools from this read-only snapshot file")  # fmt: skip

    ingest = commands.add_parser("ingest", help="load market data into the warehouse")
    ingest_commands = ingest.add_subparsers(dest="ingest_command", required=True)
    daily = ingest_commands.add_parser("daily", help="one whole-market day (default: every day since the last)")
    daily.add_argument("--date", help="YYYYMMDD; omit to catch up after the last loaded day")
    backfill = ingest_commands.add_parser("backfill", help="a date range, whole-market or for some codes")
    backfill.add_argument("--start", required=True, help="YYYYMMDD")
    backfill.add_argument("--end", required=True, help="YYYYMMDD")
    backfill.add_argument("--codes", nargs="+", help="codes (600519 600519.SH ...); omit for the whole market")
    ingest_commands.add_parser("macro", help="akshare macro series (CPI, PPI, PMI)")
    for sub in (daily, backfill):
        sub.add_argument("--force", action="store_true", help="ask upstream again for what is already loaded")
    for sub in (*ingest_commands.choices.values(),):
        sub.add_argument("--json", action="store_true", help="print the summary as JSON")

    quality = commands.add_parser("quality", help="data quality")
    quality_commands = quality.add_subparsers(dest="quality_command", required=True)
    quality_run = quality_commands.add_parser("run", help="run every quality rule for a day")
    quality_run.add_argument("--date", help="YYYYMMDD; default the newest day with bars")
    quality_run.add_argument("--json", action="store_true")

    warehouse = commands.add_parser("warehouse", help="the warehouse file")
    warehouse_commands = warehouse.add_subparsers(dest="warehouse_command", required=True)
    stats = warehouse_commands.add_parser("stats", help="rows per table and layer, date ranges, file size")
    stats.add_argument("--json", action="store_true")
    snapshot = warehouse_commands.add_parser("snapshot", help="write a consistent read-only copy (a replica)")
    snapshot.add_argument("path")
    snapshot.add_argument("--json", action="store_true")

    ledger = commands.add_parser("ledger", help="the ledger of answers (what replies are verified against)")
    ledger_commands = ledger.add_subparsers(dest="ledger_command", required=True)
    show = ledger_commands.add_parser("show", help="one answer as served: caller, tool, arguments, answer, time")
    show.add_argument("id", metavar="ID", help="its cite.tool_call_id (tc_...)")
    show.add_argument("--json", action="store_true")

    verify = commands.add_parser("verify", help="check a reply's numbers against the ledger (exit 0 pass, 1 fail)")
    verify.add_argument("file", metavar="FILE", help="the reply, as the user would get it; - reads standard input")
    verify.add_argument("--user", default=None, help="check against this user's answers only (default: anyone's)")
    verify.add_argument("--json", action="store_true")

    accounts_cli.add_parsers(commands)
    profiles_cli.add_parsers(commands)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        return _serve(args, settings)
    if args.command in accounts_cli.COMMANDS:
        return accounts_cli.run(args, settings)
    if args.command == "profiles":
        return profiles_cli.run(args, settings)
    if args.command == "ingest":
        job: dict[str, Any] = {"job": args.ingest_command, "force": getattr(args, "force", False)}
        job.update({k: getattr(args, k, None) for k in ("date", "start", "end", "codes")})
    elif args.command == "quality":
        job = {"job": "quality", "date": args.date}
    elif args.command == "ledger":
        job = {"job": "ledger_show", "id": args.id}
    elif args.command == "verify":
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
        job = {"job": "verify", "text": text, "user": args.user}
    elif args.warehouse_command == "stats":
        job = {"job": "stats"}
    else:
        job = {"job": "snapshot", "path": str(Path(args.path).resolve())}
    return _job(settings, job, as_json=args.json)


if __name__ == "__main__":
    sys.exit(main())
