"""The one rule for profile and template names, checked before anything is written.

Why: a name becomes a directory under TWILIGHT_HOME (`profiles/<name>`, beside the templates of the
registry), a path in the registry's git, a compose service, an accounts user and `hermes -p NAME`.
A name holding `/`, `..`, an absolute path, a capital (a second profile on a case-insensitive disk),
a non-ASCII letter or thousands of characters would write outside TWILIGHT_HOME or crash the command
half-way, so every command that takes a name, and the provisioner for the names it makes
(`user-<8 hex digits>`), calls `check` first.
"""

from __future__ import annotations

import re

from providers.symbols import quoted

RULE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")  # fullmatch only: `$` would let a trailing newline through
RULE_TEXT = "1 to 63 characters, lowercase letters a-z, digits and '-', starting with a letter or digit (e.g. desk-1)"
SHOWN = 40  # characters of a refused name quoted back: a 10,000-character name is not echoed whole


class ProfileNameError(ValueError):
    """A name that breaks the rule; its message says which argument, why, and what to use instead."""

    def __init__(self, name: str, argument: str) -> None:
        self.name = name
        self.argument = argument
        super().__init__(f"{argument} {shown(name)} is not a valid name: use {RULE_TEXT}")


def check(name: str, argument: str = "the profile name") -> str:
    """`name` if it keeps the rule; ProfileNameError (naming `argument`) if not."""
    if not RULE.fullmatch(name):
        raise ProfileNameError(name, argument)
    return name


def shown(name: str) -> str:
    """The name as quoted in a message: repr (control characters escaped), cut when long."""
    return quoted(name, SHOWN)


# The arguments (argparse dests) that name a profile or a template, and how a refusal names each.
NAMED_ARGUMENTS = {"name": "NAME", "target": "TARGET", "template": "the template", "source": "--from",
                   "profile": "--profile"}  # fmt: skip


def check_arguments(args: object) -> None:
    """Every name a command was given (an argparse namespace) against the rule, before anything is
    written: a name is a directory under TWILIGHT_HOME, an accounts user and a git path."""
    for dest, argument in NAMED_ARGUMENTS.items():
        value = getattr(args, dest, None)
        if isinstance(value, str):
            check(value, argument)
