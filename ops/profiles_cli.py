"""`hermes-profile-manager` (also `twilight profiles ...`): the profile registry from a shell.

Every change is a commit in the registry saying who and why; exit codes: 0 done, 1 refused or
failed (the message says why), 2 a bad argument. `--json` where a script reads the output.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from typing import Any

from ops import admin_cli
from ops.output import emit
from ops.settings import Settings


def add_parsers(commands: Any) -> None:
    profiles = commands.add_parser("profiles", help="the profile registry (hermes-profile-manager)")
    _commands(profiles)


def _commands(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="profiles_command", required=True)
    listing = sub.add_parser("list", help="profiles, owners, and (when provisioned here) state and health")
    listing.add_argument("--json", action="store_true")
    show = sub.add_parser("show", help="a profile's changes since the last commit")
    show.add_argument("name")
    claim = sub.add_parser("claim", help="own a profile")
    claim.add_argument("name")
    claim.add_argument("--as", dest="identity", default=None,
                       help="payment:<transaction id or order no> of a paid order, or operator:<name>"
                       " (default: operator:<this account>)")  # fmt: skip
    claim.add_argument("--json", action="store_true")
    push = sub.add_parser("push", help="commit local changes and push them to the registry")
    push.add_argument("-m", "--message", default="push", help="why (goes into the commit message)")
    sub.add_parser("pull", help="fetch the registry and merge it into this host's copy")
    sub.add_parser("sync", help="pull, then push")
    template = sub.add_parser("template", help="profile templates")
    tsub = template.add_subparsers(dest="template_command", required=True)
    tlist = tsub.add_parser("list", help="templates in the registry")
    tlist.add_argument("--json", action="store_true")
    create = tsub.add_parser("create", help="a new template from a profile (its secrets left out)")
    create.add_argument("name")
    create.add_argument("--from", dest="source", required=True, metavar="PROFILE")
    apply = tsub.add_parser("apply", help="a new profile from a template, its secrets planted (not committed)")
    apply.add_argument("template")
    apply.add_argument("target")
    apply.add_argument("--json", action="store_true")
    rebind = sub.add_parser("rebind", help="bind a paid bot to WeChat anew (a new phone): prints the QR to scan")
    rebind.add_argument("name")
    rebind.add_argument("--json", action="store_true")
    admin = sub.add_parser("admin", help="profiles running on this host (hermes-admin)")
    admin_cli.commands(admin)
    ownership = sub.add_parser("ownership", help="the OWNERS registry")
    osub = ownership.add_subparsers(dest="ownership_command", required=True)
    olist = osub.add_parser("list")
    olist.add_argument("--json", action="store_true")
    transfer = osub.add_parser("transfer", help="hand profiles from one owner to another (both consent)")
    transfer.add_argument("giver", metavar="FROM")
    transfer.add_argument("taker", metavar="TO")
    transfer.add_argument("--profile", default=None, help="one profile (default: every profile FROM owns)")
    transfer.add_argument("--from-consent", required=True, metavar="IDENTITY", help="proves FROM agrees")
    transfer.add_argument("--to-consent", required=True, metavar="IDENTITY", help="proves TO agrees")


def main(argv: Sequence[str] | None = None) -> int:
    """The `hermes-profile-manager` command."""
    parser = argparse.ArgumentParser(prog="hermes-profile-manager", description=__doc__.splitlines()[0])
    _commands(parser)
    return run(parser.parse_args(argv), Settings())


def run(args: argparse.Namespace, settings: Settings) -> int:
    from ops.logging import configure_logging
    from profiles.names import ProfileNameError, check_arguments
    from profiles.registry import RegistryError

    if args.profiles_command == "admin":
        return admin_cli.run(args, settings)
    try:
        check_arguments(args)
        configure_logging(settings.log_level)
        settings.ensure_home()
        return _run(args, settings)
    except ProfileNameError as exc:  # a bad argument: nothing was written
        print(f"hermes-profile-manager: {exc}", file=sys.stderr)
        return 2
    except (RegistryError, ValueError) as exc:  # TemplateError is a ValueError
        print(f"hermes-profile-manager: {exc}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from profiles import templates
    from profiles.registry import Registry, RegistryError
    from provisioning.migrate import open_accounts
    from provisioning.tokens import TokenStore

    command = args.profiles_command
    if command == "rebind":
        return _rebind(args, settings)
    registry = Registry(settings.profile_registry_remote, settings.hermes_home).ensure()
    if command == "list":
        return _print(args, _listing(registry, settings))
    if command == "show":
        print(registry.show(args.name), end="")
        return 0
    if command == "claim":
        identity = args.identity or f"operator:{registry.actor}"
        owner, changed = registry.claim(args.name, identity, _verifier(settings))
        _print(args, {"profile": owner.profile, "owner": owner.owner, "verified_by": owner.verified_by,
                      "claimed_at": owner.claimed_at, "changed": changed})  # fmt: skip
        return 0
    if command in ("push", "pull", "sync"):
        if command == "push":
            print("pushed" if registry.push(args.message) else "nothing to push")
            return 0
        updated = registry.pull() if command == "pull" else registry.sync()
        print(f"{len(updated)} file(s) updated" + "".join(f"\n  {c}" for c in updated))
        return 0
    if command == "ownership":
        if args.ownership_command == "list":
            return _print(args, [o.__dict__ for o in registry.owners().values()])
        names = [args.profile] if args.profile else [o.profile for o in registry.owners().values()
                                                     if o.owner == args.giver]  # fmt: skip
        if not names:
            raise RegistryError(f"{args.giver} owns no profile")
        verify = _verifier(settings)
        for name in names:
            moved = registry.transfer(name, args.taker, args.from_consent, args.to_consent, verify)
            print(f"{moved.profile}: now owned by {moved.owner} (consent: {args.from_consent}, {args.to_consent})")
        return 0
    root = registry.workdir / "profiles"
    if args.template_command == "list":
        found = {t.name: t for t in templates.list_templates(templates.TEMPLATES_DIR)}
        found.update({t.name: t for t in templates.list_templates(root)})  # the registry's own win
        return _print(args, [{"name": t.name, "placeholders": sorted(t.placeholders), "secrets": t.secrets,
                              "cron_jobs": t.cron_jobs, "path": str(t.path)} for t in found.values()])  # fmt: skip
    if args.template_command == "create":
        made = templates.create_from(root / args.source, args.name, root)
        registry.push(f"template create {args.name} from {args.source}")
        print(f"template {args.name} created from {args.source} at {made}")
        return 0
    target = root / args.target
    connection = settings.profile_connection()
    template = templates.template_dir(root, args.template)
    applied = templates.apply(template, target, connection.values, connection.pools, pick=len(registry.profiles()))
    try:
        registered = TokenStore(open_accounts(settings.accounts_url)).adopt_planted(args.target, target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)  # not pushed yet: no profile is left with a key nobody knows
        raise
    registry.push(f"template apply {args.template} as {args.target}")
    planted = {"profile": applied.name, "path": str(applied.path), "secrets_planted": applied.secrets_planted,
               "user": args.target if registered else None}  # fmt: skip
    return _print(args, planted)


def _rebind(args: argparse.Namespace, settings: Settings) -> int:
    """A new QR binding (the open one is replaced); the running server polls it, as its state is stored."""
    import segno

    from provisioning.binding import Binder, BindingError
    from provisioning.ilink import IlinkError
    from provisioning.migrate import open_accounts

    binder = Binder(open_accounts(settings.accounts_url), settings.ilink_url, lambda _name: None)
    try:
        started = binder.begin(args.name)
    except (BindingError, IlinkError) as exc:
        print(f"twilight profiles rebind: {exc}", file=sys.stderr)
        return 1
    if not getattr(args, "json", False) and started.qr_url:
        segno.make(started.qr_url, error="m").terminal(compact=True)
    return _print(args, {"profile": started.profile, "binding": started.id, "state": started.state,
                         "qr_url": started.qr_url, "next": "scan it with the new phone's WeChat; the running server"
                         " finishes the binding and restarts the bot"})  # fmt: skip


def _listing(registry: Any, settings: Settings) -> list[dict[str, Any]]:
    """Registry profiles with their owners, joined with what this host's accounts DB knows of them."""
    from provisioning import listings
    from provisioning.migrate import open_accounts

    provisioned = {p["profile"]: p for p in listings.profiles(open_accounts(settings.accounts_url))}
    owners = registry.owners()
    names = sorted(set(registry.profiles()) | set(provisioned))
    rows = []
    for name in names:
        owner, known = owners.get(name), provisioned.get(name, {})
        rows.append({"profile": name, "owner": owner.owner if owner else None,
                     "verified_by": owner.verified_by if owner else None, "user": known.get("user"),
                     "state": known.get("state"), "runner": known.get("runner"), "tier": known.get("tier"),
                     "pid": known.get("pid"), "port": known.get("port"),
                     "path": known.get("path") or str(registry.workdir / "profiles" / name),
                     "last_health": known.get("last_health"),
                     "last_health_at": known.get("last_health_at")})  # fmt: skip
    return rows


def _verifier(settings: Settings) -> Any:
    """payment:<ref> proves the paying user of a paid order in the accounts DB; operator:<name> is taken
    as given (an operator on this host)."""
    from provisioning.listings import payer
    from provisioning.migrate import open_accounts

    engine = open_accounts(settings.accounts_url)

    def verify(identity: str) -> str | None:
        kind, _, ref = identity.partition(":")
        if kind == "operator" and ref:
            return ref
        if kind == "payment" and ref:
            return payer(engine, ref)
        return None

    return verify


def _print(args: argparse.Namespace, body: Any) -> int:
    return emit(body, as_json=getattr(args, "json", False))


if __name__ == "__main__":
    sys.exit(main())
