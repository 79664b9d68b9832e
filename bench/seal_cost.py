"""The cost of sealing: the same pages served with field-level encryption and by a plaintext build.

    .venv/bin/python bench/seal_cost.py [--requests N] [--warmup N] [--workers N] [--max-seconds S]

It makes a temporary instance (a key file, two migrated SQLite databases with the demo data and enough
generated documents that 重要鉱物分科会 lists 50 to tanaka@meti.example.jp), serves one database with the
portal (``portal.wsgi:app``) and the other with the plaintext build (``bench/plaintext_wsgi.py``: the
keyring's seal/open replaced by the identity transform, and the database seeded under that same transform),
each with gunicorn on a free port of 127.0.0.1, signs in to each once, and then requests the room page and
one document page, alternating the two builds request by request (the order flips every round, so drift
falls on both alike). It prints a Markdown table and writes every figure to bench/results/.

Latency is measured by this client: connect, send, read the whole body (gunicorn's sync workers close the
connection after every response, so each request opens a new one, in both builds alike).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
if str(PROJECT_ROOT) not in sys.path:  # `python bench/seal_cost.py` puts only bench/ on the path
    sys.path.insert(0, str(PROJECT_ROOT))

import corpus  # noqa: E402
from identity_cipher import identity_cipher  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from portal import migrate  # noqa: E402
from portal.accounts.models import User  # noqa: E402
from portal.app import make_database  # noqa: E402
from portal.config import Settings, load_settings  # noqa: E402
from portal.db import Database, utcnow  # noqa: E402
from portal.demo import DEMO_PASSWORD, demo_totp  # noqa: E402
from portal.demo import load as load_demo  # noqa: E402
from portal.documents import service as documents  # noqa: E402
from portal.documents.models import Document  # noqa: E402
from portal.enums import Level, ReleaseMarking  # noqa: E402
from portal.rooms.models import Subcommittee  # noqa: E402
from portal.security import policy  # noqa: E402

ROOM_NAME = "重要鉱物分科会"
READER = "tanaka@meti.example.jp"
LISTED = 50
TARGET_RATIO = 1.15
VARIANTS = ("encrypted", "plaintext")
PAGES = ("room", "document")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
DOCUMENT_LINK = re.compile(r'href="/rooms/[0-9a-f-]{36}/documents/[0-9a-f-]{36}"')
#: Values that differ between any two responses (tokens, nonces), removed before comparing the builds.
VOLATILE = re.compile(r'(value|nonce|content)="[A-Za-z0-9_\-.=+/]{16,}"')
#: Row ids made by the demo loader (uuid4) and seeding times also differ between the two databases.
UUID_OR_TIME = re.compile(r"[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|\d+/\d+/\d+ \d+:\d+:\d+")


# --- setup ----------------------------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    directory: Path
    url: str
    plaintext: bool
    room_id: uuid.UUID | None = None
    document_id: uuid.UUID | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    samples: dict[str, list[float]] = field(default_factory=lambda: {page: [] for page in PAGES})
    bodies: dict[str, bytes] = field(default_factory=dict)

    def environment(self, key_file: Path, secret_key: str) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        environment.update(
            PORTAL_ENV="development",
            PORTAL_DATABASE_URL=self.url,
            PORTAL_INSTANCE_PATH=str(self.directory),
            PORTAL_KEY_FILE=str(key_file),
            PORTAL_SECRET_KEY=secret_key,
            PYTHONDONTWRITEBYTECODE="1",
        )
        return environment

    def settings(self, key_file: Path) -> Settings:
        return load_settings(
            {"database_url": self.url, "instance_path": str(self.directory), "key_file": str(key_file)},
            environ={},
        )

    def path(self, page: str) -> str:
        if page == "room":
            return f"/rooms/{self.room_id}"
        return f"/rooms/{self.room_id}/documents/{self.document_id}"


def seed(database: Database) -> tuple[uuid.UUID, uuid.UUID, int]:
    """Demo data, then enough generated documents that the room lists ``LISTED`` (the demo's own are all
    readable by its chair), each sealed as the portal seals it. Returns the room id, the id of the
    document the document page shows, and the size of that document's body in bytes."""
    with database.session_scope() as session:
        load_demo(session)
        session.flush()
        room = session.scalar(select(Subcommittee).where(Subcommittee.name_ja == ROOM_NAME))
        author = session.scalar(select(User).where(User.email == READER))
        assert room is not None and author is not None
        existing = session.scalar(
            select(func.count()).select_from(Document).where(Document.subcommittee_id == room.id)
        )
        generated = corpus.generate(LISTED - int(existing or 0))
        now = utcnow()
        ids = [uuid.UUID(int=(2026 << 64) + index, version=4) for index in range(len(generated))]
        for index, spec in enumerate(generated):
            moment = now - timedelta(hours=index + 1)
            document = Document(
                id=ids[index],
                subcommittee_id=room.id,
                level=Level.RESTRICTED,
                release=ReleaseMarking.GREEN,
                classified_by_id=author.id,
                classified_at=moment,
                created_by_id=author.id,
                created_at=moment,
                updated_at=moment,
            )
            documents.seal_text(
                session,
                policy.maintenance_grant("document", document.id),
                document,
                title=spec.title,
                body=spec.body,
                reason=spec.reason,
            )
            session.add(document)
        return room.id, ids[0], len(generated[0].body.encode())


def prepare(variant: Variant, key_file: Path) -> tuple[int, int]:
    """Migrate and seed one database (under the identity transform for the plaintext build); returns the
    number of documents in the room and the size of the shown document's body in bytes."""
    variant.directory.mkdir(parents=True)
    migrate.upgrade(variant.url)
    database = make_database(variant.settings(key_file))
    try:
        with identity_cipher(variant.plaintext):
            variant.room_id, variant.document_id, body_bytes = seed(database)
        with database.session_scope() as session:
            listed = session.scalar(
                select(func.count()).select_from(Document).where(Document.subcommittee_id == variant.room_id)
            )
    finally:
        database.dispose()
    return int(listed or 0), body_bytes


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(variant: Variant, key_file: Path, secret_key: str, workers: int) -> None:
    variant.port = free_port()
    application = "plaintext_wsgi:app" if variant.plaintext else "portal.wsgi:app"
    arguments = [
        sys.executable, "-m", "gunicorn", application,
        "--pythonpath", str(BENCH),
        "--bind", f"127.0.0.1:{variant.port}", "--workers", str(workers),
        "--control-socket", str(variant.directory / "gunicorn.ctl"),
        "--log-level", "warning",
    ]  # fmt: skip
    log = (variant.directory / "gunicorn.log").open("wb")
    variant.process = subprocess.Popen(
        arguments,
        cwd=PROJECT_ROOT,
        env=variant.environment(key_file, secret_key),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()


def wait_until_ready(variants: list[Variant], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(variants)
    while pending:
        for variant in list(pending):
            assert variant.process is not None
            if variant.process.poll() is not None:
                log = (variant.directory / "gunicorn.log").read_text(errors="replace")
                raise RuntimeError(f"the {variant.name} server exited:\n{log[-3000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _headers, _body = request(variant, "GET", "/healthz")
                if status == 200:
                    pending.remove(variant)
        if time.monotonic() > deadline:
            raise RuntimeError(f"servers not ready after {timeout:.0f} s: {[v.name for v in pending]}")
        time.sleep(0.2)


def stop(variant: Variant) -> None:
    """SIGTERM to the gunicorn master (it stops its workers), then SIGKILL to its process group."""
    process = variant.process
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


# --- HTTP -----------------------------------------------------------------------------------------------


def request(
    variant: Variant, method: str, path: str, form: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a new connection, with the variant's cookies; remembers the cookies set."""
    connection = http.client.HTTPConnection("127.0.0.1", variant.port, timeout=30)
    try:
        headers = {"Accept-Language": "ja"}
        if variant.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in variant.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if value and "Max-Age=0" not in cookie and "expires=Thu, 01 Jan 1970" not in cookie:
                variant.cookies[name.strip()] = value
            else:
                variant.cookies.pop(name.strip(), None)
        return response.status, response.headers, content
    finally:
        connection.close()


def csrf_token(body: bytes) -> str:
    match = CSRF.search(body.decode())
    if match is None:
        raise RuntimeError("no csrf_token in the form")
    return match.group(1)


def current_code(variant: Variant, key_file: Path) -> str:
    database = make_database(variant.settings(key_file))
    try:
        with identity_cipher(variant.plaintext), database.session_scope() as session:
            return demo_totp(session, READER)
    finally:
        database.dispose()


def sign_in(variant: Variant, key_file: Path) -> None:
    """Password, then the current TOTP code (a code is accepted once per 30 s step: wait for a new one)."""
    status, _headers, body = request(variant, "GET", "/login")
    status, headers, _body = request(
        variant,
        "POST",
        "/login",
        {"email": READER, "password": DEMO_PASSWORD, "csrf_token": csrf_token(body)},
    )
    if status != 302 or "/login/mfa" not in (headers.get("Location") or ""):
        raise RuntimeError(f"{variant.name}: password sign-in answered {status}")
    tried: set[str] = set()
    for _attempt in range(3):
        code = current_code(variant, key_file)
        while code in tried:
            time.sleep(1)
            code = current_code(variant, key_file)
        tried.add(code)
        status, _headers, body = request(variant, "GET", "/login/mfa")
        status, headers, _body = request(
            variant, "POST", "/login/mfa", {"code": code, "csrf_token": csrf_token(body)}
        )
        if status == 302 and "/login" not in (headers.get("Location") or ""):
            return
    raise RuntimeError(f"{variant.name}: the second factor was refused")


def timed_get(variant: Variant, page: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    status, _headers, body = request(variant, "GET", variant.path(page))
    elapsed = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"{variant.name} {page}: HTTP {status}")
    return elapsed, body


# --- measurement ----------------------------------------------------------------------------------------


def first_difference(left: str, right: str, context: int = 80) -> list[str]:
    at = next(
        (i for i, (a, b) in enumerate(zip(left, right, strict=False)) if a != b), min(len(left), len(right))
    )
    return [left[max(0, at - context) : at + context], right[max(0, at - context) : at + context]]


def check_pages(variants: list[Variant]) -> dict[str, Any]:
    """Both builds serve the same page: 50 listed documents, the same text (tokens and nonces aside)."""
    checks: dict[str, Any] = {}
    for page in PAGES:
        normalised = []
        for variant in variants:
            _elapsed, body = timed_get(variant, page)
            variant.bodies[page] = body
            text = VOLATILE.sub(r'\1=""', body.decode())
            text = UUID_OR_TIME.sub("X", text)
            normalised.append(text)
        checks[f"{page}_bytes"] = {v.name: len(v.bodies[page]) for v in variants}
        checks[f"{page}_same_html"] = normalised[0] == normalised[1]
        if normalised[0] != normalised[1]:
            checks[f"{page}_first_difference"] = first_difference(normalised[0], normalised[1])
    checks["room_links"] = {
        v.name: len(set(DOCUMENT_LINK.findall(v.bodies["room"].decode()))) for v in variants
    }
    for variant in variants:
        if checks["room_links"][variant.name] != LISTED:
            raise RuntimeError(f"{variant.name}: the room page lists {checks['room_links'][variant.name]}")
    return checks


def measure(
    variants: list[Variant], requests: int, warmup: int, max_seconds: float, progress: Callable[[str], None]
) -> dict[str, Any]:
    for _round in range(warmup):
        for page in PAGES:
            for variant in variants:
                timed_get(variant, page)
    paired: dict[str, list[float]] = {page: [] for page in PAGES}
    started = time.monotonic()
    rounds = 0
    stopped_early = False
    while rounds < requests:
        if time.monotonic() - started > max_seconds:
            stopped_early = True
            break
        order = variants if rounds % 2 == 0 else list(reversed(variants))
        for page in PAGES:
            seen: dict[str, float] = {}
            for variant in order:
                elapsed, _body = timed_get(variant, page)
                variant.samples[page].append(elapsed)
                seen[variant.name] = elapsed
            paired[page].append(seen["encrypted"] - seen["plaintext"])
        rounds += 1
        if rounds % 100 == 0:
            progress(f"  {rounds}/{requests} rounds, {time.monotonic() - started:.0f} s")
    return {
        "rounds": rounds,
        "seconds": round(time.monotonic() - started, 1),
        "stopped_early": stopped_early,
        "paired_difference_ms": {
            page: {
                "median": round(statistics.median(values) * 1000, 3),
                "mean": round(statistics.fmean(values) * 1000, 3),
            }
            for page, values in paired.items()
            if values
        },
    }


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summary(values: list[float]) -> dict[str, float | int]:
    return {
        "requests": len(values),
        "median_ms": round(statistics.median(values) * 1000, 3),
        "p95_ms": round(percentile(values, 0.95) * 1000, 3),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
        "min_ms": round(min(values) * 1000, 3),
        "max_ms": round(max(values) * 1000, 3),
    }


# --- memory and in-process component cost --------------------------------------------------------------


def _status_kib(pid: int, field_name: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


def memory(variant: Variant) -> dict[str, Any]:
    """Peak resident set (VmHWM) of the gunicorn master and of each worker, and each worker's resident set
    at the end of the run (VmRSS), in MiB. A worker's peak includes the sign-in's argon2 hash."""
    assert variant.process is not None
    master = variant.process.pid
    workers = children(master)
    peaks = [_status_kib(pid, "VmHWM") for pid in workers]
    return {
        "master_peak_rss_mib": round(_status_kib(master, "VmHWM") / 1024, 1),
        "worker_peak_rss_mib": [round(kib / 1024, 1) for kib in peaks],
        "worker_rss_at_end_mib": [round(_status_kib(pid, "VmRSS") / 1024, 1) for pid in workers],
        "total_peak_rss_mib": round((_status_kib(master, "VmHWM") + sum(peaks)) / 1024, 1),
    }


def component_cost(variant: Variant, key_file: Path, repeat: int = 200) -> dict[str, float]:
    """In this process, without HTTP: the time to open what each page opens (the room's 50 titles; one
    document's title, body and reason) through the keyring, data-key cache warm. The rest of a request
    is the same work in both builds."""
    database = make_database(variant.settings(key_file))
    timings: dict[str, float] = {}
    try:
        with identity_cipher(variant.plaintext), database.session_scope() as session:
            listed = list(
                session.scalars(select(Document).where(Document.subcommittee_id == variant.room_id))
            )
            shown = session.get(Document, variant.document_id)
            assert shown is not None
            grants = {d.id: policy.maintenance_grant("document", d.id) for d in listed}

            def room_opens() -> None:
                for d in listed:
                    documents.open_text(session, grants[d.id], d, with_body=False)

            def document_opens() -> None:
                documents.open_text(session, grants[shown.id], shown)

            for name, work in (("room_opens", room_opens), ("document_opens", document_opens)):
                for _ in range(5):  # the first call unwraps the data key
                    work()
                samples = []
                for _ in range(repeat):
                    started = time.perf_counter()
                    work()
                    samples.append(time.perf_counter() - started)
                timings[f"{name}_median_us"] = round(statistics.median(samples) * 1e6, 1)
            session.rollback()
    finally:
        database.dispose()
    return timings


# --- report ---------------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": [round(value, 2) for value in load],
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| page | build | requests | median ms | p95 ms | mean ms |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for page in PAGES:
        for name in VARIANTS:
            row = result["pages"][page][name]
            lines.append(
                f"| {page} | {name} | {row['requests']} | {row['median_ms']:.2f} | {row['p95_ms']:.2f} "
                f"| {row['mean_ms']:.2f} |"
            )
    lines += [
        "",
        "| page | median ratio enc/plain | p95 ratio enc/plain | paired median Δ ms | ≤ 1.15x (median) |",
        "|---|---:|---:|---:|:---:|",
    ]
    for page in PAGES:
        ratios = result["pages"][page]["ratio"]
        delta = result["run"]["paired_difference_ms"][page]["median"]
        met = "yes" if ratios["median"] <= TARGET_RATIO else "NO"
        lines.append(f"| {page} | {ratios['median']:.3f} | {ratios['p95']:.3f} | {delta:+.2f} | {met} |")
    return "\n".join(lines)


@contextlib.contextmanager
def temporary_directory(keep: bool) -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    try:
        yield directory
    finally:
        if keep:
            print(f"kept {directory}", file=sys.stderr)
        else:
            shutil.rmtree(directory, ignore_errors=True)


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    from portal.security.keys import create_key_file

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    began = time.monotonic()
    result: dict[str, Any] = {
        "benchmark": "seal_cost",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "bench/seal_cost.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "settings": {
            "requests_per_page_per_build": arguments.requests,
            "warmup_rounds": arguments.warmup,
            "workers_per_server": arguments.workers,
            "max_seconds": arguments.max_seconds,
            "database": "SQLite (one file per build, WAL)",
            "client": "sequential, one request in flight, new TCP connection per request, 127.0.0.1",
        },
    }
    with temporary_directory(arguments.keep) as directory:
        key_file = directory / "portal.key"
        create_key_file(key_file)
        secret_key = secrets.token_urlsafe(48)
        variants = [
            Variant(
                name,
                directory / name,
                f"sqlite:///{directory / name / 'portal.sqlite3'}",
                name == "plaintext",
            )
            for name in VARIANTS
        ]
        progress("seeding two databases (demo data + generated documents)...")
        seeded = {v.name: prepare(v, key_file) for v in variants}
        result["data"] = {
            "room": ROOM_NAME,
            "reader": READER,
            "documents_listed": {name: listed for name, (listed, _b) in seeded.items()},
            "document_body_bytes": {name: size for name, (_l, size) in seeded.items()},
        }
        result["component_cost_in_process"] = {v.name: component_cost(v, key_file) for v in variants}
        try:
            progress("starting gunicorn (encrypted and plaintext builds)...")
            for variant in variants:
                start(variant, key_file, secret_key, arguments.workers)
            wait_until_ready(variants)
            for variant in variants:
                sign_in(variant, key_file)
            result["checks"] = check_pages(variants)
            progress(f"measuring: {arguments.warmup} warm-up rounds, then {arguments.requests} rounds...")
            result["run"] = measure(
                variants, arguments.requests, arguments.warmup, arguments.max_seconds, progress
            )
            result["memory"] = {v.name: memory(v) for v in variants}
        finally:
            for variant in variants:
                stop(variant)
    pages: dict[str, Any] = {}
    for page in PAGES:
        by_name: dict[str, Any] = {v.name: summary(v.samples[page]) for v in variants}
        by_name["ratio"] = {
            "median": round(by_name["encrypted"]["median_ms"] / by_name["plaintext"]["median_ms"], 3),
            "p95": round(by_name["encrypted"]["p95_ms"] / by_name["plaintext"]["p95_ms"], 3),
        }
        by_name["target_met"] = by_name["ratio"]["median"] <= TARGET_RATIO
        pages[page] = by_name
    result["pages"] = pages
    result["target"] = {"ratio": TARGET_RATIO, "met": all(p["target_met"] for p in pages.values())}
    result["total_seconds"] = round(time.monotonic() - began, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=1000, help="measured requests per page per build")
    parser.add_argument("--warmup", type=int, default=50, help="warm-up rounds (not measured)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--max-seconds", type=float, default=150.0, help="stop measuring after this long")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance (for debugging)")
    arguments = parser.parse_args(argv)
    result = run(arguments)
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = results / f"seal_cost-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    print(markdown(result))
    print()
    run_info = result["run"]
    print(f"rounds: {run_info['rounds']} in {run_info['seconds']} s; total {result['total_seconds']} s")
    print(f"same HTML in both builds: room {result['checks']['room_same_html']}, ", end="")
    print(f"document {result['checks']['document_same_html']}")
    print(f"peak RSS (MiB): { {k: v['total_peak_rss_mib'] for k, v in result['memory'].items()} }")
    print(f"in-process opens (µs): {result['component_cost_in_process']}")
    print(f"results: {path.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
