"""`hermes-admin` (also `twilight profiles admin ...`): profiles running on this host.

list, start, stop, health, logs, exec NAME -- CMD, migrate NAME (prefab -> container), and
spawn NAME --tier prefab|container (a new profile from the pro template, its own secrets
planted, started, with its path, status and connection info). Exit codes: 0 done, 1 refused or
failed (the message says why), 2 a bad argument.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ops.output import emit
from ops.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from profiles.registry import Registry
    from provisioning.lifecycle import Lifecycle

SPAWN_TEMPLATE = "template-stock-research-pro"


def commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="admin_command", required=True)
    sub.add_parser("list", help="profiles on this host, with tier, state and last health").add_argument(
        "--json", action="store_true"
    )
    for name, what in (("start", "start a profile"), ("stop", "stop a profile"), ("health", "check a profile"),
                       ("logs", "the tail of a profile's logs"), ("migrate", "prefab -> container")):  # fmt: skip
        one = sub.add_parser(name, help=what)
        one.add_argument("name")
        one.add_argument("--json", action="store_true")
    run_in = sub.add_parser("exec", help="run a command with the profile's HERMES_HOME")
    run_in.add_argument("name")
    run_in.add_argument("cmd", nargs=argparse.REMAINDER, help="-- COMMAND ...")
    spawn = sub.add_parser("spawn", help="a new profile from the pro template, started")
    spawn.add_argument("name")
    spawn.add_argument("--tier", choices=["prefab", "container"], default="prefab")
    spawn.add_argument("--template", default=SPAWN_TEMPLATE)
    spawn.add_argument("--json", action="store_true")


def main(argv: Sequence[str] | None = None) -> int:
    """The `hermes-admin` command."""
    parser = argparse.ArgumentParser(prog="hermes-admin", description=__doc__.splitlines()[0])
    commands(parser)
    return run(parser.parse_args(argv), Settings())


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ops.logging import configure_logging
    from profiles.names import ProfileNameError, check_arguments
    from profiles.registry import RegistryError
    from provisioning.lifecycle import LifecycleError

    try:
        check_arguments(args)
        configure_logging(settings.log_level)
        settings.ensure_home()
        return _run(args, settings)
    except ProfileNameError as exc:  # a bad argument: nothing was written, no user or key made
        print(f"hermes-admin: {exc}", file=sys.stderr)
        return 2
    except (LifecycleError, RegistryError, ValueError) as exc:
        print(f"hermes-admin: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from profiles.registry import Registry
    from provisioning import listings
    from provisioning.lifecycle import Lifecycle
    from provisioning.migrate import open_accounts

    engine = open_accounts(settings.accounts_url)
    registry = Registry(settings.profile_registry_remote, settings.hermes_home).ensure()
    life = Lifecycle(engine, settings.runner_config(), registry.workdir)
    command = args.admin_command
    if command == "list":
        return _print(args, listings.profiles(engine))
    if command == "exec":
        cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
        return life.exec(args.name, cmd)
    if command == "logs":
        print(life.logs(args.name))
        return 0
    if command == "health":
        health = life.health(args.name)
        _print(args, health.as_dict())
        return 0 if health.status == "running" else 1
    if command == "spawn":
        return _print(args, _spawn(args, settings, engine, registry, life))
    done = {"start": life.start, "stop": life.stop, "migrate": life.migrate}[command](args.name)
    _print(args, done)
    return 1 if done.get("state") == "failed" else 0


def _spawn(args: argparse.Namespace, settings: Settings, engine: Engine, registry: Registry,
           life: Lifecycle) -> dict[str, Any]:  # fmt: skip
    """One command from nothing to a running profile: apply the template (unique secrets planted),
    push it to the registry (secrets stay out), record and start it at the asked tier."""
    from profiles import templates
    from provisioning.tokens import TokenStore

    root = registry.workdir / "profiles"
    target = root / args.name
    connection = settings.profile_connection()
    template = templates.template_dir(root, args.template)
    applied = templates.apply(template, target, connection.values, connection.pools, pick=len(registry.profiles()))
    TokenStore(engine).adopt_planted(args.name, target)  # the profile's key must be known to our server
    registry.push(f"spawn {args.name} from {args.template}")
    life.ensure_row(args.name, target)
    started = life.migrate(args.name) if args.tier == "container" else life.start(args.name)
    return {"profile": args.name, "tier": args.tier, "path": str(target), "status": started["state"],
            "reason": started.get("reason"), "api": started.get("api"), "api_key_in": str(target / ".env"),
            "secrets_planted": applied.secrets_planted}  # fmt: skip


def _print(args: argparse.Namespace, body: Any) -> int:
    return emit(body, as_json=getattr(args, "json", False))


if __name__ == "__main__":
    sys.exit(main())
