"""The hermes-agent plugins shipped in `profiles/plugins/`, as every profile gets them.

Every profile gets the plugins shipped in `profiles/plugins/` (today `twilight_verify`, which has
`verify_answer` check each final reply before hermes delivers it): hermes loads plugins only from the
profile's own `plugins/<name>/`, and only those named in config.yaml's `plugins.enabled`
(`hermes_cli/plugins.py`), so `apply` copies each folder in and makes sure config.yaml enables it (a
template without a `plugins` section gets one; one that leaves a shipped plugin out is refused).
The plugin is code without secrets (it reads the key from `.env` when it runs), so it is committed
and pushed with the profile: a host that pulls a profile runs it with its check, and an enabled
plugin whose folder is missing would be skipped by hermes without a word. `install_plugins` brings
an existing profile's copy up to this release's.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from profiles.envfile import write_atomically
from profiles.rendering import TemplateError

PLUGINS_DIR = Path(__file__).resolve().parent / "plugins"
PLUGINS = ("twilight_verify",)  # folders of PLUGINS_DIR every profile gets, enabled
PLUGIN_FILES = ("plugin.yaml", "*.py")  # what a plugin folder ships (no bytecode)


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
