"""The portal at scale, over HTTP, with concurrent clients.

    .venv/bin/python bench/http_bench.py
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench
        [--clients 8] [--requests 400] [--warmup 20] [--workers 2] [--max-seconds 120] [--scenarios a,b]

It reads the manifest ``bench/seed.py`` wrote for that database (key file, the benchmark readers' TOTP
secrets), starts gunicorn (``portal.wsgi:app``, ``--workers`` sync workers, production settings) on a free
port of 127.0.0.1, signs in ``--clients`` readers for real (password, then TOTP; once each, then the cookie
is reused), and runs each scenario: ``--warmup`` requests, then ``--requests`` measured ones, shared by
``--clients`` threads each holding one reader's session, stopping after ``--max-seconds`` at most.

Scenarios (:data:`SCENARIOS`): ``room`` (page 1 of a room the reader belongs to), ``document`` (random
documents the reader may read, chosen with the portal's own SQL filter), ``search`` (``/search?q=レアアース
輸出規制``) and ``download`` (a 20 MB attachment, paths from the manifest's ``extras["downloads"]``). A
scenario whose route is not in this build (404, or no targets) is reported as not available.

For each: median and p95 latency (nearest rank; connect to last byte, as the client sees it, so it
includes waiting for a free worker), throughput, the status codes (anything but 200 is a failure), and the
resident memory of the gunicorn master and workers from /proc: before, the peak (sampled every 20 ms)
and after. Prints a Markdown table and writes the figures to ``bench/results/http-<db>-<time>.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
for _path in (PROJECT_ROOT, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import seed as seeding  # noqa: E402
from seal_cost import children, csrf_token, free_port, machine, percentile  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal.accounts.models import User  # noqa: E402
from portal.db import utcnow  # noqa: E402
from portal.documents.models import Document  # noqa: E402
from portal.security import mfa, policy  # noqa: E402

SEARCH_QUERY = "レアアース 輸出規制"
#: How many documents each reader's document scenario picks from.
DOCUMENTS_PER_READER = 300
#: Latency targets (p95, ms) from the issue; the download target is on memory instead.
TARGETS_P95_MS = {"room": 100.0, "document": 100.0, "search": 300.0}
DOWNLOAD_MEMORY_TARGET_MIB = 32.0


# --- the server -----------------------------------------------------------------------------------------


@dataclass
class Server:
    manifest: dict[str, Any]
    workers: int
    directory: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    #: gunicorn ``--threads``: 1 is the sync worker; more is the gthread worker (threads share the GIL: they
    #: overlap waiting for PostgreSQL, not Python's CPU).
    threads: int = 1

    def environment(self) -> dict[str, str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        environment.update(
            # Production settings, as deployed: no template reloading, a real secret key.
            PORTAL_ENV="production",
            PORTAL_SECRET_KEY=secrets.token_urlsafe(48),
            PORTAL_DATABASE_URL=self.manifest["database_url"],
            PORTAL_INSTANCE_PATH=self.manifest["instance"],
            PORTAL_KEY_FILE=self.manifest["key_file"],
            PYTHONDONTWRITEBYTECODE="1",
        )
        return environment

    def start(self) -> None:
        self.port = free_port()
        self.directory.mkdir(parents=True, exist_ok=True)
        arguments = [
            sys.executable, "-m", "gunicorn", "portal.wsgi:app",
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers),
            "--control-socket", str(self.directory / "gunicorn.ctl"),
            "--log-level", "warning",
            *(["--threads", str(self.threads)] if self.threads > 1 else []),
        ]  # fmt: skip
        log = (self.directory / "gunicorn.log").open("wb")
        self.process = subprocess.Popen(
            arguments,
            cwd=PROJECT_ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200 and len(self.pids()) > self.workers:
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready after 60 s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        return (self.directory / "gunicorn.log").read_text(errors="replace")[-3000:]

    def pids(self) -> list[int]:
        assert self.process is not None
        return [self.process.pid, *children(self.process.pid)]

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class MemorySampler:
    """The resident set of every server process, sampled in a thread while a scenario runs."""

    def __init__(self, server: Server, interval: float = 0.02) -> None:
        self.server = server
        self.interval = interval
        self.peak_total = 0
        self.peak_by_pid: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def snapshot(self) -> dict[int, int]:
        return {pid: rss_kib(pid) for pid in self.server.pids()}

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = self.snapshot()
            self.peak_total = max(self.peak_total, sum(sizes.values()))
            for pid, size in sizes.items():
                self.peak_by_pid[pid] = max(self.peak_by_pid.get(pid, 0), size)
            self._stop.wait(self.interval)

    def __enter__(self) -> MemorySampler:
        self.before = self.snapshot()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.snapshot()

    def figures(self) -> dict[str, Any]:
        def mib(kib: float) -> float:
            return round(kib / 1024, 1)

        before_total = sum(self.before.values())
        worker_growth = [
            self.peak_by_pid.get(pid, size) - size for pid, size in self.before.items() if pid != self.master
        ]
        return {
            "before_total_mib": mib(before_total),
            "peak_total_mib": mib(self.peak_total),
            "after_total_mib": mib(sum(self.after.values())),
            "growth_total_mib": mib(self.peak_total - before_total),
            "max_worker_growth_mib": mib(max(worker_growth, default=0)),
            "per_process_before_mib": {str(pid): mib(size) for pid, size in self.before.items()},
            "per_process_peak_mib": {str(pid): mib(size) for pid, size in self.peak_by_pid.items()},
        }

    @property
    def master(self) -> int:
        assert self.server.process is not None
        return self.server.process.pid


# --- clients --------------------------------------------------------------------------------------------


@dataclass
class Client:
    """One signed-in reader: a cookie jar over new connections (gunicorn's sync workers close each one)."""

    email: str
    port: int
    user_id: uuid.UUID | None = None
    rooms: list[str] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, sink: bool = False
    ) -> tuple[int, http.client.HTTPMessage, bytes, int]:
        """One request; returns status, headers, the body (empty with ``sink``) and its size in bytes."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Accept-Language": "ja"}
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            body = None
            if form is not None:
                body = urllib.parse.urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            if sink:  # a large download: count it, keep none of it
                size = 0
                while chunk := response.read(1 << 16):
                    size += len(chunk)
                content = b""
            else:
                content = response.read()
                size = len(content)
            for cookie in response.headers.get_all("Set-Cookie") or []:
                name, _, rest = cookie.partition("=")
                value = rest.split(";", 1)[0]
                if value and "Max-Age=0" not in cookie and "expires=Thu, 01 Jan 1970" not in cookie:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
            return response.status, response.headers, content, size
        finally:
            connection.close()

    def sign_in(self, password: str, totp_secret: str) -> None:
        """Password, then the current TOTP code, as a person does; once per client."""
        _status, _headers, page, _size = self.request("GET", "/login")
        status, headers, _body, _size = self.request(
            "POST", "/login", {"email": self.email, "password": password, "csrf_token": csrf_token(page)}
        )
        if status != 302 or "/login/mfa" not in (headers.get("Location") or ""):
            raise RuntimeError(f"{self.email}: the password step answered {status}")
        _status, _headers, page, _size = self.request("GET", "/login/mfa")
        status, headers, _body, _size = self.request(
            "POST", "/login/mfa", {"code": mfa.current_code(totp_secret), "csrf_token": csrf_token(page)}
        )
        if status != 302 or "/login" in (headers.get("Location") or ""):
            raise RuntimeError(f"{self.email}: the second factor answered {status}")


# --- scenarios ------------------------------------------------------------------------------------------


@dataclass
class Context:
    manifest: dict[str, Any]
    database: Any
    rng: random.Random


#: A scenario's targets for one client: the paths it requests (picked at random). No paths: not available.
Targets = Callable[[Context, Client], list[str]]


def room_targets(_context: Context, client: Client) -> list[str]:
    return [f"/rooms/{room_id}" for room_id in client.rooms]


def document_targets(context: Context, client: Client) -> list[str]:
    """Documents this reader may read, by the portal's own SQL filter, a random sample of them."""
    with context.database.session_scope() as session:
        user = session.get(User, client.user_id)
        subject = policy.load_subject(session, user, utcnow())
        rows = session.execute(
            select(Document.subcommittee_id, Document.id).where(policy.visible_documents(subject))
        ).all()
    rows.sort()
    picked = context.rng.sample(rows, min(DOCUMENTS_PER_READER, len(rows)))
    return [f"/rooms/{room_id}/documents/{document_id}" for room_id, document_id in picked]


def search_targets(_context: Context, _client: Client) -> list[str]:
    return ["/search?" + urllib.parse.urlencode({"q": SEARCH_QUERY})]


def download_entries(context: Context) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = context.manifest.get("extras", {}).get("downloads", [])
    return entries


def download_targets(context: Context, client: Client) -> list[str]:
    """Attachment downloads, as recorded by the seeding step that made them: ``manifest["extras"]
    ["downloads"]`` is a list of ``{"path": "/...", "bytes": n, "room": id}``; a client gets those in its
    own rooms (an entry without a room is for everyone)."""
    return [
        entry["path"]
        for entry in download_entries(context)
        if "room" not in entry or entry["room"] in client.rooms
    ]


@dataclass(frozen=True)
class Scenario:
    name: str
    targets: Targets
    #: Measured requests, when not ``--requests`` (a 20 MB download takes longer than a page).
    requests: int | None = None
    #: Read the body in chunks and keep none of it.
    sink: bool = False


#: The lead adds or changes scenarios here (e.g. another search query).
SCENARIOS: list[Scenario] = [
    Scenario("room", room_targets),
    Scenario("document", document_targets),
    Scenario("search", search_targets),
    Scenario("download", download_targets, requests=80, sink=True),
]


@dataclass
class Sample:
    seconds: float
    status: int
    size: int


def run_scenario(
    scenario: Scenario,
    clients: list[Client],
    targets: dict[str, list[str]],
    server: Server,
    requests: int,
    warmup: int,
    max_seconds: float,
    expected_bytes: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Warm-up, then ``requests`` measured requests by one thread per client, sharing one bounded count."""
    expected_bytes = expected_bytes or {}
    lock = threading.Lock()
    tickets = {"left": 0}
    samples: list[Sample] = []
    stop_at = [0.0]

    def take() -> bool:
        with lock:
            if tickets["left"] <= 0 or time.monotonic() > stop_at[0]:
                return False
            tickets["left"] -= 1
            return True

    def work(client: Client, seed: int, keep: bool) -> None:
        rng = random.Random(seed)
        paths = targets[client.email]
        while take():
            path = rng.choice(paths)
            started = time.perf_counter()
            try:
                status, _headers, _body, size = client.request("GET", path, sink=scenario.sink)
            except (OSError, http.client.HTTPException):
                status, size = 0, 0
            elapsed = time.perf_counter() - started
            if status == 200 and path in expected_bytes and size != expected_bytes[path]:
                status = -1  # a short or long body: a failure, whatever the status line said
            if keep:
                with lock:
                    samples.append(Sample(elapsed, status, size))

    def phase(count: int, keep: bool) -> float:
        tickets["left"] = count
        stop_at[0] = time.monotonic() + max_seconds
        threads = [
            threading.Thread(target=work, args=(client, index * 7919 + count, keep))
            for index, client in enumerate(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    if scenario.sink:
        # A download's growth counts from before its first request (warm-up included): the worst case.
        with MemorySampler(server) as sampler:
            phase(warmup, keep=False)
            wall = phase(requests, keep=True)
    else:
        phase(warmup, keep=False)
        with MemorySampler(server) as sampler:
            wall = phase(requests, keep=True)
    times = [s.seconds for s in samples]
    statuses = Counter(str(s.status) for s in samples)
    return {
        "requests": len(samples),
        "stopped_early": len(samples) < requests,
        "wall_seconds": round(wall, 2),
        "throughput_rps": round(len(samples) / wall, 1) if wall else 0.0,
        "median_ms": round(statistics.median(times) * 1000, 1) if times else None,
        "p95_ms": round(percentile(times, 0.95) * 1000, 1) if times else None,
        "max_ms": round(max(times) * 1000, 1) if times else None,
        "statuses": dict(statuses),
        "failures": sum(count for status, count in statuses.items() if status != "200"),
        "median_bytes": int(statistics.median(s.size for s in samples)) if samples else 0,
        "memory": sampler.figures(),
    }


# --- running --------------------------------------------------------------------------------------------


def markdown(result: dict[str, Any]) -> str:
    lines = [
        "| scenario | requests | median ms | p95 ms | req/s | statuses | RSS before → peak → after MiB "
        "(max worker growth) | target |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for name, row in result["scenarios"].items():
        if "unavailable" in row:
            lines.append(
                f"| {name} | — | — | — | — | — | — | not available in this build ({row['unavailable']}) |"
            )
            continue
        memory = row["memory"]
        if name in TARGETS_P95_MS:
            met = row["p95_ms"] < TARGETS_P95_MS[name]
            target = f"p95 < {TARGETS_P95_MS[name]:.0f} ms: {'met' if met else 'MISSED'}"
        elif name == "download":
            met = memory["max_worker_growth_mib"] < DOWNLOAD_MEMORY_TARGET_MIB
            target = f"growth < {DOWNLOAD_MEMORY_TARGET_MIB:.0f} MiB: {'met' if met else 'MISSED'}"
        else:
            target = ""
        statuses = ", ".join(f"{k}×{v}" for k, v in sorted(row["statuses"].items()))
        lines.append(
            f"| {name} | {row['requests']} | {row['median_ms']} | {row['p95_ms']} | {row['throughput_rps']} "
            f"| {statuses} | {memory['before_total_mib']} → {memory['peak_total_mib']} → "
            f"{memory['after_total_mib']} ({memory['max_worker_growth_mib']:+}) | {target} |"
        )
    return "\n".join(lines)


def run(arguments: argparse.Namespace) -> dict[str, Any]:
    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    manifest_file = arguments.manifest or seeding.manifest_path(arguments.database_url)
    manifest = json.loads(Path(manifest_file).read_text(encoding="utf-8"))
    readers = manifest["readers"][: arguments.clients]
    if len(readers) < arguments.clients:
        raise SystemExit(f"the seed has {len(readers)} benchmark readers, fewer than --clients")
    database, _instance, _key = seeding.open_database(
        seeding.Options(database_url=manifest["database_url"], instance=Path(manifest["instance"]))
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    label = seeding.database_label(manifest["database_url"])
    result: dict[str, Any] = {
        "benchmark": "http_bench",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "bench/http_bench.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "data": {"database": label, **manifest.get("counts", {}), "levels": manifest.get("levels")},
        "settings": {
            "clients": arguments.clients,
            "requests": arguments.requests,
            "warmup": arguments.warmup,
            "workers": arguments.workers,
            "threads": arguments.threads,
            "max_seconds": arguments.max_seconds,
            "server": "gunicorn portal.wsgi:app, sync workers, PORTAL_ENV=production",
            "client": "one thread per signed-in reader, new TCP connection per request, 127.0.0.1",
        },
        "scenarios": {},
    }
    server = Server(
        manifest, arguments.workers, seeding.RESULTS / f"http-{label}-{stamp}", threads=arguments.threads
    )
    try:
        say(f"starting gunicorn ({arguments.workers} workers) on {label}...")
        server.start()
        clients = []
        with database.session_scope() as session:
            ids = dict(session.execute(select(User.email, User.id)).all())
        for reader in readers:
            client = Client(reader["email"], server.port, ids[reader["email"]], reader["rooms"])
            client.sign_in(manifest["password"], manifest["secrets"][reader["email"]])
            clients.append(client)
        say(f"signed in {len(clients)} readers")
        context = Context(manifest, database, random.Random(2026))
        wanted = arguments.scenarios.split(",") if arguments.scenarios else [s.name for s in SCENARIOS]
        for scenario in SCENARIOS:
            if scenario.name not in wanted:
                continue
            targets = {client.email: scenario.targets(context, client) for client in clients}
            if not all(targets.values()):
                result["scenarios"][scenario.name] = {"unavailable": "no targets (nothing seeded for it)"}
                say(f"{scenario.name}: not available in this build (no targets)")
                continue
            probe = clients[0].request("GET", targets[clients[0].email][0], sink=True)[0]
            if probe == 404:
                result["scenarios"][scenario.name] = {"unavailable": "the route answers 404"}
                say(f"{scenario.name}: not available in this build (404)")
                continue
            requests = scenario.requests or arguments.requests
            say(
                f"{scenario.name}: {arguments.warmup} warm-up, {requests} measured, {len(clients)} clients..."
            )
            expected = {entry["path"]: int(entry["bytes"]) for entry in download_entries(context)}
            row = run_scenario(
                scenario,
                clients,
                targets,
                server,
                requests,
                arguments.warmup,
                arguments.max_seconds,
                expected if scenario.sink else None,
            )
            row["loadavg_after"] = [round(value, 2) for value in os.getloadavg()]
            result["scenarios"][scenario.name] = row
            say(f"  median {row['median_ms']} ms, p95 {row['p95_ms']} ms, {row['throughput_rps']} req/s")
    finally:
        server.stop()
        database.dispose()
    path = arguments.output or seeding.RESULTS / f"http-{label}-{stamp}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(result))
    print(f"\nload average at start: {result['machine']['loadavg_at_start']}; figures in {path}")
    return result


def compare(paths: list[Path]) -> str:
    """How the figures grow from one result to the next (e.g. 10,000 and 100,000 documents)."""
    results = [json.loads(path.read_text(encoding="utf-8")) for path in paths]
    sizes = [result["data"].get("documents") for result in results]
    lines = [
        "| scenario | "
        + " | ".join(f"{size:,} docs: median / p95 ms, req/s" for size in sizes)
        + " | p95 growth |",
        "|---|" + "---:|" * (len(sizes) + 1),
    ]
    for name in results[0]["scenarios"]:
        rows = [result["scenarios"].get(name, {}) for result in results]
        if any("unavailable" in row or not row for row in rows):
            lines.append(f"| {name} | " + " | ".join("—" for _ in rows) + " | not available |")
            continue
        cells = [f"{row['median_ms']} / {row['p95_ms']}, {row['throughput_rps']}" for row in rows]
        growth = rows[-1]["p95_ms"] / rows[0]["p95_ms"] if rows[0]["p95_ms"] else float("nan")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {growth:.2f}x |")
    loads = ", ".join(str(result["machine"]["loadavg_at_start"][0]) for result in results)
    return "\n".join(lines) + f"\n\n1-minute load average at the start of each run: {loads}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--compare", nargs="+", type=Path, help="print the growth between result files")
    parser.add_argument(
        "--output", type=Path, help="result file (default bench/results/http-<db>-<time>.json)"
    )
    parser.add_argument("--database-url")
    parser.add_argument("--manifest", type=Path, help="default: bench/results/seed-<database>.json")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn --threads (1: sync workers)")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="per scenario phase")
    parser.add_argument(
        "--scenarios", help="comma-separated subset of: " + ",".join(s.name for s in SCENARIOS)
    )
    arguments = parser.parse_args(argv)
    if arguments.compare:
        print(compare(arguments.compare))
        return 0
    if not arguments.database_url:
        parser.error("--database-url is required")
    run(arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
