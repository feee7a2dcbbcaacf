"""The variables a settings class reads, named from the class itself."""

from __future__ import annotations

import pytest
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.variables import Variable, default, variable, variables


class Inner(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    dsn: str = Field("pg://here", validation_alias=AliasChoices("LECTUREGEN_DSN", "DSN"))


class Outer(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LECTUREGEN_THING_", extra="ignore")

    port: int = Field(9100, description="where it listens")
    group_id: str | None = None
    hosts: tuple[str, ...] = ("a", "b")
    inner: Inner = Field(default_factory=Inner)


def test_a_field_is_read_from_its_prefixed_name_or_its_aliases() -> None:
    assert variable(Outer, "port") == "LECTUREGEN_THING_PORT"
    assert variable(Inner, "dsn") == "LECTUREGEN_DSN"


def test_a_default_is_read_from_the_class_not_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LECTUREGEN_THING_PORT", "1")

    assert default(Outer, "port") == 9100


def test_every_variable_is_listed_with_its_default_nested_settings_included() -> None:
    assert variables(Outer) == [
        Variable("LECTUREGEN_THING_PORT", "9100", "where it listens"),
        Variable("LECTUREGEN_THING_GROUP_ID", "", ""),
        Variable("LECTUREGEN_THING_HOSTS", "a,b", ""),
        Variable("LECTUREGEN_DSN or DSN", "pg://here", ""),
    ]
