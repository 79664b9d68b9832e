"""The real portal behind gunicorn, Debian's chromium driven by Playwright, and sign-in helpers.

The server gets its own instance folder and SQLite file, migrated and loaded with the demo data in this
process, and the suite's test key file (the data keys it seals with here must open there); the browser is
the system chromium (no Playwright browser download exists on CI).
"""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Response, expect, sync_playwright
from sqlalchemy import select

from portal import migrate
from portal.accounts import service as accounts
from portal.accounts.models import User
from portal.config import PROJECT_ROOT
from portal.db import Database
from portal.demo import DEMO_PASSWORD
from portal.demo import load as load_demo
from portal.security import policy
from portal.security.mfa import TIME_STEP_SECONDS
from tests.conftest import TEST_KEY_FILE, keyed_database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SECRET_KEY = "e2e-secret-key-that-is-long-enough-0123456789abcdef"
STARTUP_SECONDS = 30
#: Playwright's wait for a selector, URL or text (the server answers in milliseconds).
TIMEOUT_MS = 10_000


def running_on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class PortalServer:
    base_url: str
    database_url: str
    database: Database
    log_path: Path

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text("utf-8", errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _gunicorn_has_control_socket() -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS)


def _server_environment(instance: Path, database_url: str) -> dict[str, str]:
    # No PORTAL_* setting of the caller leaks in: the server runs on defaults plus exactly these
    # (so the idle timeout is the default 30 minutes, the locale Japanese, the throttle 5 per account).
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    environment.update(
        PORTAL_ENV="development",
        PORTAL_INSTANCE_PATH=str(instance),
        PORTAL_DATABASE_URL=database_url,
        PORTAL_SECRET_KEY=SECRET_KEY,
        PORTAL_KEY_FILE=str(TEST_KEY_FILE),
        PYTHONUNBUFFERED="1",
    )
    return environment


@pytest.fixture(scope="module")
def portal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PortalServer]:
    """gunicorn serving portal.wsgi:app on a free local port, on a migrated demo database."""
    instance = tmp_path_factory.mktemp("e2e-instance")
    database_url = f"sqlite:///{instance / 'portal.sqlite3'}"
    migrate.upgrade(database_url)
    database = keyed_database(database_url)  # seals the demo documents and secrets with the server's key
    with database.session_scope() as session:
        load_demo(session)

    port = _free_port()
    log_path = instance / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "portal.wsgi:app",
        "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--access-logfile", "-", "--graceful-timeout", "5",
    ]  # fmt: skip
    if _gunicorn_has_control_socket():
        # gunicorn 27+ opens ~/.gunicorn/gunicorn.ctl, shared with any other gunicorn of this user.
        command.append("--no-control-socket")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=_server_environment(instance, database_url),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = PortalServer(f"http://127.0.0.1:{port}", database_url, database, log_path)
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not _healthy(port):
            if process.poll() is not None:
                pytest.fail(
                    f"gunicorn exited with {process.returncode} before /healthz answered:\n"
                    + server.log_tail(),
                    pytrace=False,
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"/healthz did not answer within {STARTUP_SECONDS} s:\n{server.log_tail()}", pytrace=False
                )
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        database.dispose()


@pytest.fixture(scope="module")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
            "(apt-get install chromium fonts-noto-cjk); Playwright's own browsers are never downloaded"
        )
        if running_on_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    driver = sync_playwright().start()
    try:
        yield driver
    finally:
        driver.stop()


@pytest.fixture(scope="module")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    launched = playwright_driver.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e-screenshots")


def new_context(browser: Browser, server: PortalServer) -> BrowserContext:
    """A fresh browser profile (its own cookies) pointed at the server."""
    context = browser.new_context(base_url=server.base_url, locale="ja-JP", timezone_id="Asia/Tokyo")
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def context(browser: Browser, portal_server: PortalServer) -> Iterator[BrowserContext]:
    opened = new_context(browser, portal_server)
    try:
        yield opened
    finally:
        opened.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When a browser test fails, show the end of the server's log with it (tracebacks land there)."""
    report = yield
    server = getattr(item, "funcargs", {}).get("portal_server")
    if report.failed and isinstance(server, PortalServer):
        report.sections.append(("portal server log (last lines)", server.log_tail()))
    return report


# --- reading the test database ----------------------------------------------------------------------


def user_row(server: PortalServer, email: str) -> User:
    with server.database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        session.expunge(user)
        return user


def totp_secret(server: PortalServer, email: str) -> str | None:
    """The user's TOTP secret, opened from its sealed column with a maintenance grant."""
    with server.database.session_scope() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None, email
        return accounts.totp_secret(session, user, policy.maintenance_grant("user_secret", user.id))


def next_totp_code(server: PortalServer, email: str) -> str:
    """A code the server will accept now, respecting replay protection (each time step works once).

    The server accepts the previous, current and next step. A user who already signed in during this
    step gets the next step's code; if even that is used, wait until it becomes acceptable.
    """
    user = user_row(server, email)
    secret = totp_secret(server, email)
    assert secret, f"{email} has no TOTP secret (not enrolled)"
    step = max(int(time.time() // TIME_STEP_SECONDS), user.totp_last_step + 1)
    while step > int(time.time() // TIME_STEP_SECONDS) + 1:
        time.sleep(0.5)
    return str(pyotp.TOTP(secret, interval=TIME_STEP_SECONDS).at(step * TIME_STEP_SECONDS))


# --- driving the sign-in pages ----------------------------------------------------------------------


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def submit_main_form(page: Page) -> Response:
    """Click the submit button of the form in <main> and return the response to that POST."""
    with (
        page.expect_navigation(wait_until="load"),
        page.expect_response(lambda response: response.request.method == "POST") as posted,
    ):
        page.locator("#main form button[type=submit]").click()
    return posted.value


def submit_password(page: Page, email: str, password: str = DEMO_PASSWORD) -> Response:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    return submit_main_form(page)


def sign_in(page: Page, server: PortalServer, email: str) -> None:
    """Password, then the TOTP code, as a person does it; ends on the overview."""
    submit_password(page, email)
    expect(page).to_have_url(server.url("/login/mfa"))
    page.locator("input[name=code]").fill(next_totp_code(server, email))
    submit_main_form(page)
    expect(page).to_have_url(server.url("/"))
    expect(page.locator(".error-page"), "the overview is an error page").to_have_count(0)


def sign_out(page: Page, server: PortalServer) -> None:
    page.locator("header form[action$='/logout'] button[type=submit]").click()
    expect(page).to_have_url(server.url("/login"))
