"""`twilight`: serve the MCP server, and manage API tokens."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from ops import __version__
from ops.logging import configure_logging
from ops.settings import Settings


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import anyio
    import uvicorn

    from mcp_server.runtime import Runtime
    from mcp_server.server import build_server
    from ops.app import build_app
    from warehouse.store import WarehouseBusy

    settings.host = args.host or settings.host
    settings.port = args.port or settings.port
    configure_logging(settings.log_level)
    try:
        rt = Runtime.open(settings)
    except WarehouseBusy as exc:
        print(f"twilight serve: {exc}", file=sys.stderr)
        return 2
    if args.transport == "stdio":
        server = build_server(rt, http_auth=False)
        try:
            anyio.run(server.run_stdio_async)
        finally:
            rt.close()
        return 0
    print(f"twilight {__version__}: MCP at http://{settings.host}:{settings.port}/mcp", file=sys.stderr)
    uvicorn.run(build_app(rt), host=settings.host, port=settings.port, log_config=None, access_log=False)
    return 0


def _tokens(args: argparse.Namespace, settings: Settings) -> int:
    from provisioning.accounts import make_engine
    from provisioning.tokens import TokenStore

    settings.ensure_home()
    store = TokenStore(make_engine(settings.accounts_url))
    if args.token_command == "issue":
        raw = store.issue(args.user)
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


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="twilight", description="Twilight Drive: cited market data over MCP.")
    root.add_argument("--version", action="version", version=f"twilight {__version__}")
    commands = root.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the MCP server")
    serve.add_argument("--transport", choices=["http", "stdio"], default="http")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1, or TWILIGHT_HOST)")
    serve.add_argument("--port", type=int, default=None, help="port (default 9100, or TWILIGHT_PORT)")

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    issue = token_commands.add_parser("issue", help="issue a token; prints it once, on the last line")
    issue.add_argument("--user", required=True)
    revoke = token_commands.add_parser("revoke", help="revoke every active token of a user")
    revoke.add_argument("--user", required=True)
    listing = token_commands.add_parser("list", help="list tokens (never shows them)")
    listing.add_argument("--json", action="store_true")
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings()
    if args.command == "serve":
        return _serve(args, settings)
    return _tokens(args, settings)


if __name__ == "__main__":
    sys.exit(main())
