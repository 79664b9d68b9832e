"""create_app(): the only place where extensions and blueprints are wired."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy.exc import OperationalError
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import errors, i18n, notifications
from portal.config import PROJECT_ROOT, Settings, development_secret_key, load_settings
from portal.db import Database, close_request_session
from portal.security import web
from portal.security.keyring import Keyring
from portal.security.keys import KeyProvider, Pkcs11Settings, build_provider
from portal.security.sessions import COOKIE_NAME, ServerSideSessionInterface


def make_keyring(settings: Settings) -> Keyring:
    """The keyring for these settings; its key provider opens on first use."""

    def open_provider() -> KeyProvider:
        pkcs11 = Pkcs11Settings(
            module=settings.pkcs11_module,
            token_label=settings.pkcs11_token_label,
            user_pin=settings.pkcs11_pin,
            key_label_prefix=settings.pkcs11_key_label_prefix,
        )
        return build_provider(settings.key_provider, settings.key_file, pkcs11)

    return Keyring(open_provider)


def make_database(settings: Settings) -> Database:
    return Database(settings.database_url, keyring=make_keyring(settings))


def check_keys(app: Flask) -> None:
    """Open the key provider and prove it opens this database's keys; raise KeyFileError (one line).

    The key source is opened even when the database holds no data key yet (a missing or loose key file is
    refused on a fresh database too). An unreachable database does not stop the start: /healthz reports it,
    and the keys are checked against the database when it answers.
    """
    database: Database = app.extensions["portal_db"]
    database.keyring.provider.versions()  # opens the key source: KeyFileError when it is unusable
    try:
        with database.engine.connect():
            pass
    except OperationalError:
        logging.getLogger("portal.keys").warning("database unreachable at start: data keys not verified yet")
        return
    with database.session_scope() as session:
        database.keyring.verify(session)


def create_app(config: dict[str, Any] | Settings | None = None, *, verify_keys: bool = True) -> Flask:
    """The application. ``verify_keys`` refuses to start with a missing or wrong key (the CLI skips it, so
    that `portal keys init` can create the key first)."""
    settings = config if isinstance(config, Settings) else load_settings(config)
    app = Flask(
        "portal",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(settings.instance_path),
    )
    app.config.update(
        PORTAL_SETTINGS=settings,
        SECRET_KEY=settings.secret_key or development_secret_key(settings.instance_path),
        SESSION_COOKIE_NAME=COOKIE_NAME,
        SESSION_COOKIE_SAMESITE=settings.cookie_samesite,
        # The upload limit applies to the files; the margin is for the form fields around them.
        MAX_CONTENT_LENGTH=settings.max_request_mb * 1024 * 1024 + 256 * 1024,
        BABEL_DEFAULT_LOCALE=settings.default_locale,
        BABEL_DEFAULT_TIMEZONE=settings.timezone,
        BABEL_TRANSLATION_DIRECTORIES=str(PROJECT_ROOT / "portal" / "translations"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the server-side session
        TEMPLATES_AUTO_RELOAD=not settings.is_production,
    )
    if settings.extra.get("testing"):
        app.config.update(settings.extra["testing"])

    database = make_database(settings)
    app.extensions["portal_db"] = database
    app.session_interface = ServerSideSessionInterface(
        database,
        idle=timedelta(minutes=settings.idle_timeout_minutes),
        absolute=timedelta(hours=settings.absolute_timeout_hours),
    )
    if settings.trusted_proxy_hops:
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    i18n.babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    web.init_app(app)
    errors.init_app(app)
    app.teardown_appcontext(close_request_session)
    _register_blueprints(app)
    _register_template_helpers(app)
    notifications.install(app)
    if verify_keys:
        check_keys(app)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    return app


def _register_blueprints(app: Flask) -> None:
    from portal.accounts.admin_views import blueprint as admin
    from portal.accounts.views import blueprint as accounts
    from portal.auditing.views import blueprint as audit_views
    from portal.calendars.views import blueprint as calendars
    from portal.documents.views import blueprint as documents
    from portal.exercises.views import blueprint as exercises
    from portal.exports.views import blueprint as exports
    from portal.health import blueprint as health
    from portal.meetings.agenda_views import blueprint as agenda
    from portal.meetings.followup_views import blueprint as followup
    from portal.meetings.views import blueprint as meetings
    from portal.minutes.views import blueprint as minutes
    from portal.policywork import tools as _policy_tools  # noqa: F401  (registers the room panel)
    from portal.policywork.recommendation_views import blueprint as recommendations
    from portal.policywork.views import blueprint as workplan
    from portal.risks import pages as _risk_tools  # noqa: F401  (registers the risk-review room's tools)
    from portal.risks.views import blueprint as risks
    from portal.rooms.views import blueprint as rooms
    from portal.search.views import blueprint as search
    from portal.situation import tools as situation_tools  # noqa: F401  (registers the room panel)
    from portal.situation.views import blueprint as situation
    from portal.thinktank.views import blueprint as thinktank

    app.register_blueprint(health)
    app.register_blueprint(accounts)
    app.register_blueprint(rooms)
    app.register_blueprint(documents)
    app.register_blueprint(admin)
    app.register_blueprint(audit_views)
    app.register_blueprint(search)
    app.register_blueprint(thinktank)
    app.register_blueprint(calendars)
    app.register_blueprint(followup)
    app.register_blueprint(minutes)
    app.register_blueprint(meetings)
    app.register_blueprint(agenda)
    app.register_blueprint(exports)
    app.register_blueprint(risks)
    app.register_blueprint(situation)
    app.register_blueprint(workplan)
    app.register_blueprint(recommendations)
    app.register_blueprint(exercises)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import get_locale
    from markupsafe import Markup

    from portal.accounts import devices
    from portal.security.sanitize import render_markdown
    from portal.thinktank.forms import KIND_LABELS as OUTPUT_KIND_LABELS

    app.jinja_env.globals.update(
        kind_labels=i18n.SUBCOMMITTEE_KIND_LABELS,
        kind_purposes=i18n.SUBCOMMITTEE_KIND_PURPOSES,
        role_labels=i18n.ROLE_LABELS,
        room_role_labels=i18n.ROOM_ROLE_LABELS,
        organization_kind_labels=i18n.ORGANIZATION_KIND_LABELS,
        sector_labels=i18n.SECTOR_LABELS,
        level_labels=i18n.LEVEL_LABELS,
        locale_names=i18n.LOCALE_NAMES,
        current_locale=lambda: str(get_locale() or "ja"),
        describe_device=devices.describe,
        max_upload_mb=app.config["PORTAL_SETTINGS"].max_request_mb,
        output_kind_labels=OUTPUT_KIND_LABELS,
    )
    # The one way user-written text becomes markup: Markdown, then the nh3 allow-list.
    # Meeting times (and any other moment) on the reader's own wall clock, naming the zone.
    app.jinja_env.filters["local_time"] = i18n.format_local_time
    app.jinja_env.filters["markdown"] = lambda text: Markup(render_markdown(text or ""))  # noqa: S704  (sanitised)
