"""twilight_verify: every final reply is checked by Twilight Drive's `verify_answer` before the user
sees it, so that a number the bot got wrong reaches WeChat marked, not as fact.

What hermes-agent 0.19.0 does with a plugin (read in its source, site-packages of `.venv-hermes`):

- Discovery (`hermes_cli/plugins.py: PluginManager._discover_and_load_inner`): bundled plugins, then
  *user* plugins in `get_hermes_home()/plugins/<name>/` (`plugin.yaml` + `__init__.py`), then project
  plugins in `./.hermes/plugins/` only with HERMES_ENABLE_PROJECT_PLUGINS=1, then pip entry points.
  `hermes -p NAME` sets HERMES_HOME to the profile (`hermes_cli/main.py: _apply_profile_override`), so a
  profile's plugins live in `<profile>/plugins/`. HERMES_SAFE_MODE=1 skips discovery altogether.
- Enabling (`_get_enabled_plugins`, `_get_disabled_plugins`): a standalone user plugin loads only when
  its `plugin.yaml` name is in config.yaml's `plugins.enabled` list; a missing key means nothing is
  enabled, and `plugins.disabled` wins over it. An enabled name with no folder is skipped silently.
- Loading (`_load_plugin`, `_load_directory_module`): the folder is imported as `hermes_plugins.<name>`
  with itself as the package path (so relative imports work), and `register(ctx)` is called;
  `ctx.register_hook(name, callback)` files the callback (`PluginContext.register_hook`).
- The hook (`agent/turn_finalizer.py: finalize_turn`): once per turn, after the tool loop, when the reply
  is non-empty and the turn was not interrupted, `invoke_hook("transform_llm_output",
  response_text=..., session_id=..., model=..., platform=...)`; `PluginManager.invoke_hook` adds
  `telemetry_schema_version`. Callbacks are called synchronously, `cb(**kwargs)`, never awaited (an
  async one would hand back an ignored coroutine). The first non-empty string returned replaces the
  reply; None or "" leaves it. Any string, even the same text, sets `response_transformed`, which
  makes the gateway re-send or edit a reply it already streamed (`gateway/run.py`), so "unchanged" is
  None here.
- Failure: `invoke_hook` catches each callback's exception and logs a warning, and `finalize_turn`
  catches around the whole call: a raising hook delivers the reply unchanged (fail open). Nothing
  bounds a slow hook: the reply waits for it, so this plugin bounds its own call (TIMEOUT_SECONDS).
- Who runs it: `finalize_turn` ends every `AIAgent.run_conversation`, so every path that runs the agent
  does. The gateway (`hermes -p NAME gateway run`) discovers plugins at start (`gateway/run.py:
  GatewayRunner.start`) and runs turns in an executor thread. Weixin has `SUPPORTS_MESSAGE_EDITING = False`
  (`gateway/platforms/weixin.py`), so the gateway does not stream to it and sends the final, checked
  text. The API server (`gateway/platforms/api_server.py: _run_agent`) answers non-streaming
  `/v1/chat/completions`, `/v1/responses` and `/api/sessions/.../chat` with the checked text; with
  `stream: true` the deltas already sent are the unchecked ones. Cron jobs (`cron/scheduler.py:
  run_job`, `AIAgent(platform="cron")`) deliver and store the checked text.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Protocol

from . import client, marking

TOOL = "verify_answer"  # our MCP server's tool; argument {"text": reply}
TIMEOUT_SECONDS = 4.0  # the whole exchange; verifying a long reply takes the server well under 50 ms
HOOK = "transform_llm_output"

log = logging.getLogger(__name__)


class PluginContext(Protocol):
    """The part of hermes' `hermes_cli.plugins.PluginContext` this plugin uses."""

    def register_hook(self, hook_name: str, callback: Any) -> None: ...


def register(ctx: PluginContext) -> None:
    ctx.register_hook(HOOK, transform_llm_output)


def transform_llm_output(response_text: str = "", **context: Any) -> str | None:
    """hermes' hook: the reply marked where it failed verification, or None to deliver it as it is.
    `context` is what hermes passes beside the text (session_id, model, platform, ...), used for logs."""
    return check_reply(response_text, platform=str(context.get("platform") or ""))


def check_reply(
    reply: str, *, home: Path | None = None, timeout: float = TIMEOUT_SECONDS, platform: str = ""
) -> str | None:
    """Verify `reply` as the profile at `home` (hermes' own by default). Fails open: when the server
    cannot be asked or answers something unusable, the reply goes out unchanged and a warning says so."""
    if not isinstance(reply, str) or not any(ch.isdigit() for ch in reply):
        return None  # no number, nothing the verifier checks: spare the round trip
    try:
        endpoint = client.find_endpoint(home or client.hermes_home())
        answer = client.call_tool(endpoint, TOOL, {"text": reply}, timeout=timeout)
        marked = marking.mark(reply, answer)
    except (client.Unavailable, marking.MalformedVerdict) as exc:
        log.warning("twilight_verify: %s not checked, delivered as it is: %s", platform or "reply", exc)
        return None
    if marked is not None:
        counts = answer.get("counts")
        log.info("twilight_verify: %s failed verification, marked: %s", platform or "reply", counts)
    return marked
