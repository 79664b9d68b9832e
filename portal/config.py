"""Configuration: defaults < config file (PORTAL_CONFIG) < PORTAL_* environment variables.

The result is a flat, typed :class:`Settings`. Production mode refuses unsafe settings with one line
that says why (:class:`UnsafeConfiguration`).
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "default.toml"
KNOWN_DEFAULT_SECRETS = frozenset({"", "REPLACE-ME", "change-me", "dev", "secret"})


class UnsafeConfiguration(RuntimeError):
    """Production settings that must not be used; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    env: str
    secret_key: str
    database_url: str
    instance_path: Path
    key_file: Path
    default_locale: str
    locales: tuple[str, ...]
    timezone: str
    idle_timeout_minutes: int
    absolute_timeout_hours: int
    cookie_secure: str
    cookie_samesite: str
    mfa_pending_minutes: int
    throttle_window_minutes: int
    throttle_lockout_minutes: int
    max_failures_per_account: int
    max_failures_per_ip: int
    max_request_mb: int
    trusted_proxy_hops: int
    key_provider: str = "file"
    pkcs11_module: str = ""
    pkcs11_token_label: str = ""
    pkcs11_pin: str = ""
    pkcs11_key_label_prefix: str = "portal-kek-"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    mail_from: str = "portal@localhost"
    #: The portal's address as members reach it (e.g. https://portal.example.go.jp), for links in e-mails
    #: and calendar entries. Empty: the address of the request that caused them.
    portal_url: str = ""
    #: A material whose supply is more concentrated than this (Herfindahl–Hirschman index, 0–10000) is
    #: highlighted on supply-chain charts.
    thinktank_hhi_threshold: int = 2500
    #: The TrueType font embedded in PDF exports (a path); empty: found from the system (fontconfig).
    export_font_path: str = ""
    #: The East Asian font named in DOCX exports (the reader's word processor supplies it).
    export_docx_font: str = "IPAexGothic"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.env == "production"


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


#: PORTAL_* variable -> (section or None, key, type)
_ENVIRONMENT_KEYS: dict[str, tuple[str | None, str, type]] = {
    "PORTAL_ENV": (None, "env", str),
    "PORTAL_SECRET_KEY": (None, "secret_key", str),
    "PORTAL_DATABASE_URL": (None, "database_url", str),
    "PORTAL_KEY_FILE": (None, "key_file", str),
    "PORTAL_INSTANCE_PATH": (None, "instance_path", str),
    "PORTAL_DEFAULT_LOCALE": (None, "default_locale", str),
    "PORTAL_SESSION_IDLE_TIMEOUT_MINUTES": ("session", "idle_timeout_minutes", int),
    "PORTAL_SESSION_ABSOLUTE_TIMEOUT_HOURS": ("session", "absolute_timeout_hours", int),
    "PORTAL_COOKIE_SECURE": ("session", "cookie_secure", str),
    "PORTAL_MAX_REQUEST_MB": ("uploads", "max_request_mb", int),
    "PORTAL_TRUSTED_PROXY_HOPS": ("proxy", "trusted_hops", int),
    "PORTAL_KEY_PROVIDER": ("keys", "provider", str),
    "PORTAL_PKCS11_MODULE": ("keys", "pkcs11_module", str),
    "PORTAL_PKCS11_TOKEN_LABEL": ("keys", "pkcs11_token_label", str),
    "PORTAL_PKCS11_PIN": ("keys", "pkcs11_pin", str),
    "PORTAL_SMTP_HOST": ("mail", "smtp_host", str),
    "PORTAL_SMTP_PORT": ("mail", "smtp_port", int),
    "PORTAL_SMTP_USERNAME": ("mail", "smtp_username", str),
    "PORTAL_SMTP_PASSWORD": ("mail", "smtp_password", str),
    "PORTAL_MAIL_FROM": ("mail", "mail_from", str),
    "PORTAL_URL": ("mail", "portal_url", str),
    "PORTAL_THINKTANK_HHI_THRESHOLD": ("thinktank", "hhi_threshold", int),
    "PORTAL_EXPORT_FONT": ("exports", "font_path", str),
    "PORTAL_EXPORT_DOCX_FONT": ("exports", "docx_east_asian_font", str),
}


def _from_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for variable, (section, key, kind) in _ENVIRONMENT_KEYS.items():
        if variable not in environ:
            continue
        value = kind(environ[variable])
        target = values.setdefault(section, {}) if section else values
        target[key] = value
    return values


def _resolve_database_url(url: str, instance_path: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and url != "sqlite:///:memory:":
        path = Path(url[len(prefix) :])
        if not path.is_absolute():
            return prefix + str(instance_path / path)
    return url


def load_settings(
    overrides: dict[str, Any] | None = None,
    environ: dict[str, str] | os._Environ[str] | None = None,
) -> Settings:
    """Read the layered configuration. ``overrides`` (for tests) wins over everything."""
    environ = os.environ if environ is None else environ
    with DEFAULT_CONFIG_FILE.open("rb") as handle:
        raw = tomllib.load(handle)
    config_file = environ.get("PORTAL_CONFIG")
    if config_file:
        with Path(config_file).open("rb") as handle:
            raw = _merge(raw, tomllib.load(handle))
    raw = _merge(raw, _from_environment(environ))
    if overrides:
        raw = _merge(raw, overrides)

    instance_path = Path(raw.get("instance_path") or PROJECT_ROOT / "instance").resolve()
    key_file = Path(raw["key_file"])
    if not key_file.is_absolute():
        key_file = instance_path / key_file
    session = raw["session"]
    throttle = raw["throttle"]
    settings = Settings(
        env=str(raw["env"]),
        secret_key=str(raw.get("secret_key") or ""),
        database_url=_resolve_database_url(str(raw["database_url"]), instance_path),
        instance_path=instance_path,
        key_file=key_file,
        default_locale=str(raw["default_locale"]),
        locales=tuple(raw["locales"]),
        timezone=str(raw["timezone"]),
        idle_timeout_minutes=int(session["idle_timeout_minutes"]),
        absolute_timeout_hours=int(session["absolute_timeout_hours"]),
        cookie_secure=str(session["cookie_secure"]),
        cookie_samesite=str(session["cookie_samesite"]),
        mfa_pending_minutes=int(session["mfa_pending_minutes"]),
        throttle_window_minutes=int(throttle["window_minutes"]),
        throttle_lockout_minutes=int(throttle["lockout_minutes"]),
        max_failures_per_account=int(throttle["max_failures_per_account"]),
        max_failures_per_ip=int(throttle["max_failures_per_ip"]),
        max_request_mb=int(raw["uploads"]["max_request_mb"]),
        trusted_proxy_hops=int(raw["proxy"]["trusted_hops"]),
        key_provider=str(raw["keys"]["provider"]),
        pkcs11_module=str(raw["keys"]["pkcs11_module"]),
        pkcs11_token_label=str(raw["keys"]["pkcs11_token_label"]),
        pkcs11_pin=str(raw["keys"]["pkcs11_pin"]),
        pkcs11_key_label_prefix=str(raw["keys"]["pkcs11_key_label_prefix"]),
        smtp_host=str(raw["mail"]["smtp_host"]),
        smtp_port=int(raw["mail"]["smtp_port"]),
        smtp_starttls=bool(raw["mail"]["smtp_starttls"]),
        smtp_username=str(raw["mail"]["smtp_username"]),
        smtp_password=str(raw["mail"]["smtp_password"]),
        mail_from=str(raw["mail"]["mail_from"]),
        portal_url=str(raw["mail"].get("portal_url", "")).rstrip("/"),
        thinktank_hhi_threshold=int(raw.get("thinktank", {}).get("hhi_threshold", 2500)),
        export_font_path=str(raw.get("exports", {}).get("font_path", "")),
        export_docx_font=str(raw.get("exports", {}).get("docx_east_asian_font", "IPAexGothic")),
        extra={key: value for key, value in raw.items() if key == "testing"},
    )
    check_settings(settings)
    return settings


def check_settings(settings: Settings) -> None:
    """Refuse settings that are unsafe in production; one line each."""
    if settings.env not in {"development", "production"}:
        raise UnsafeConfiguration(f"PORTAL_ENV must be 'development' or 'production', not {settings.env!r}.")
    if settings.cookie_secure not in {"auto", "always", "never"}:
        raise UnsafeConfiguration("session.cookie_secure must be 'auto', 'always' or 'never'.")
    if settings.cookie_samesite not in {"Lax", "Strict"}:
        raise UnsafeConfiguration("session.cookie_samesite must be 'Lax' or 'Strict'.")
    if settings.key_provider not in {"file", "pkcs11"}:
        raise UnsafeConfiguration("keys.provider must be 'file' or 'pkcs11'.")
    if settings.key_provider == "pkcs11" and not (settings.pkcs11_module and settings.pkcs11_token_label):
        raise UnsafeConfiguration(
            "keys.provider = 'pkcs11' needs keys.pkcs11_module and keys.pkcs11_token_label."
        )
    if not 0 <= settings.thinktank_hhi_threshold <= 10000:
        raise UnsafeConfiguration("thinktank.hhi_threshold must be between 0 and 10000.")
    if not settings.is_production:
        return
    if settings.secret_key in KNOWN_DEFAULT_SECRETS or len(settings.secret_key) < 32:
        raise UnsafeConfiguration(
            "Refusing to start in production: set PORTAL_SECRET_KEY to a random value of 32+ characters."
        )
    if settings.database_url.startswith("sqlite"):
        raise UnsafeConfiguration(
            "Refusing to start in production on SQLite: set PORTAL_DATABASE_URL to a PostgreSQL database."
        )
    if settings.cookie_secure == "never":
        raise UnsafeConfiguration("Refusing to start in production with session.cookie_secure = 'never'.")


def development_secret_key(instance_path: Path) -> str:
    """A random secret kept in the instance folder, so restarts keep CSRF tokens valid."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret
