"""`verify_answer`: the deterministic check of a drafted reply against the caller's own ledger.

An agent calls it on its draft before answering (and the bot's plugin on the final reply); on
`fail` the answer lists, claim by claim, what the cited results hold and which values may be
quoted, so the agent can correct itself. It only ever reads the caller's own entries: one user
can never learn, by guessing ids, what another was told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated

import anyio.to_thread
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from citation.attempts import Attempts
from citation.models import VerifyAnswer
from citation.verdict import Verdict
from citation.verifier import Cited, verify
from mcp_server.answering import answer, bound, caller, make_cite
from mcp_server.context import ToolContext
from providers.symbols import InvalidArgument
from warehouse.ledger import Ledger

MAX_TEXT = 20_000  # characters: a long research note; bounds what one call can make the server do
CLOSED_WORLD = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


def check(ledger: Ledger, text: str, owner: str | None) -> Verdict:
    """Verify `text` against `owner`'s ledger entries (every caller's when None: operators only)."""

    def lookup(ids: Sequence[str]) -> Mapping[str, Cited]:
        return {tc: Cited(e.tool, e.arguments, e.answer) for tc, e in ledger.entries(list(ids), owner).items()}

    return verify(text, lookup)


async def verify_answer(
    rt: ToolContext,
    text: Annotated[str, Field(description="The reply to check, exactly as it would be sent (any language)")],
) -> Annotated[CallToolResult, VerifyAnswer]:
    """Check a drafted reply before sending it: every number that states a quantity must match the
    tool result whose cite.tool_call_id is written beside it (units, scale, date and metric
    included). Answers verdict pass/fail and each claim's status; on fail, `citable` lists the
    exact values you may quote per cited id. Call it on your draft, fix what fails, then answer."""

    async def body(tool_call_id: str, attempts: Attempts) -> BaseModel:
        if len(text) > MAX_TEXT:
            raise InvalidArgument(
                "text", f"text has {len(text)} characters, over {MAX_TEXT}", "verify the reply in parts"
            )
        verdict = await anyio.to_thread.run_sync(check, rt.ledger, text, caller())
        rt.metrics.verification(verdict.verdict, [c.status for c in verdict.claims])
        attempts.add("ledger", "answers", "hit")
        return VerifyAnswer(**verdict.model_dump(), cite=make_cite(tool_call_id, rt.clock.now(), attempts))

    return await answer(rt, "verify_answer", body, text=text)


def register(server: MCPServer, rt: ToolContext) -> None:
    server.add_tool(bound(rt, verify_answer), annotations=CLOSED_WORLD)
