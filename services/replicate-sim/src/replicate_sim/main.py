"""`lecturegen-replicate-sim`: flags (or REPLICATE_SIM_* variables) → settings → server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from replicate_sim.server import start_server
from replicate_sim.settings import OutputMode, SimSettings

ENV_PREFIX = "REPLICATE_SIM_"
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@dataclass(frozen=True)
class Option:
    """One flag and the environment variable that sets its default."""

    flag: str
    default: str | None
    help: str
    type: Callable[[str], Any] = str
    choices: tuple[str, ...] | None = None

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.flag.removeprefix("--").replace("-", "_").upper()


OPTIONS = (
    Option("--host", SimSettings.host, "address to bind"),
    Option("--port", str(SimSettings.port), "port to bind; 0 picks a free one", int),
    Option("--public-base-url", None, "base of the URLs handed out (default: the URL called)"),
    Option("--token", None, "the only API token accepted (default: any non-empty token)"),
    Option(
        "--output-mode",
        OutputMode.URL.value,
        "outputs as URLs on the delivery path (as Replicate answers), data: URIs, or auto "
        "(data: up to 256 KB)",
        OutputMode,
        tuple(OutputMode),
    ),
    Option(
        "--default-latency", "0.1", "seconds a prediction takes without a latency directive", float
    ),
    Option(
        "--output-ttl",
        "3600",
        "seconds after a prediction ends before its output expires (output null, "
        "data_removed true)",
        float,
    ),
    Option(
        "--delivery-base-url",
        None,
        "base of output file URLs (default: the public base URL); files are served under "
        "/delivery/xezq/",
    ),
    Option("--hang-cap", "600", "seconds a hanging create waits before answering 504", float),
    Option("--webhook-secret", None, "whsec_ secret webhooks are signed with (default: random)"),
    Option("--log-level", "warning", "uvicorn's log level", str, LOG_LEVELS),
)

PORT = next(option for option in OPTIONS if option.flag == "--port")
"""The port option: `lecturegen up` hands out ports through its variable."""


def parse_args(argv: Sequence[str] | None, env: Mapping[str, str]) -> argparse.Namespace:
    """Flags win over environment variables (`--port` over `REPLICATE_SIM_PORT`), which win
    over the defaults."""
    parser = argparse.ArgumentParser(
        prog="lecturegen-replicate-sim",
        description="A local Replicate-compatible server that renders real media and fails on "
        "purpose when a prompt carries a [[sim:...]] directive.",
    )
    for option in OPTIONS:
        parser.add_argument(
            option.flag,
            type=option.type,
            choices=option.choices,
            default=env.get(option.env, option.default),
            help=f"{option.help} [{option.env}]",
        )
    return parser.parse_args(argv)


def settings_from(args: argparse.Namespace) -> SimSettings:
    return SimSettings(
        host=args.host,
        port=args.port,
        public_base_url=args.public_base_url or None,
        token=args.token or None,
        output_mode=args.output_mode,
        default_latency_s=args.default_latency,
        hang_cap_s=args.hang_cap,
        output_ttl_s=args.output_ttl,
        delivery_base_url=args.delivery_base_url or None,
        webhook_secret=args.webhook_secret or None,
    )


async def serve(settings: SimSettings, log_level: str) -> None:
    running = await start_server(settings, log_level)
    print(f"replicate-sim listening on {running.base_url}", flush=True)
    await running.wait()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv, os.environ)
    # uvicorn shuts down cleanly on Ctrl-C, then raises the signal again for outer handlers.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings_from(args), args.log_level))


if __name__ == "__main__":
    main()
