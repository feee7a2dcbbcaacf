"""Where a local run keeps its state file and logs, and where the repository's scripts are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MARKER = Path("deploy/local/kafka.sh")


def find_repo_root(start: Path | None = None) -> Path:
    """The checkout the command runs in: the nearest directory up from `start` (default: the
    current directory) holding `deploy/local/kafka.sh`, else the one this package lives in."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / _MARKER).is_file():
            return candidate
    package_root = Path(__file__).resolve().parents[3]
    if (package_root / _MARKER).is_file():
        return package_root
    return here


@dataclass(frozen=True, slots=True)
class RunPaths:
    """The files of one local run.

    `LECTUREGEN_RUN_DIR` (default `.local/run`) holds `state.json`; `LECTUREGEN_LOG_DIR`
    (default `.local/logs`) holds one `<component>.log` per process. Relative paths are taken
    from the repository root, so the command works from any directory of the checkout.
    """

    repo_root: Path
    run_dir: Path
    log_dir: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, repo_root: Path | None = None) -> RunPaths:
        environ = dict(os.environ if env is None else env)
        root = repo_root or find_repo_root()
        run_dir = Path(environ.get("LECTUREGEN_RUN_DIR") or ".local/run")
        log_dir = Path(environ.get("LECTUREGEN_LOG_DIR") or ".local/logs")
        return cls(
            repo_root=root,
            run_dir=run_dir if run_dir.is_absolute() else root / run_dir,
            log_dir=log_dir if log_dir.is_absolute() else root / log_dir,
        )

    @property
    def state_file(self) -> Path:
        return self.run_dir / "state.json"

    @property
    def supervisor_log(self) -> Path:
        return self.log_dir / "supervisor.log"

    def log_file(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    def script(self, name: str) -> Path:
        """A local infrastructure script, e.g. `kafka.sh`."""
        return self.repo_root / "deploy" / "local" / name
