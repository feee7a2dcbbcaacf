"""Kafka and PostgreSQL for a local run: started by the repository's own scripts, which install
what they need on first use and do nothing when the service already runs."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping

from lecturegen_cli.paths import RunPaths

SCRIPTS = ("kafka.sh", "postgres.sh")


class InfraError(RuntimeError):
    """A local service could not be started or stopped; the message says which and why."""


def run_script(
    paths: RunPaths, script: str, action: str, env: Mapping[str, str], say: Callable[[str], None]
) -> None:
    """Run `deploy/local/<script> <action>`, passing its output on line by line."""
    path = paths.script(script)
    if not path.is_file():
        raise InfraError(f"{path.relative_to(paths.repo_root)} is missing from this checkout")
    with subprocess.Popen(
        [str(path), action],
        cwd=paths.repo_root,
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            say(f"  {line.rstrip()}")
    if proc.returncode != 0:
        raise InfraError(f"deploy/local/{script} {action} failed (exit {proc.returncode})")


def start_infra(paths: RunPaths, env: Mapping[str, str], say: Callable[[str], None]) -> None:
    for script in SCRIPTS:
        run_script(paths, script, "start", env, say)


def stop_infra(paths: RunPaths, env: Mapping[str, str], say: Callable[[str], None]) -> None:
    for script in reversed(SCRIPTS):
        run_script(paths, script, "stop", env, say)
