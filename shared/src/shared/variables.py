"""The environment variables a settings class reads, named from the class itself.

`lecturegen up` hands out ports and consumer groups through these names, and every service's
`--help` lists them, so neither keeps a copy that could drift from the settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings


@dataclass(frozen=True, slots=True)
class Variable:
    """One variable: its name, its default as text ("" when it has none or it is computed)
    and what it is for."""

    name: str
    default: str
    description: str


def variable(settings: type[BaseSettings], field: str) -> str:
    """The variable that sets `field` of `settings` (the first, where several do)."""
    return _names(settings, settings.model_fields[field], field)[0]


def names(settings: type[BaseSettings], field: str) -> tuple[str, ...]:
    """Every variable that sets `field` of `settings`, in the order they are looked up."""
    return tuple(_names(settings, settings.model_fields[field], field))


def default(settings: type[BaseSettings], field: str) -> Any:
    """The default of `field` of `settings`, without reading the environment."""
    info = settings.model_fields[field]
    if info.default_factory is not None:
        raise ValueError(f"{settings.__name__}.{field} has a computed default")
    return info.default


def variables(settings: type[BaseSettings]) -> list[Variable]:
    """Every variable `settings` reads, those of its nested settings included."""
    found: list[Variable] = []
    for field, info in settings.model_fields.items():
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseSettings):
            found += variables(nested)
            continue
        found.append(
            Variable(
                name=" or ".join(_names(settings, info, field)),
                default=_shown_default(info),
                description=info.description or "",
            )
        )
    return found


def _names(settings: type[BaseSettings], info: FieldInfo, field: str) -> list[str]:
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    if isinstance(alias, str):
        return [alias]
    prefix = str(settings.model_config.get("env_prefix", ""))
    return [f"{prefix}{field}".upper()]


def _shown_default(info: FieldInfo) -> str:
    if info.default_factory is not None or info.default is PydanticUndefined:
        return ""
    value = info.default
    if value is None:
        return ""
    if isinstance(value, tuple):
        return ",".join(str(part) for part in value)
    return str(getattr(value, "value", value))
