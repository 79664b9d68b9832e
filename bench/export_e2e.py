"""The export benchmark end to end: the real export routes, over HTTP, for a real signed-in reader.

Run by ``export_bench.py`` (unless ``--no-end-to-end``). On a fresh database (SQLite in a temporary
folder, or a new PostgreSQL database that is dropped afterwards) with the demo loaded, ``export_data.build``
makes a meeting through the portal's services: minutes of about 150 portions and a meeting pack (an agenda
of 12 items linked to 24 long room documents and a think-tank output, findings, action items). Then:

- **over HTTP**: gunicorn (``portal.wsgi:app``, one sync worker) on a free port of 127.0.0.1; 伊藤 signs in
  (password, then TOTP) and downloads ``/meetings/<id>/minutes/export.<pdf|docx>`` and
  ``/meetings/<id>/pack.<pdf|docx>``: the first request of each (a cold worker's first export also
  loads the font), then ``runs`` timed ones (client-side, request to last byte, a new connection each).
  The worker's memory: its resident set before each request and its peak during it (Linux ``VmHWM``,
  reset through ``/proc/<pid>/clear_refs`` just before the request), and after the last one. Every copy
  is checked: 200, an attachment, its SHA-256 registered in the exports table (the record gives the parts
  included and withheld), and the PDF's pages counted with ``pdfinfo``.
- **in process** (the Flask test client, same database, same reader): the same requests with the steps of
  the export view timed one by one (:data:`STEPS`: build, release check, render, register, audit trail;
  the rest), and with ``profile``, one more request of each under cProfile (the top functions are written
  to ``bench/results/exports-<time>/``).
"""

from __future__ import annotations

import contextlib
import cProfile
import dataclasses
import hashlib
import io
import logging
import operator
import pstats
import re
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import export_data
import http_bench
from seal_cost import children
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.engine import make_url

from portal import migrate
from portal.accounts import service as accounts
from portal.accounts.models import User
from portal.app import create_app, make_database
from portal.config import load_settings
from portal.db import Database
from portal.demo import DEMO_PASSWORD, is_demo_database
from portal.demo import load as load_demo
from portal.exports import builders
from portal.exports import service as exports
from portal.exports.models import ExportRecord
from portal.security import audit, mfa, policy
from portal.security.audit_models import AuditEntry
from portal.security.keys import create_key_file

KINDS = ("minutes", "pack")
FORMATS = ("pdf", "docx")
TARGET_SECONDS = {"minutes": 2.0, "pack": 5.0}
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def export_path(meeting_id: uuid.UUID, kind: str, file_format: str) -> str:
    if kind == "minutes":
        return f"/meetings/{meeting_id}/minutes/export.{file_format}"
    return f"/meetings/{meeting_id}/pack.{file_format}"


# --- the database -----------------------------------------------------------------------------------------


@dataclass
class Prepared:
    url: str
    backend: str
    instance: Path
    key_file: Path
    meeting: export_data.BenchMeeting
    seed_seconds: float

    def settings_overrides(self) -> dict[str, Any]:
        return {"database_url": self.url, "instance_path": str(self.instance), "key_file": str(self.key_file)}


@contextlib.contextmanager
def fresh_database(where: str, directory: Path, keep: bool) -> Iterator[str]:
    """``sqlite``: a file in ``directory``. A PostgreSQL URL: a new database on that server, dropped after."""
    if where == "sqlite":
        yield f"sqlite:///{directory / 'portal.sqlite3'}"
        return
    url = make_url(where)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    name = f"portal_export_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prepare(url: str, directory: Path, sizes: export_data.Sizes) -> Prepared:
    """Migrate, load the demo, build the meeting through the services."""
    key_file = directory / "portal.key"
    create_key_file(key_file)
    instance = directory / "instance"
    instance.mkdir()
    started = time.perf_counter()
    migrate.upgrade(url)
    overrides = {"database_url": url, "instance_path": str(instance), "key_file": str(key_file)}
    database = make_database(load_settings(overrides, {}))
    try:
        with database.session_scope() as session:
            load_demo(session)
        meeting = export_data.build(database, sizes)
    finally:
        database.dispose()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    return Prepared(url, backend, instance, key_file, meeting, time.perf_counter() - started)


def _database(prepared: Prepared) -> Database:
    return make_database(load_settings(prepared.settings_overrides(), {}))


def reader_totp_secret(prepared: Prepared) -> str:
    """The demo reader's TOTP secret (the demo's own grant, refused on any non-demo database)."""
    database = _database(prepared)
    try:
        with database.session_scope() as session:
            user = session.scalar(select(User).where(User.email == export_data.READER))
            assert user is not None
            grant = policy.grant_demo_secret(is_demo_database(session), user.id, user.is_demo)
            secret = accounts.totp_secret(session, user, grant)
            assert secret is not None
            return secret
    finally:
        database.dispose()


def allow_second_sign_in(prepared: Prepared) -> None:
    """A TOTP code is accepted once per 30-s step: clear the reader's replay marker so that the in-process
    client may sign in right after the HTTP one (a bench database; the portal never does this)."""
    database = _database(prepared)
    try:
        with database.session_scope() as session:
            session.execute(update(User).where(User.email == export_data.READER).values(totp_last_step=0))
    finally:
        database.dispose()


def registered(prepared: Prepared, content: bytes) -> dict[str, Any]:
    """The exports table's record of exactly these bytes (the copy was registered as delivered)."""
    digest = hashlib.sha256(content).hexdigest()
    database = _database(prepared)
    try:
        with database.session_scope() as session:
            record = session.scalar(select(ExportRecord).where(ExportRecord.sha256 == digest))
            if record is None:
                raise RuntimeError(f"no export registered with SHA-256 {digest}")
            return {
                "export_id": str(record.id),
                "included_parts": record.included_parts,
                "withheld_parts": record.withheld_parts,
                "highest_level": int(record.highest_level),
                "release": record.release,
            }
    finally:
        database.dispose()


def pdfinfo_pages(content: bytes) -> int:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(content)
        handle.flush()
        info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True, check=True).stdout
    found = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"pdfinfo gave no page count:\n{info}")
    return int(found.group(1))


# --- over HTTP --------------------------------------------------------------------------------------------


class ExportServer(http_bench.Server):
    """http_bench's gunicorn; on SQLite in development mode (production refuses SQLite; the only other
    difference is template reloading, and an export renders no template)."""

    def environment(self) -> dict[str, str]:
        environment = super().environment()
        if self.manifest["database_url"].startswith("sqlite"):
            environment["PORTAL_ENV"] = "development"
        return environment

    def worker(self) -> int:
        assert self.process is not None
        (pid,) = children(self.process.pid)
        return pid


def _status_kib(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} for process {pid}")


def _reset_peak(pid: int) -> None:
    """Linux: 5 in clear_refs resets the process's peak resident set (VmHWM) to its current one."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _download(client: http_bench.Client, path: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    status, headers, content, _size = client.request("GET", path)
    elapsed = time.perf_counter() - started
    if status != 200 or not (headers.get("Content-Disposition") or "").startswith("attachment;"):
        raise RuntimeError(f"GET {path}: {status} {content[:300]!r}")
    return elapsed, content


def measure_http(
    prepared: Prepared, directory: Path, runs: int, progress: Callable[[str], None]
) -> list[dict[str, Any]]:
    manifest = {
        "database_url": prepared.url,
        "instance": str(prepared.instance),
        "key_file": str(prepared.key_file),
    }
    server = ExportServer(manifest, workers=1, directory=directory / "server")
    rows = []
    try:
        server.start()
        worker = server.worker()
        client = http_bench.Client(export_data.READER, server.port)
        client.sign_in(DEMO_PASSWORD, reader_totp_secret(prepared))
        signed_in_rss = _status_kib(worker, "VmRSS")
        for kind in KINDS:
            for file_format in FORMATS:
                path = export_path(prepared.meeting.meeting_id, kind, file_format)
                first, content = _download(client, path)
                seconds, before, peaks = [], [], []
                for _run in range(runs):
                    _reset_peak(worker)
                    before.append(_status_kib(worker, "VmRSS"))
                    elapsed, content = _download(client, path)
                    peaks.append(_status_kib(worker, "VmHWM"))
                    seconds.append(elapsed)
                after = _status_kib(worker, "VmRSS")
                record = registered(prepared, content)
                pages = pdfinfo_pages(content) if file_format == "pdf" else None
                rows.append(
                    {
                        "document": kind,
                        "format": file_format,
                        "path": path.replace(str(prepared.meeting.meeting_id), "<meeting>"),
                        "pdf_pages": pages,
                        "bytes": len(content),
                        **record,
                        "first_s": first,
                        "median_s": statistics.median(seconds),
                        "min_s": min(seconds),
                        "max_s": max(seconds),
                        "runs": seconds,
                        "target_s": TARGET_SECONDS[kind],
                        "worker_rss_signed_in_mib": signed_in_rss / 1024,
                        "worker_rss_before_mib": before[0] / 1024,
                        "worker_rss_before_each_mib": [kib / 1024 for kib in before],
                        "worker_peak_rss_mib": max(peaks) / 1024,
                        "worker_peak_growth_mib": max(map(operator.sub, peaks, before)) / 1024,
                        "worker_rss_after_mib": after / 1024,
                    }
                )
                progress(f"end to end, HTTP: {kind} {file_format}: median {statistics.median(seconds):.3f} s")
    finally:
        server.stop()
    return rows


# --- in process: the steps, and the profile -----------------------------------------------------------------

#: The export view's steps, as (name, module, function), each looked up on its module when called. build: the
#: policy decision for every part, opening the sealed texts of the readable ones, queueing the audit entries
#: of the reads at CONFIDENTIAL and above; register: SHA-256, the exports row, queueing ``export.create``;
#: audit trail: writing the queued entries to the hash chain after the commit. The rest of a request is
#: Flask, the session and subject, the commit and the response.
STEPS: tuple[tuple[str, Any, str], ...] = (
    ("build", builders, "minutes_export"),
    ("build", builders, "pack_export"),
    ("release check", exports, "require_release"),
    ("render", exports, "render"),
    ("register", exports, "record_export"),
    ("audit trail", audit, "write"),
)


@contextlib.contextmanager
def timed_steps(spent: dict[str, float]) -> Iterator[None]:
    """Wrap each step so that its wall time is added to ``spent[name]`` while the block runs."""
    originals = []
    for name, module, attribute in STEPS:
        original = getattr(module, attribute)
        originals.append((module, attribute, original))

        def timed(*args: Any, __name: str = name, __original: Any = original, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return __original(*args, **kwargs)
            finally:
                spent[__name] = spent.get(__name, 0.0) + time.perf_counter() - started

        setattr(module, attribute, timed)
    try:
        yield
    finally:
        for module, attribute, original in originals:
            setattr(module, attribute, original)


def _test_client(prepared: Prepared) -> Any:
    app = create_app({**prepared.settings_overrides(), "secret_key": secrets.token_urlsafe(48)})
    client = app.test_client()

    def token(path: str) -> str:
        found = CSRF.search(client.get(path).get_data(as_text=True))
        assert found, path
        return found.group(1)

    form = {"csrf_token": token("/login"), "email": export_data.READER, "password": DEMO_PASSWORD}
    assert client.post("/login", data=form).status_code == 302
    code = mfa.current_code(reader_totp_secret(prepared))
    response = client.post("/login/mfa", data={"csrf_token": token("/login/mfa"), "code": code})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise RuntimeError(f"in-process sign-in refused: {response.status_code}")
    return app, client


def measure_steps(
    prepared: Prepared, runs: int, profile_to: Path | None, progress: Callable[[str], None]
) -> list[dict[str, Any]]:
    allow_second_sign_in(prepared)
    logging.getLogger("portal.request").setLevel(logging.WARNING)  # one line a request, on stderr
    app, client = _test_client(prepared)
    database: Database = app.extensions["portal_db"]
    rows = []
    try:
        for kind in KINDS:
            for file_format in FORMATS:
                path = export_path(prepared.meeting.meeting_id, kind, file_format)
                assert client.get(path).status_code == 200  # warm-up
                entries_before = audit_entries(database)
                totals, steps = [], []
                for _run in range(runs):
                    spent: dict[str, float] = {}
                    with timed_steps(spent):
                        started = time.perf_counter()
                        response = client.get(path)
                        totals.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.status_code
                    steps.append(spent)
                row: dict[str, Any] = {
                    "document": kind,
                    "format": file_format,
                    "audit_entries_per_export": (audit_entries(database) - entries_before) / runs,
                    "total_s": statistics.median(totals),
                }
                for name in dict.fromkeys(step for step, _module, _attribute in STEPS):
                    row[name] = statistics.median(spent.get(name, 0.0) for spent in steps)
                row["rest"] = statistics.median(
                    total - sum(spent.values()) for total, spent in zip(totals, steps, strict=True)
                )
                if profile_to is not None:
                    row["profile"] = profile(client, path, profile_to / f"profile-{kind}-{file_format}.txt")
                rows.append(row)
                progress(f"end to end, in process: {kind} {file_format}: median {row['total_s']:.3f} s")
    finally:
        database.dispose()
    return rows


def audit_entries(database: Database) -> int:
    with database.session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def profile(client: Any, path: str, output: Path) -> dict[str, Any]:
    """One request under cProfile: the top functions (own time and cumulative) written to ``output``, and
    the profiled total."""
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    response = client.get(path)
    profiler.disable()
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(f"GET {path} under cProfile: {elapsed:.3f} s\n\n{stream.getvalue()}")
    return {"profiled_s": elapsed, "file": str(output)}


# --- the whole run ----------------------------------------------------------------------------------------


def run(
    where: str,
    runs: int,
    sizes: export_data.Sizes,
    profile_to: Path | None,
    progress: Callable[[str], None],
    keep: bool = False,
) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="portal-export-bench-"))
    try:
        with fresh_database(where, directory, keep) as url:
            progress(f"end to end: building the meeting through the services ({url.split(':')[0]})...")
            prepared = prepare(url, directory, sizes)
            progress(f"end to end: built in {prepared.seed_seconds:.0f} s; measuring over HTTP...")
            http_rows = measure_http(prepared, directory, runs, progress)
            step_rows = measure_steps(prepared, runs, profile_to, progress)
            if keep:
                progress(f"kept the database {url}")
    finally:
        if keep:
            progress(f"kept {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)
    return {
        "database": prepared.backend,
        "reader": export_data.READER,
        "planned": prepared.meeting.planned,
        "sizes": dataclasses.asdict(sizes),
        "seed_seconds": prepared.seed_seconds,
        "steps": list(dict.fromkeys(name for name, _module, _attribute in STEPS)),
        "http": http_rows,
        "in_process": step_rows,
    }
