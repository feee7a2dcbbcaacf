"""The limits of one generation attempt, usually taken from `ProviderSettings`."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.settings import ProviderSettings


@dataclass(frozen=True, slots=True)
class ReplicateOptions:
    """Limits of one attempt."""

    deadline_s: float = 600.0
    """The whole attempt (create, wait, download) must end within this; then we cancel."""
    poll_interval_s: float | None = None
    """A fixed interval between reads of a running prediction; None: the medium's schedule
    (`shared.providers.polling`)."""
    cancel_timeout_s: float = 5.0
    """How long the cancel call after the deadline may take."""
    allowed_output_hosts: tuple[str, ...] = ("replicate.delivery",)
    """`host` (with its subdomains, any port) or `host:port` entries."""
    max_output_bytes: int = 200 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: ProviderSettings) -> ReplicateOptions:
        """The settings' limits; the configured API server's own `host:port` is allowed too,
        since a Replicate-compatible local server serves its outputs itself."""
        api = urlsplit(settings.base_url)
        own = f"{api.hostname}:{api.port or (443 if api.scheme == 'https' else 80)}"
        return cls(
            deadline_s=settings.deadline_s,
            poll_interval_s=settings.poll_interval_s,
            allowed_output_hosts=(*settings.allowed_output_hosts, own),
            max_output_bytes=settings.max_output_bytes,
        )
