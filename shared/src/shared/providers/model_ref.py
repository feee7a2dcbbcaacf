"""Model references as lecturegen writes them: `owner/name` or `owner/name:version`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_REF = re.compile(
    r"^(?P<owner>[A-Za-z0-9][\w.-]*)/(?P<name>[A-Za-z0-9][\w.-]*)(?::(?P<version>[A-Za-z0-9_.-]+))?$"
)


@dataclass(frozen=True, slots=True)
class ModelRef:
    """Which model to run. Official models run by name; community models need a version id."""

    owner: str
    name: str
    version: str | None = None

    @classmethod
    def parse(cls, ref: str) -> ModelRef:
        """Read `owner/name[:version]`; ValueError says what is wrong with anything else."""
        match = _REF.match(ref.strip())
        if match is None:
            raise ValueError(
                f"{ref!r} is not a model reference: expected owner/name or owner/name:version"
            )
        return cls(match["owner"], match["name"], match["version"])

    @property
    def model(self) -> str:
        """`owner/name`, without the version."""
        return f"{self.owner}/{self.name}"

    def __str__(self) -> str:
        return f"{self.model}:{self.version}" if self.version else self.model
