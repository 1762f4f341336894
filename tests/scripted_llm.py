"""A scripted OpenAI-compatible LLM on loopback, for driving a real hermes-agent end to end.

It speaks `POST /v1/chat/completions` as the OpenAI API streams it (server-sent
`chat.completion.chunk` events) and `GET /v1/models`. Its script: while no tool result is in
the conversation and our `fundamentals` tool is offered, it streams one `tool_calls` delta
calling it on 600519; once the tool result is there, it answers with the P/E it finds in the
result and the result's `cite.tool_call_id`. Every request is kept in `requests`.
"""

from __future__ import annotations

import json
import re
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import LoopbackHTTP, respond

MODEL = "scripted-llm"
TOOL_ARGUMENTS = {"code": "600519", "trade_date": "20251023"}  # the stand-in's newest valuation day


class ScriptedLLM(LoopbackHTTP):
    methods = ("GET", "POST")
    base_path = "/v1"

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.requests: list[dict[str, Any]] = []

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.command == "GET":
            models = {"object": "list", "data": [{"id": MODEL, "object": "model", "context_length": 131072}]}
            respond(request, 200, json.dumps(models).encode(), {"Content-Type": "application/json"})
            return
        length = int(request.headers.get("Content-Length") or 0)
        body = json.loads(request.rfile.read(length) or b"{}")
        with self._lock:
            self.requests.append(body)
        messages = body.get("messages") or []
        tool = next((t["function"]["name"] for t in body.get("tools") or []
                     if t.get("function", {}).get("name", "").endswith("__fundamentals")), None)  # fmt: skip
        results = [m for m in messages if m.get("role") == "tool"]
        if results:
            self._stream(request, body, text=answer(results[-1]))
        elif tool:
            self._stream(
                request, body, call={"id": "call_scripted_1", "name": tool, "arguments": json.dumps(TOOL_ARGUMENTS)}
            )
        else:
            self._stream(request, body, text="ok")

    def _stream(self, request: BaseHTTPRequestHandler, body: dict[str, Any], *, text: str | None = None,
                call: dict[str, str] | None = None) -> None:  # fmt: skip
        created = int(time.time())
        events: list[dict[str, Any]] = [{"role": "assistant", "content": ""}]
        if call is not None:
            events.append({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                           "function": {"name": call["name"], "arguments": ""}}]})  # fmt: skip
            events.append({"tool_calls": [{"index": 0, "function": {"arguments": call["arguments"]}}]})
        else:
            events += [{"content": (text or "")[i : i + 16]} for i in range(0, len(text or ""), 16)]
        chunks = [_chunk(created, delta) for delta in events]
        chunks.append(_chunk(created, {}, finish="tool_calls" if call else "stop"))
        if (body.get("stream_options") or {}).get("include_usage"):
            usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
            chunks.append({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created,
                           "model": MODEL, "choices": [], "usage": usage})  # fmt: skip
        stream = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"
        respond(request, 200, stream, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})


def _chunk(created: int, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "created": created, "model": MODEL,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


def answer(result: dict[str, Any]) -> str:
    """The final answer: the P/E (TTM) the tool result holds, and the result's tool_call_id.

    hermes wraps an MCP result in an untrusted-data envelope whose JSON carries the tool's text
    (escaped) and its structuredContent; the figures are read from the text as a model would.
    """
    content = result.get("content") or ""
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    plain = content.replace('\\"', '"')
    pe = re.search(r'"metric":\s*"pe_ttm",\s*"value":\s*([0-9.]+)', plain)
    cite = re.search(r'"tool_call_id":\s*"(tc_[0-9a-f]+)"', plain)
    return (f"Kweichow Moutai (600519.SH) P/E (TTM) is {pe.group(1) if pe else 'unknown'} "
            f"[{cite.group(1) if cite else 'no citation'}]")  # fmt: skip
