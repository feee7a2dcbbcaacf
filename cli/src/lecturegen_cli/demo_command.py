"""The glue of `lecturegen demo`: find the API, choose the prompts, show the run."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from rich.console import Console

from lecturegen_cli import consoles
from lecturegen_cli.api_client import ApiError, LectureApi
from lecturegen_cli.components import API
from lecturegen_cli.demo import DemoResult, run_demo
from lecturegen_cli.demo_plan import build_demo_plan
from lecturegen_cli.demo_view import ProgressDisplay, outcome_table, summary_line
from lecturegen_cli.launch import API_TOKENS, PROVIDER_TOKEN, REAL_PROVIDER
from lecturegen_cli.state import RunState

DEFAULT_TIMEOUT_S = 300.0


@dataclass(frozen=True, slots=True)
class ApiTarget:
    """Which API the demo talks to, with which token, and whether it fronts the real provider."""

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


async def demo_main(
    target: ApiTarget,
    console: Console,
    *,
    as_json: bool,
    clean: bool,
    timeout_s: float,
) -> int:
    """Run the demo; 0 when every asset reached a terminal status, 1 on timeout, 2 on error."""
    errors = consoles.console(stderr=True)
    if target.real_provider and not clean:
        errors.print(
            "[yellow]warning:[/] the pipeline calls the real Replicate API, where fault "
            "directives mean nothing; submitting clean prompts (--clean)"
        )
        clean = True
    plan = build_demo_plan(secrets.token_hex(3), faults=not clean)

    def created(lecture_id: str) -> None:
        if not as_json:
            console.print(
                f"submitted lecture [bold]{lecture_id}[/] ({len(plan.assets)} assets); live: "
                f"curl -N '{target.url}/v1/lectures/{lecture_id}/events?access_token=…'",
                highlight=False,
            )

    try:
        async with httpx.AsyncClient() as client:
            api = LectureApi(client, target.url, target.token)
            if as_json:
                result = await run_demo(api, plan, timeout_s=timeout_s, on_progress=lambda p: None)
            else:
                with ProgressDisplay(console) as display:
                    result = await run_demo(
                        api,
                        plan,
                        timeout_s=timeout_s,
                        on_progress=display.update,
                        on_created=created,
                    )
    except (ApiError, httpx.HTTPError) as exc:
        errors.print(f"[red]error:[/] the demo failed against {target.url}: {exc}")
        return 2
    report(console, result, as_json=as_json)
    return 0 if result.complete else 1


def report(console: Console, result: DemoResult, *, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result.to_json(), indent=2))
        return
    console.print(outcome_table(result))
    console.print(summary_line(result))
