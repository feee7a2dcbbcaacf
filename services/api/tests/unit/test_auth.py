import pytest
from pydantic import SecretStr

from api.auth import TokenVerifier
from api.settings import ApiSettings


def test_any_configured_token_is_accepted_and_nothing_else() -> None:
    verifier = TokenVerifier([SecretStr("alpha"), SecretStr("beta")])
    assert verifier.accepts("alpha")
    assert verifier.accepts("beta")
    assert not verifier.accepts("alph")
    assert not verifier.accepts("alphaa")
    assert not verifier.accepts("")
    assert not verifier.accepts(None)


def test_without_configured_tokens_nothing_is_accepted() -> None:
    assert not TokenVerifier([]).accepts("anything")


def test_tokens_are_read_comma_separated_and_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LECTUREGEN_API_TOKENS", " tok-one ,tok-two,, ")
    settings = ApiSettings()
    assert [t.get_secret_value() for t in settings.tokens] == ["tok-one", "tok-two"]
    assert "tok-one" not in repr(settings)
