"""Settings: checked when read, and never showing a secret."""

from __future__ import annotations

import pytest

from proactive.settings import SETTINGS, Settings, SettingsError


def test_repr_never_shows_a_secret() -> None:
    settings = Settings.from_env(
        {
            "TWILIO_AUTH_TOKEN": "tok-4f9a2c",
            "PROACTIVE_DATABASE_URL": "postgresql+psycopg://district:pw-8812@db/registry",
        }
    )
    for shown in (repr(settings), str(settings), f"{settings}"):
        assert "tok-4f9a2c" not in shown and "pw-8812" not in shown
        assert "twilio_auth_token='***'" in shown
        assert "postgresql+psycopg://district:***@db/registry" in shown


def test_every_default_is_valid() -> None:
    Settings.from_env({})
    assert all(s.form for s in SETTINGS)


def test_a_bad_secret_is_named_but_not_shown() -> None:
    with pytest.raises(SettingsError, match="PROACTIVE_DATABASE_URL: expected") as raised:
        Settings.from_env({"PROACTIVE_DATABASE_URL": "pw-8812 is no url"})
    assert "pw-8812" not in str(raised.value)
