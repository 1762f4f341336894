"""Profile templates: a user's hermes-agent profile made from a reviewed directory, not from code.

Why: plans differ (deep research, daily quotes, crypto), and an operator should be able to change a
bot's soul, rules or schedule, or turn a tuned profile into a new plan, without a release. Secrets
never live in a template: `config.yaml` names them as `${VAR}` (hermes expands those from the
profile's `.env`), `secrets.schema.json` says how each is made, and `apply` plants them into a
`.env` (mode 0600) that the profile's `.gitignore` keeps out of the registry.

A template is a directory holding:

- `config.yaml.template`: hermes' `config.yaml` with `{{NAME}}` placeholders (NAME: A-Z, 0-9, _).
  `apply` fills PROFILE_NAME, PROFILE_HOME and WORKSPACE from the target unless given; the shipped
  templates also need MCP_URL, LLM_GATEWAY_URL and LLM_MODEL.
- `crontab.json`: scheduled jobs (`profiles.cron_jobs`); rendered like config.yaml, so
  `"workdir": "{{WORKSPACE}}"`.
- `SOUL.md` (who the bot is) and `AGENTS.md` (how it cites; copied to `workspace/AGENTS.md`, since
  hermes reads AGENTS.md from `terminal.cwd`), both copied verbatim.
- `secrets.schema.json`: how each secret is made (`profiles.secret_schema`).
- `.env.example`: the secret names, without values.

Placeholders are filled by `profiles.rendering`; every profile also gets the plugins of
`profiles.shipped_plugins`. This module is the one factory of profiles (`apply`: the CLIs and the
payment provisioner all make theirs with it) and makes templates from profiles (`create_from`).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from profiles import names
from profiles.cron_jobs import load_jobs, validate_jobs
from profiles.envfile import read_env, write_env
from profiles.rendering import TemplateError, placeholders, render_text, syntax_errors
from profiles.secret_schema import SECRET_LIKE, derived, env_example, load_schema, plant, schema_text
from profiles.shipped_plugins import enable_plugins, plugin_files

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

CONFIG_TEMPLATE = "config.yaml.template"
CRONTAB = "crontab.json"
SCHEMA = "secrets.schema.json"
ENV_EXAMPLE = ".env.example"
RENDERED = {CONFIG_TEMPLATE: "config.yaml", CRONTAB: CRONTAB}  # template file -> profile file, placeholders filled
COPIED = {"SOUL.md": "SOUL.md", "AGENTS.md": "workspace/AGENTS.md", ENV_EXAMPLE: ENV_EXAMPLE}  # verbatim
MIN_LEAK_LENGTH = 8  # shorter values are not searched for (they would match ordinary text)

# What hermes writes into a profile that must not enter git: secrets first, then runtime state.
GITIGNORE = """\
# Secrets: never commit.
.env
.env.*
!.env.example
auth.json
auth.lock
.anthropic_oauth.json
slack_tokens.json
honcho.json
mem0.json
# Runtime state hermes-agent writes into its HERMES_HOME.
state.db
*.db
*.db-wal
*.db-shm
*.lock
*.pid
gateway.pid
gateway_state.json
gateway.json
gateway/
sessions/
session-exports/
logs/
memories/
checkpoints/
cache/
images/
pastes/
pending/
sandboxes/
tmp/
*_cache.json
processes.json
channel_directory.json
.update_*
.restart_*
weixin/
.clean_shutdown
.hermes_history
cron/output/
cron/jobs.json
cron/.jobs.lock
cron/ticker_*
# Bytecode Python writes beside the plugins when hermes imports them.
__pycache__/
*.pyc
# The agent's scratch files; only its rules are part of the profile.
workspace/*
!workspace/AGENTS.md
"""


@dataclass(frozen=True)
class Connection:
    """What a new profile is wired to: our MCP server, the LLM gateway and its model, and the gateway
    keys handed to profiles (one each, in turn)."""

    mcp_url: str
    gateway_url: str
    model: str
    llm_keys: tuple[str, ...] = ()

    @property
    def values(self) -> dict[str, str]:
        """The placeholders the shipped templates need beside the target's own."""
        return {"MCP_URL": self.mcp_url, "LLM_GATEWAY_URL": self.gateway_url, "LLM_MODEL": self.model}

    @property
    def pools(self) -> dict[str, list[str]]:
        return {"llm": list(self.llm_keys)}


@dataclass(frozen=True)
class TemplateInfo:
    name: str
    path: Path
    placeholders: frozenset[str]
    secrets: dict[str, str]  # name -> "generated" or "pool:<pool>"
    cron_jobs: int


@dataclass(frozen=True)
class Applied:
    name: str
    path: Path
    secrets_planted: list[str]  # names only
    placeholders_filled: list[str]


# -- listing -----------------------------------------------------------------------------------
def list_templates(root: Path = TEMPLATES_DIR) -> list[TemplateInfo]:
    """The templates under `root`: its directories holding a config.yaml.template."""
    if not root.is_dir():
        return []
    return [_info(path) for path in sorted(root.iterdir()) if (path / CONFIG_TEMPLATE).is_file()]


def _info(path: Path) -> TemplateInfo:
    used = set[str]().union(*(placeholders((path / name).read_text()) for name in RENDERED if (path / name).exists()))
    schema = load_schema(path / SCHEMA)
    jobs = load_jobs(path / CRONTAB)
    return TemplateInfo(path.name, path, frozenset(used), {s.name: s.kind for s in schema}, len(jobs))


def template_dir(root: Path, name: str) -> Path:
    """A template by name: the registry's (profiles/<name>) first, then the ones shipped with this release."""
    for candidate in (root / name, TEMPLATES_DIR / name):
        if (candidate / CONFIG_TEMPLATE).is_file():
            return candidate
    raise TemplateError(f"no template {name!r}; `template list` shows them")


# -- apply -------------------------------------------------------------------------------------
def apply(
    template: Path, target: Path, values: Mapping[str, str], pools: Mapping[str, Sequence[str]], *, pick: int = 0
) -> Applied:
    """A new profile at `target` from `template`: files rendered or copied, secrets planted into .env
    (0600), a .gitignore keeping them out of git. Nothing is written unless all of it can be."""
    home = target.absolute()
    names.check(home.name)  # its name is the profile's: a hermes `-p` argument, a user, a git path
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise TemplateError(f"{home} exists and is not empty; choose another profile name")
    if not (template / CONFIG_TEMPLATE).is_file():
        raise TemplateError(f"{template} is not a template: it has no {CONFIG_TEMPLATE}")
    filled = {"PROFILE_NAME": home.name, "PROFILE_HOME": str(home), "WORKSPACE": str(home / "workspace"), **values}
    files, used = _render_template(template, filled)
    env = plant(load_schema(template / SCHEMA), pools, pick)
    files[".gitignore"] = GITIGNORE
    _write_tree(home, files, env=env)
    return Applied(home.name, home, sorted(env), sorted(used))


def _render_template(template: Path, values: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
    files: dict[str, str] = {}
    used: set[str] = set()
    for name, out in RENDERED.items():
        if (template / name).exists():
            text = (template / name).read_text()
            files[out] = render_text(text, values, source=f"{template.name}/{name}")
            used |= placeholders(text)
    if CRONTAB in files:
        validate_jobs(json.loads(files[CRONTAB]), source=f"{template.name}/{CRONTAB}")
    files["config.yaml"] = enable_plugins(files["config.yaml"], source=f"{template.name}/{CONFIG_TEMPLATE}")
    files.update({out: (template / name).read_text() for name, out in COPIED.items() if (template / name).exists()})
    files.update(plugin_files())
    return files, used


def _write_tree(home: Path, files: Mapping[str, str], *, env: Mapping[str, str] | None = None) -> None:
    """Write `files` (relative path -> text) into a hidden sibling, then rename it to `home`."""
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=home.parent, prefix=f".{home.name}."))  # 0700: a profile holds secrets
    try:
        if env is None:
            staging.chmod(0o755)  # a template holds none
        else:
            (staging / "workspace").mkdir()  # terminal.cwd and the jobs' workdir, even without AGENTS.md
        for relative, text in files.items():
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            (staging / relative).write_text(text)
        if env is not None:
            write_env(staging / ".env", env)  # 0600 before a byte is written
        if home.exists():
            home.rmdir()  # empty (checked by the caller)
        os.replace(staging, home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


# -- create_from -------------------------------------------------------------------------------
def create_from(profile: Path, name: str, root: Path) -> Path:
    """A new template `root/name` from an existing profile: its config.yaml (and crontab.json) with the
    profile's workspace, home and (in comments) name turned back into placeholders; SOUL.md and
    AGENTS.md copied; the schema and .env.example derived from the names in its .env, never the values.
    Other values (the MCP URL, gateway, model) stay as they are in the profile."""
    names.check(name, "the template name")  # templates live beside the profiles, under the same rule
    dest = root / name
    if dest.exists():
        raise TemplateError(f"template {name!r} already exists at {dest}; choose another name")
    if not (profile / "config.yaml").is_file():
        raise TemplateError(f"{profile} is not a profile: it has no config.yaml")
    env = read_env(profile / ".env")
    schema = [derived(key) for key in sorted(env) if SECRET_LIKE.search(key)]
    skipped = sorted(key for key in env if not SECRET_LIKE.search(key))
    files = _generalised_files(profile)
    files[SCHEMA] = schema_text(schema)
    files[ENV_EXAMPLE] = env_example(schema, f"template {name}, made from profile {profile.name}", skipped)
    _refuse_leaks(files, [env[s.name] for s in schema], profile)
    _write_tree(dest.absolute(), files)
    return dest


def _generalised_files(profile: Path) -> dict[str, str]:
    generalise = _generaliser(profile)
    files = {CONFIG_TEMPLATE: generalise((profile / "config.yaml").read_text())}
    if (profile / CRONTAB).is_file():
        files[CRONTAB] = generalise((profile / CRONTAB).read_text())
        validate_jobs(json.loads(files[CRONTAB]), source=f"{profile.name}/{CRONTAB}")
    for name, text in files.items():
        errors = syntax_errors(text)
        if errors:
            raise TemplateError(f"{profile.name}/{name} already holds braces a template cannot: {'; '.join(errors)}")
    agents = next((p for p in (profile / "workspace" / "AGENTS.md", profile / "AGENTS.md") if p.is_file()), None)
    for name, source in (("SOUL.md", profile / "SOUL.md"), ("AGENTS.md", agents)):
        if source is not None and source.is_file():
            files[name] = source.read_text()
    return files


def _generaliser(profile: Path) -> Callable[[str], str]:
    """Text -> text with the profile's paths (and its name in comment lines) as placeholders."""
    try:
        config = yaml.safe_load((profile / "config.yaml").read_text()) or {}
    except yaml.YAMLError as exc:
        raise TemplateError(f"{profile}/config.yaml does not parse: {exc}") from exc
    home = profile.absolute()
    cwd = (config.get("terminal") or {}).get("cwd") if isinstance(config, dict) else None
    workspace = Path(cwd) if isinstance(cwd, str) and cwd else home / "workspace"
    swaps = {str(workspace): "{{WORKSPACE}}", str(home / "workspace"): "{{WORKSPACE}}", str(home): "{{PROFILE_HOME}}"}
    swaps.update({str(home.resolve() / "workspace"): "{{WORKSPACE}}", str(home.resolve()): "{{PROFILE_HOME}}"})
    paths = [(re.compile(re.escape(old) + r"(?![\w.-])"), new) for old, new in sorted(swaps.items(), key=_longest)]
    own_name = re.compile(r"(?<![\w.-])" + re.escape(profile.name) + r"(?![\w.-])")

    def generalise(text: str) -> str:
        for pattern, placeholder in paths:
            text = pattern.sub(placeholder, text)  # no backslash in a placeholder: taken literally
        lines = text.split("\n")
        return "\n".join(own_name.sub("{{PROFILE_NAME}}", ln) if ln.lstrip().startswith("#") else ln for ln in lines)

    return generalise


def _longest(item: tuple[str, str]) -> int:
    return -len(item[0])


def _refuse_leaks(files: Mapping[str, str], values: Iterable[str], profile: Path) -> None:
    secret = [value for value in values if len(value) >= MIN_LEAK_LENGTH]
    leaking = sorted(name for name, text in files.items() if any(value in text for value in secret))
    if leaking:
        raise TemplateError(f"{', '.join(leaking)} of {profile} hold a value of its .env; remove it first")
