"""Bearer-token authentication of the `/v1` routes.

Tokens are compared in constant time and never logged; a missing or wrong token is a 401
problem with `WWW-Authenticate: Bearer`. The SSE route also takes `?access_token=`, because a
browser's `EventSource` cannot set headers.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from pydantic import SecretStr

from api.problems import ProblemError


class TokenVerifier:
    """Knows the accepted tokens and checks a presented one against all of them."""

    def __init__(self, tokens: Sequence[SecretStr]) -> None:
        self._tokens = [token.get_secret_value().encode() for token in tokens]

    def accepts(self, presented: str | None) -> bool:
        if not presented:
            return False
        candidate = presented.encode()
        # Check every token (no early exit) so timing tells nothing about which one is close.
        matched = False
        for token in self._tokens:
            matched |= hmac.compare_digest(candidate, token)
        return matched


def unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401,
        detail,
        slug="unauthorized",
        headers={"WWW-Authenticate": 'Bearer realm="lecturegen"'},
    )
