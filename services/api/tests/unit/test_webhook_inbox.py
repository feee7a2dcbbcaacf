"""The pure parts of the webhook inbox: the replay window and the secret's refetch rule."""

from __future__ import annotations

from api.webhook_inbox import ReplayGuard
from api.webhook_secret import REFETCH_AFTER_S, SigningSecrets
from shared.webhooks.signature import SigningSecret


def test_an_id_is_claimed_once_within_the_window() -> None:
    guard = ReplayGuard(keep_s=600)
    assert guard.claim("msg_1", now_s=0)
    assert not guard.claim("msg_1", now_s=599)
    assert guard.claim("msg_1", now_s=600), "forgotten once older than the window"


def test_a_released_id_may_be_claimed_again() -> None:
    guard = ReplayGuard()
    assert guard.claim("msg_1", now_s=0)
    guard.release("msg_1")
    assert guard.claim("msg_1", now_s=1)


class _Provider:
    def __init__(self) -> None:
        self.secret = SigningSecret.generate()
        self.fetches = 0

    async def fetch(self) -> SigningSecret:
        self.fetches += 1
        return self.secret


async def test_the_provider_secret_is_fetched_once_and_refetched_only_after_a_while() -> None:
    provider, now = _Provider(), [0.0]
    secrets = SigningSecrets(None, provider.fetch, clock=lambda: now[0])
    first = await secrets.current()
    assert await secrets.current() == first
    provider.secret = SigningSecret.generate()
    assert await secrets.rotated() is None, "asked too recently"
    now[0] = REFETCH_AFTER_S
    assert await secrets.rotated() == provider.secret
    assert provider.fetches == 2


async def test_a_configured_secret_is_never_fetched() -> None:
    provider = _Provider()
    configured = SigningSecret.generate()
    secrets = SigningSecrets(configured, provider.fetch)
    assert await secrets.current() == configured
    assert await secrets.rotated() is None
    assert provider.fetches == 0
