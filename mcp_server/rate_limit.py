"""What a key may do on /mcp before the MCP app sees the request: its subscription, and its rate.

A key whose user's subscription has ended (`paid_until` passed) is answered 403 with when it ended
and how to renew, so the bot (and its user) learn why instead of a bare "insufficient scope".
Per-key limits: `api_keys.rate_limit_per_min` (60 by default), a sliding window of the last
minute's requests in this process; beyond it a 429 with Retry-After, so a bot that loops on a
tool is told how long to wait instead of spending everyone's upstream quota. Requests without a
known key pass through untouched; the MCP app answers them 401 (unknown) or 403 (revoked).
"""

from __future__ import annotations

import collections
import datetime as dt
import math
import time

import anyio.to_thread
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from providers.models import SHANGHAI
from provisioning.tokens import TokenOwner, TokenState, TokenStore, digest

WINDOW_SECONDS = 60.0
_OWNER_TTL = 5.0  # seconds an active key's owner and limit are remembered (a revocation is checked by the app itself)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class KeyRateLimit:
    def __init__(self, app: ASGIApp, tokens: TokenStore, renew_url: str) -> None:
        self.app = app
        self._tokens = tokens
        self._renew_url = renew_url
        self._calls: dict[int, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._owners: dict[str, tuple[float, TokenOwner | None]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/mcp"):
            owner = await self._owner(scope)
            paying = owner is not None and owner.state in (TokenState.ACTIVE, TokenState.EXPIRED)
            if owner is not None and paying and owner.paid_until is not None and owner.paid_until <= _now():
                ended = owner.paid_until.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
                ended_body = {"error": "subscription_ended",
                        "error_description": f"订阅已于 {ended} (北京时间) 到期，续费请打开 {self._renew_url}。 "
                        f"The subscription ended on {ended} Asia/Shanghai; renew at {self._renew_url}.",
                        "renew_url": self._renew_url}  # fmt: skip
                await JSONResponse(ended_body, 403)(scope, receive, send)
                return
            if owner is not None and owner.state is TokenState.ACTIVE:
                wait = self._take(owner.key_id, owner.rate_limit_per_min)
                if wait:
                    limit = owner.rate_limit_per_min
                    body = {"error": "rate_limited", "error_description": f"this key may make {limit} requests a"
                            f" minute; retry in {wait} s", "retry_after_seconds": wait}  # fmt: skip
                    await JSONResponse(body, 429, headers={"Retry-After": str(wait)})(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _owner(self, scope: Scope) -> TokenOwner | None:
        header = dict(scope.get("headers") or []).get(b"authorization", b"").decode("latin-1")
        if not header.lower().startswith("bearer "):
            return None
        raw = header[7:].strip()
        key = digest(raw)  # raw keys are not kept, even in memory
        now = time.monotonic()
        known = self._owners.get(key)
        if known is not None and now - known[0] < _OWNER_TTL:
            return known[1]
        owner = await anyio.to_thread.run_sync(self._tokens.owner, raw)
        if owner is None or owner.state is not TokenState.ACTIVE:
            return owner  # not remembered: a renewal or a new key must work at once, not in a few seconds
        if len(self._owners) > 10_000:
            self._owners.clear()
        self._owners[key] = (now, owner)
        return owner

    def _take(self, key_id: int, limit: int) -> int:
        """Count one request; 0 when within the limit, else whole seconds until a slot frees."""
        now = time.monotonic()
        calls = self._calls[key_id]
        while calls and now - calls[0] >= WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= limit:
            return max(1, math.ceil(WINDOW_SECONDS - (now - calls[0])))
        calls.append(now)
        return 0
