"""The accounts database from the operator's shell: tokens, schema, users, provisioning, usage."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from typing import Any

from ops.output import emit
from ops.settings import Settings

COMMANDS = ("token", "db", "provision", "users", "usage")


def add_parsers(commands: Any) -> None:
    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser("issue", help="issue a token; prints it once, on the last line")
    issue.add_argument("--user", required=True)
    issue.add_argument("--rate-limit", type=int, default=60, metavar="N", help="requests a minute on /mcp (60)")
    limit = token_commands.add_parser("limit", help="set the requests-a-minute limit of a user's active tokens")
    limit.add_argument("--user", required=True)
    limit.add_argument("--per-minute", type=int, required=True, metavar="N")
    revoke = token_commands.add_parser("revoke", help="revoke every active token of a user")
    revoke.add_argument("--user", required=True)
    listing = token_commands.add_parser("list", help="list tokens (never shows them)")
    listing.add_argument("--json", action="store_true")

    db = commands.add_parser("db", help="the accounts database schema (Alembic migrations)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser(
        "upgrade", help="apply every pending migration (TWILIGHT_DATABASE_URL, or the SQLite default)"
    )
    db_commands.add_parser("current", help="the schema revision the database is at, and this release's")

    provision = commands.add_parser("provision", help="give a user a key and a running Hermes profile (idempotent)")
    provision.add_argument("--user", required=True, help="the user (made if new)")
    provision.add_argument("--plan", default=None, help="their plan (default: unchanged)")
    provision.add_argument("--json", action="store_true")
    users = commands.add_parser("users", help="users, their plans and keys")
    users.add_subparsers(dest="users_command", required=True).add_parser("list").add_argument(
        "--json", action="store_true"
    )
    usage = commands.add_parser("usage", help="a user's tool calls, per tool")
    usage.add_argument("--user", required=True)
    usage.add_argument("--since", default=None, help="YYYY-MM-DD (default: 30 days ago)")
    usage.add_argument("--json", action="store_true")


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ops.logging import configure_logging
    from provisioning.migrate import NotMigrated

    configure_logging(settings.log_level)  # to stderr: stdout carries the answer (and --json)
    settings.ensure_home()
    try:
        if args.command == "db":
            return _db(args, settings)
        if args.command == "token":
            return _tokens(args, settings)
        return _listings(args, settings)
    except NotMigrated as exc:
        print(f"twilight {args.command}: {exc}", file=sys.stderr)
        return 2


def _db(args: argparse.Namespace, settings: Settings) -> int:
    from provisioning import migrate
    from provisioning.accounts import make_engine

    engine = make_engine(settings.accounts_url)
    where = engine.url.render_as_string(hide_password=True)
    try:
        if args.db_command == "current":
            print(f"{where}: at {migrate.current(engine) or 'no schema'}; this release needs {migrate.head()}")
            return 0
        before, after = migrate.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        print(f"{where}: already at {after}")
    else:
        print(f"{where}: migrated {before or 'empty'} -> {after}")
    return 0


def _tokens(args: argparse.Namespace, settings: Settings) -> int:
    from provisioning.migrate import open_accounts
    from provisioning.tokens import TokenStore

    store = TokenStore(open_accounts(settings.accounts_url))
    if getattr(args, "rate_limit", 1) < 1 or getattr(args, "per_minute", 1) < 1:
        print(f"twilight token {args.token_command}: the limit must be at least 1 request a minute", file=sys.stderr)
        return 2
    if args.token_command == "limit":
        changed = store.set_limit(args.user, args.per_minute)
        if not changed:
            print(f"twilight token limit: {args.user!r} has no active token", file=sys.stderr)
            return 1
        print(f"{args.user}: {changed} token(s) now allow {args.per_minute} requests a minute.")
        return 0
    if args.token_command == "issue":
        raw = store.issue(args.user, args.rate_limit)
        print(f"Issued a token for {args.user}. It is shown once; store it now (only its sha256 is kept):")
        print(raw)
        return 0
    if args.token_command == "revoke":
        count = store.revoke(args.user)
        if count == 0:
            print(f"twilight token revoke: {args.user!r} has no active token", file=sys.stderr)
            return 1
        print(f"Revoked {count} token(s) of {args.user}.")
        return 0
    rows = store.listing()
    if args.json:
        print(json.dumps([
            {"user": r.user, "prefix": r.prefix, "created_at": r.created_at.isoformat(),
             "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None} for r in rows
        ], indent=2))  # fmt: skip
        return 0
    if not rows:
        print("No tokens. Issue one with: twilight token issue --user NAME")
        return 0
    print(f"{'USER':24} {'PREFIX':10} {'CREATED (UTC)':20} STATE")
    for r in rows:
        state = f"revoked {r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "active"
        print(f"{r.user:24} {r.prefix + '…':10} {r.created_at:%Y-%m-%d %H:%M:%S}  {state}")
    return 0


def _listings(args: argparse.Namespace, settings: Settings) -> int:
    from provisioning import listings
    from provisioning.migrate import open_accounts
    from provisioning.provisioner import Provisioner, UnknownUser
    from provisioning.usage import Usage

    engine = open_accounts(settings.accounts_url)
    if args.command == "provision":
        try:
            done = Provisioner(engine, settings.provisioner_config()).provision(args.user, plan=args.plan, create=True)
        except UnknownUser as exc:
            print(f"twilight provision: {exc}", file=sys.stderr)
            return 1
        if args.json:
            print(json.dumps(done.as_dict(), indent=2))
        else:
            print(f"{done.user}: profile {done.profile} {done.state} ({done.runner}) at {done.path}"
                  + (f"\n  {done.reason}" if done.reason else "")
                  + f"\n  {'a new key was written to' if done.key_created else 'its key is in'} {done.path}/.env"
                  f" ({done.seconds:.2f} s)")  # fmt: skip
        return 0 if done.state != "failed" else 1
    if args.command == "usage":
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=30)
        if args.since:
            try:
                since = dt.datetime.fromisoformat(args.since).replace(tzinfo=dt.UTC)
            except ValueError:
                print(f"twilight usage: --since {args.since!r} is not a date; use YYYY-MM-DD", file=sys.stderr)
                return 2
        rows = Usage(engine).summary(args.user, since)
    else:
        rows = listings.users(engine)
    return emit(rows, as_json=args.json, empty=f"No {args.command} yet.")
