"""The glue of `lecturegen demo`: find the API, choose the prompts, show the run."""

from __future__ import annotations

import json
import secrets

import httpx
from rich.console import Console

from lecturegen_cli import consoles
from lecturegen_cli.api_client import ApiError, LectureApi
from lecturegen_cli.api_target import ApiTarget
from lecturegen_cli.demo.plan import build_demo_plan
from lecturegen_cli.demo.run import DemoResult, run_demo
from lecturegen_cli.demo.view import ProgressDisplay, outcome_table, summary_line

DEFAULT_TIMEOUT_S = 300.0


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
