"""A template's secrets: `secrets.schema.json` (how each is made), the values planted at apply,
and `.env.example` (their names, without values).

Secrets never live in a template: `config.yaml` names them as `${VAR}` (hermes expands those from
the profile's `.env`). An entry is `{"NAME": {"type": "string", "generated": true, "prefix"?: "td_"}}`
(made with `secrets.token_urlsafe(32)`) or `{"NAME": {"type": "string", "from_pool": "llm"}}` (taken
from the caller's pool of that name, the `pick`-th in turn).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from profiles.envfile import read_env
from profiles.rendering import TemplateError

# Secrets whose making `create_from` knows; any other secret-looking key of a .env is generated.
KNOWN_SECRETS: dict[str, dict[str, Any]] = {
    "TWILIGHT_API_TOKEN": {"type": "string", "generated": True, "prefix": "td_"},
    "TWILIGHT_LLM_API_KEY": {"type": "string", "from_pool": "llm"},
    "API_SERVER_KEY": {"type": "string", "generated": True},
}
SECRET_HELP = {
    "TWILIGHT_API_TOKEN": "The user's key for Twilight Drive's MCP server (config.yaml sends it as"
    ' "Authorization: Bearer ${TWILIGHT_API_TOKEN}"); register it with the accounts DB.',
    "TWILIGHT_LLM_API_KEY": "The LLM gateway key (config.yaml model.api_key: ${TWILIGHT_LLM_API_KEY}).",
    "API_SERVER_KEY": "The key of this profile's hermes API server (health checks and messages).",
}
SECRET_LIKE = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD)$")  # .env keys create_from treats as secrets
_SECRET_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")


@dataclass(frozen=True)
class Secret:
    name: str
    pool: str | None = None  # None: generated
    prefix: str = ""

    @property
    def kind(self) -> str:
        return "generated" if self.pool is None else f"pool:{self.pool}"


def load_schema(path: Path) -> list[Secret]:
    """secrets.schema.json, checked: every entry a string that is generated or from a pool."""
    try:
        body = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{path}: cannot read the secrets schema: {exc}") from exc
    if not isinstance(body, dict):
        raise TemplateError(f"{path}: must be a JSON object of secret name -> how it is made")
    return [_secret(name, spec, path) for name, spec in body.items()]


def _secret(name: str, spec: object, path: Path) -> Secret:
    if not _SECRET_NAME.fullmatch(name) or not isinstance(spec, dict) or spec.get("type") != "string":
        raise TemplateError(f'{path}: {name!r} must be an UPPER_CASE name with {{"type": "string", ...}}')
    generated, pool, prefix = spec.get("generated") is True, spec.get("from_pool"), spec.get("prefix", "")
    if generated == (pool is not None) or (pool is not None and not (isinstance(pool, str) and pool)):
        raise TemplateError(f'{path}: {name} needs exactly one of "generated": true or "from_pool": "<pool>"')
    if not isinstance(prefix, str):
        raise TemplateError(f"{path}: {name}'s prefix must be a string")
    return Secret(name, pool if isinstance(pool, str) else None, prefix)


def plant(schema: Sequence[Secret], pools: Mapping[str, Sequence[str]], pick: int = 0) -> dict[str, str]:
    """Each secret's value: generated, or the `pick`-th (in turn) of its pool."""
    values = {}
    for secret in schema:
        if secret.pool is None:
            values[secret.name] = secret.prefix + secrets.token_urlsafe(32)
            continue
        pool = [key for key in pools.get(secret.pool, ()) if key]
        if not pool:
            raise TemplateError(f"{secret.name} is taken from the {secret.pool!r} pool, which is missing or empty;"
                                f" configure that pool (e.g. TWILIGHT_LLM_KEY_POOL for 'llm')")  # fmt: skip
        values[secret.name] = secret.prefix + pool[pick % len(pool)]
    return values


def secret_values(target: Path) -> list[str]:
    """The values in a profile's .env: what must never appear in a committed file."""
    return [value for value in read_env(target / ".env").values() if value]


def env_example(schema: Sequence[Secret], source: str, skipped: Iterable[str] = ()) -> str:
    """.env.example: every secret name, empty, with a comment on what it is and how it is made."""
    text = (f"# Secrets of a Twilight Drive hermes profile ({source}). Names only: `apply` plants the values into\n"
            "# .env (mode 0600), which never enters git.\n")  # fmt: skip
    for secret in schema:
        made = (f"Generated at apply: {secret.prefix}<secrets.token_urlsafe(32)>" if secret.pool is None
                else f"Taken at apply from the {secret.pool!r} key pool, one key per profile in turn")  # fmt: skip
        help_line = f"# {SECRET_HELP[secret.name]}\n" if secret.name in SECRET_HELP else ""
        text += f"\n{help_line}# {made}.\n{secret.name}=\n"
    for key in skipped:
        text += f"\n# {key}: a per-host setting (not a secret), written by the provisioner, not the template.\n"
    return text


def derived(key: str) -> Secret:
    """How the secret `key` of an existing profile's .env is made again (KNOWN_SECRETS, else generated)."""
    spec = KNOWN_SECRETS.get(key, {})
    return Secret(key, spec.get("from_pool"), spec.get("prefix", ""))


def schema_text(schema: Sequence[Secret]) -> str:
    """secrets.schema.json for `schema`."""
    return json.dumps({s.name: KNOWN_SECRETS.get(s.name, _spec(s)) for s in schema}, indent=2) + "\n"


def _spec(secret: Secret) -> dict[str, Any]:
    how: dict[str, Any] = {"generated": True} if secret.pool is None else {"from_pool": secret.pool}
    return {"type": "string", **how}
