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
- `crontab.json`: scheduled jobs (below); rendered like config.yaml, so `"workdir": "{{WORKSPACE}}"`.
- `SOUL.md` (who the bot is) and `AGENTS.md` (how it cites; copied to `workspace/AGENTS.md`, since
  hermes reads AGENTS.md from `terminal.cwd`), both copied verbatim.
- `secrets.schema.json`: `{"NAME": {"type": "string", "generated": true, "prefix"?: "td_"}}` (made
  with `secrets.token_urlsafe(32)`) or `{"NAME": {"type": "string", "from_pool": "llm"}}` (taken from
  the caller's pool of that name, the `pick`-th in turn).
- `.env.example`: the secret names, without values.

Every profile also gets the plugins shipped in `profiles/plugins/` (today `twilight_verify`, which has
`verify_answer` check each final reply before hermes delivers it): hermes loads plugins only from the
profile's own `plugins/<name>/`, and only those named in config.yaml's `plugins.enabled`
(`hermes_cli/plugins.py`), so `apply` copies each folder in and makes sure config.yaml enables it (a
template without a `plugins` section gets one; one that leaves a shipped plugin out is refused).
The plugin is code without secrets (it reads the key from `.env` when it runs), so it is committed
and pushed with the profile: a host that pulls a profile runs it with its check, and an enabled
plugin whose folder is missing would be skipped by hermes without a word. `install_plugins` brings
an existing profile's copy up to this release's.

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
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from profiles import names
from profiles.envfile import read_env, write_atomically

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"
PLUGINS = ("twilight_verify",)  # folders of PLUGINS_DIR every profile gets, enabled
PLUGIN_FILES = ("plugin.yaml", "*.py")  # what a plugin folder ships (no bytecode)

CONFIG_TEMPLATE = "config.yaml.template"
CRONTAB = "crontab.json"
SCHEMA = "secrets.schema.json"
ENV_EXAMPLE = ".env.example"
RENDERED = {CONFIG_TEMPLATE: "config.yaml", CRONTAB: CRONTAB}  # template file -> profile file, placeholders filled
COPIED = {"SOUL.md": "SOUL.md", "AGENTS.md": "workspace/AGENTS.md", ENV_EXAMPLE: ENV_EXAMPLE}  # verbatim

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

_NAME = r"[A-Z][A-Z0-9_]*"
_PLACEHOLDER = re.compile(r"\{\{(" + _NAME + r")\}\}")
_CANDIDATE = re.compile(r"\{\{(.*?)\}\}")
_SECRET_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")

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


class TemplateError(ValueError):
    """A template that cannot be listed, applied or made, with what is wrong and where."""


@dataclass(frozen=True)
class Secret:
    name: str
    pool: str | None = None  # None: generated
    prefix: str = ""

    @property
    def kind(self) -> str:
        return "generated" if self.pool is None else f"pool:{self.pool}"


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


# -- placeholders ------------------------------------------------------------------------------
def placeholders(text: str) -> set[str]:
    """The well-formed `{{NAME}}` placeholders in `text`."""
    return set(_PLACEHOLDER.findall(text))


def syntax_errors(text: str) -> list[str]:
    """Malformed placeholders (`{{ lower }}`, `{{}}`) and unbalanced `{{` / `}}`, by line."""
    errors = []
    for number, line in enumerate(text.splitlines(), 1):
        errors += [f"line {number}: {m.group(0)!r} is not a {{{{UPPER_CASE}}}} placeholder"
                   for m in _CANDIDATE.finditer(line) if not re.fullmatch(_NAME, m.group(1))]  # fmt: skip
        rest = _CANDIDATE.sub("", line)
        if "{{" in rest or "}}" in rest:
            errors.append(f"line {number}: unbalanced braces in {line.strip()!r}")
    return errors


def render_text(text: str, values: Mapping[str, str], *, source: str) -> str:
    """`text` with every placeholder filled. TemplateError on malformed syntax, on placeholders without
    a value (all named), on a multi-line value, and when a `.yaml`/`.json` source no longer parses.
    Values the text does not use are allowed."""
    errors = syntax_errors(text)
    if errors:
        raise TemplateError(f"{source}: malformed placeholder syntax: " + "; ".join(errors))
    used = placeholders(text)
    missing = sorted(name for name in used if name not in values)
    if missing:
        raise TemplateError(f"{source}: no value for {', '.join('{{' + n + '}}' for n in missing)}; pass them")
    multiline = sorted(name for name in used if "\n" in values[name] or "\r" in values[name])
    if multiline:
        raise TemplateError(f"{source}: the value of {', '.join(multiline)} must be a single line")
    rendered = _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)
    _check_parses(rendered, source)
    return rendered


def _check_parses(text: str, source: str) -> None:
    name = source.removesuffix(".template")
    try:
        if name.endswith((".yaml", ".yml")) and not isinstance(yaml.safe_load(text), dict):
            raise TemplateError(f"{source}: rendered, it is not a YAML mapping")
        if name.endswith(".json"):
            json.loads(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise TemplateError(f"{source}: rendered, it does not parse: {exc}") from exc


# -- cron jobs ---------------------------------------------------------------------------------
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


# -- secrets -----------------------------------------------------------------------------------
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


# -- plugins -----------------------------------------------------------------------------------
def plugin_files() -> dict[str, str]:
    """The shipped plugins as profile files: `plugins/<name>/<file>` -> text."""
    files = {}
    for name in PLUGINS:
        folder = PLUGINS_DIR / name
        if not (folder / "plugin.yaml").is_file():
            raise TemplateError(f"{folder} has no plugin.yaml: this installation of twilight-drive is incomplete")
        for path in sorted({p for pattern in PLUGIN_FILES for p in folder.glob(pattern) if p.is_file()}):
            files[f"plugins/{name}/{path.name}"] = path.read_text()
    return files


def install_plugins(home: Path) -> list[str]:
    """Bring an existing profile's copy of the shipped plugins up to this release's; the files that
    changed. Enabling them is config.yaml's business (`enable_plugins`)."""
    if not (home / "config.yaml").is_file():
        raise TemplateError(f"{home} is not a profile: it has no config.yaml")
    return [relative for relative, text in plugin_files().items() if write_atomically(home / relative, text)]


def enable_plugins(config: str, *, source: str) -> str:
    """config.yaml's text with every shipped plugin in `plugins.enabled`: a `plugins` section is added
    when there is none; one that leaves a shipped plugin out (or disables it) is refused, since a
    profile without its checks must be an operator's visible decision, not a template's accident."""
    section = (yaml.safe_load(config) or {}).get("plugins")
    if section is None:
        listed = "".join(f"  - {name}\n" for name in PLUGINS)
        comment = "# Twilight Drive's plugins (profiles/plugins/): hermes loads only those listed.\n"
        config = config.rstrip("\n") + f"\n{comment}plugins:\n  enabled:\n{listed}"
        section = yaml.safe_load(config)["plugins"]
    enabled = section.get("enabled") if isinstance(section, dict) else None
    disabled = section.get("disabled") if isinstance(section, dict) else None
    left_out = [name for name in PLUGINS if not isinstance(enabled, list) or name not in enabled
                or (isinstance(disabled, list) and name in disabled)]  # fmt: skip
    if left_out:
        raise TemplateError(f"{source}: its plugins section must list {', '.join(left_out)} in plugins.enabled"
                            " (and not in plugins.disabled); every profile runs them")  # fmt: skip
    return config


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
            write_atomically(staging / ".env", _env_text(env), mode=0o600)  # 0600 before a byte is written
        if home.exists():
            home.rmdir()  # empty (checked by the caller)
        os.replace(staging, home)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _env_text(env: Mapping[str, str]) -> str:
    header = "# Planted from a Twilight Drive profile template. Secrets: never commit or share this file.\n"
    return header + "".join(f"{key}={value}\n" for key, value in sorted(env.items()))


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
    schema = [_derived_secret(key) for key in sorted(env) if SECRET_LIKE.search(key)]
    skipped = sorted(key for key in env if not SECRET_LIKE.search(key))
    files = _generalised_files(profile)
    files[SCHEMA] = json.dumps({s.name: KNOWN_SECRETS.get(s.name, _spec(s)) for s in schema}, indent=2) + "\n"
    files[ENV_EXAMPLE] = env_example(schema, f"template {name}, made from profile {profile.name}", skipped)
    _refuse_leaks(files, [env[s.name] for s in schema], profile)
    _write_tree(dest.absolute(), files)
    return dest


def _derived_secret(key: str) -> Secret:
    spec = KNOWN_SECRETS.get(key, {})
    return Secret(key, spec.get("from_pool"), spec.get("prefix", ""))


def _spec(secret: Secret) -> dict[str, Any]:
    how: dict[str, Any] = {"generated": True} if secret.pool is None else {"from_pool": secret.pool}
    return {"type": "string", **how}


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
