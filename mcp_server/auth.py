"""Bearer tokens on /mcp through the SDK's TokenVerifier.

An unknown token verifies to nothing (the SDK answers 401). A revoked token verifies to an
identity without the `twilight:active` scope, which the SDK's scope check answers with 403:
the caller is known, but may no longer use the service.
"""

from __future__ import annotations

import anyio.to_thread
from mcp.server.auth.provider import AccessToken

from provisioning.tokens import TokenState, TokenStore

ACTIVE_SCOPE = "twilight:active"


class AccountsTokenVerifier:
    def __init__(self, tokens: TokenStore) -> None:
        self._tokens = tokens

    async def verify_token(self, token: str) -> AccessToken | None:
        owner = self._tokens.known_owner(token) or await anyio.to_thread.run_sync(self._tokens.owner, token)
        if owner is None:
            return None
        scopes = [ACTIVE_SCOPE] if owner.state is TokenState.ACTIVE else []
        return AccessToken(token=token, client_id=owner.user, scopes=scopes, subject=owner.user)
