"""Which API a command talks to (`demo`, `redrive`): the flags, else the local run's, else the
environment's, with which token, and whether it fronts the real provider."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lecturegen_cli.stack.components import API
from lecturegen_cli.stack.launch import API_TOKENS, PROVIDER_TOKEN, REAL_PROVIDER
from lecturegen_cli.state import RunState


@dataclass(frozen=True, slots=True)
class ApiTarget:
    """Which API a command talks to, with which token, and whether it fronts the real provider."""

    url: str
    token: str
    real_provider: bool

    @classmethod
    def of_run(cls, state: RunState) -> ApiTarget:
        return cls(state.api_url, state.api_token, state.provider == REAL_PROVIDER)


class NoTokenError(ValueError):
    pass


def resolve_target(
    api_url: str | None, token: str | None, state: RunState | None, env: Mapping[str, str]
) -> ApiTarget:
    """Flags first, then the local run's state file, then the environment."""
    ours = state is not None and (api_url is None or api_url.rstrip("/") == state.api_url)
    url = api_url or (state.api_url if state else None)
    if url is None:
        url = f"http://127.0.0.1:{env.get(API.port_env) or API.default_port}"
    env_tokens = [t.strip() for t in env.get(API_TOKENS, "").split(",") if t.strip()]
    chosen = token or (state.api_token if ours and state else None) or next(iter(env_tokens), None)
    if not chosen:
        raise NoTokenError(
            f"no API token: pass --token, set {API_TOKENS}, or start the pipeline "
            "with `lecturegen up`"
        )
    real = state.provider == REAL_PROVIDER if ours and state else bool(env.get(PROVIDER_TOKEN))
    return ApiTarget(url=url.rstrip("/"), token=chosen, real_provider=real)
