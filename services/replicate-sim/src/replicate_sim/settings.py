"""The server's settings: one frozen value, built by `main` from flags and environment."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class OutputMode(enum.StrEnum):
    """How outputs are handed back: inline `data:` URIs, URLs on this server, or by size."""

    DATA = "data"
    URL = "url"
    AUTO = "auto"


@dataclass(frozen=True)
class SimSettings:
    """Everything the app factory needs; defaults suit tests and local runs."""

    host: str = "127.0.0.1"
    port: int = 18080
    public_base_url: str | None = None
    """Base of the URLs the server hands out; by default the base URL each request came to."""
    token: str | None = None
    """When set, the only API token accepted; otherwise any non-empty token is."""
    output_mode: OutputMode = OutputMode.URL
    """URLs, as the real API answers; `data:` URIs only when asked for."""
    output_ttl_s: float = 3600.0
    """How long after a prediction ends its output stays (then `output: null`,
    `data_removed: true`, and its files answer 404), as Replicate deletes outputs after an hour."""
    delivery_base_url: str | None = None
    """Base of output file URLs (`{base}/delivery/xezq/<token>/out-0.png`); by default the
    public base URL."""
    default_latency_s: float = 0.1
    data_uri_max_bytes: int = 256 * 1024
    """In `auto` mode, larger outputs are served as URLs instead of `data:` URIs."""
    hang_cap_s: float = 600.0
    """How long a hanging create waits for its client to give up before answering 504."""
    webhook_secret: str | None = None
    """The `whsec_...` secret webhooks are signed with; a fresh one per process by default."""
    webhook_resend_delays_s: tuple[float, ...] = (1.0, 2.0, 4.0)
    """Pauses before each resend of a webhook delivery that failed (5xx, 408, 429, no answer)."""
    foreign_base_url: str = "https://evil.example.com"
    """Where `[[sim:foreign-output]]` points outputs: a host no worker should download from."""
