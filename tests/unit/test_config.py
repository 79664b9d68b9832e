"""Configuration layers (defaults < PORTAL_CONFIG file < PORTAL_* variables < overrides) and the
production refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from portal.config import UnsafeConfiguration, load_settings

POSTGRES = "postgresql+psycopg://portal@db.internal:5432/portal"
GOOD_SECRET = "k3Jx9-vQ2mN8pL5rT1wY7zA4bC6dE0fG"  # 32 characters


def _production(**overrides: object) -> dict[str, object]:
    settings: dict[str, object] = {"env": "production", "secret_key": GOOD_SECRET, "database_url": POSTGRES}
    settings.update(overrides)
    return settings


def _refusal(overrides: dict[str, object], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(UnsafeConfiguration) as raised:
        load_settings(overrides=overrides, environ=environ or {})
    message = str(raised.value)
    assert message
    assert "\n" not in message, "the refusal must be one line"
    return message


def test_defaults_are_for_development(tmp_path: Path) -> None:
    settings = load_settings(overrides={"instance_path": str(tmp_path)}, environ={})
    assert settings.env == "development"
    assert not settings.is_production
    assert settings.default_locale == "ja"
    assert settings.idle_timeout_minutes == 30
    assert settings.absolute_timeout_hours == 12
    assert settings.max_failures_per_account == 5
    assert settings.max_failures_per_ip == 20
    assert settings.throttle_window_minutes == 15
    # A relative SQLite path lives in the instance folder.
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'portal.sqlite3'}"
    assert settings.key_file == tmp_path.resolve() / "portal.key"


def test_production_accepts_safe_settings() -> None:
    settings = load_settings(overrides=_production(), environ={})
    assert settings.is_production
    assert settings.database_url == POSTGRES


@pytest.mark.parametrize("secret", ["", "REPLACE-ME", "change-me", "dev", "secret", "x" * 31])
def test_production_refuses_a_default_or_short_secret(secret: str) -> None:
    message = _refusal(_production(secret_key=secret))
    assert "PORTAL_SECRET_KEY" in message


def test_production_refuses_sqlite() -> None:
    message = _refusal(_production(database_url="sqlite:///portal.sqlite3"))
    assert "SQLite" in message
    assert "PORTAL_DATABASE_URL" in message


def test_production_refuses_cookies_that_are_never_secure() -> None:
    _refusal(_production(session={"cookie_secure": "never"}))


def test_production_refusal_applies_to_environment_settings_too() -> None:
    environ = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "short", "PORTAL_DATABASE_URL": POSTGRES}
    assert "PORTAL_SECRET_KEY" in _refusal({}, environ)


@pytest.mark.parametrize(
    "overrides",
    [
        {"env": "staging"},
        {"session": {"cookie_secure": "sometimes"}},
        {"session": {"cookie_samesite": "None"}},
    ],
)
def test_unknown_values_are_refused_in_any_mode(overrides: dict[str, object]) -> None:
    _refusal(overrides)


def test_environment_variables_override_the_defaults(tmp_path: Path) -> None:
    environ = {
        "PORTAL_DATABASE_URL": POSTGRES,
        "PORTAL_INSTANCE_PATH": str(tmp_path),
        "PORTAL_DEFAULT_LOCALE": "en",
        "PORTAL_SESSION_IDLE_TIMEOUT_MINUTES": "10",
        "PORTAL_SESSION_ABSOLUTE_TIMEOUT_HOURS": "8",
        "PORTAL_COOKIE_SECURE": "always",
        "PORTAL_MAX_REQUEST_MB": "7",
        "PORTAL_TRUSTED_PROXY_HOPS": "1",
        "PORTAL_KEY_FILE": "/etc/portal/kek",
    }
    settings = load_settings(environ=environ)
    assert settings.database_url == POSTGRES
    assert settings.instance_path == tmp_path.resolve()
    assert settings.default_locale == "en"
    assert settings.idle_timeout_minutes == 10
    assert settings.absolute_timeout_hours == 8
    assert settings.cookie_secure == "always"
    assert settings.max_request_mb == 7
    assert settings.trusted_proxy_hops == 1
    assert settings.key_file == Path("/etc/portal/kek")


def _write_config(tmp_path: Path) -> Path:
    path = tmp_path / "portal.toml"
    path.write_text(
        'default_locale = "en"\n'
        "[session]\n"
        "idle_timeout_minutes = 20\n"
        "[throttle]\n"
        "max_failures_per_account = 3\n",
        encoding="utf-8",
    )
    return path


def test_a_config_file_overrides_the_defaults(tmp_path: Path) -> None:
    settings = load_settings(environ={"PORTAL_CONFIG": str(_write_config(tmp_path))})
    assert settings.default_locale == "en"
    assert settings.idle_timeout_minutes == 20
    assert settings.max_failures_per_account == 3
    # What the file does not mention keeps its default.
    assert settings.absolute_timeout_hours == 12
    assert settings.max_failures_per_ip == 20


def test_environment_variables_override_the_config_file(tmp_path: Path) -> None:
    environ = {"PORTAL_CONFIG": str(_write_config(tmp_path)), "PORTAL_SESSION_IDLE_TIMEOUT_MINUTES": "10"}
    settings = load_settings(environ=environ)
    assert settings.idle_timeout_minutes == 10
    assert settings.max_failures_per_account == 3  # still from the file


def test_overrides_win_over_environment_variables() -> None:
    settings = load_settings(
        overrides={"session": {"idle_timeout_minutes": 45}},
        environ={"PORTAL_SESSION_IDLE_TIMEOUT_MINUTES": "10"},
    )
    assert settings.idle_timeout_minutes == 45


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_settings(environ={"PORTAL_CONFIG": str(tmp_path / "missing.toml")})


def test_a_production_config_file_with_a_weak_secret_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "production.toml"
    path.write_text(f'env = "production"\nsecret_key = "change-me"\ndatabase_url = "{POSTGRES}"\n')
    assert "PORTAL_SECRET_KEY" in _refusal({}, {"PORTAL_CONFIG": str(path)})
