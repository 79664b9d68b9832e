"""The same scenarios as ``http_bench.py``, driven by ``wrk`` (C, epoll) instead of Python threads.

    .venv/bin/python bench/wrk_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_bench_100000
        [--scenarios room,document,search] [--connections 8] [--duration 20] [--workers 2]

The Python client of ``http_bench.py`` spends CPU on the same two cores as the server (8 threads, the GIL,
http.client); wrk costs far less, so its figures are closer to what the server alone can do. It starts
gunicorn exactly as ``http_bench.py`` does (``Server``), signs in ``--connections`` benchmark readers for real
(password and TOTP), and gives each wrk thread (one connection each) one reader's cookie and that reader's
paths (``http_bench.SCENARIOS``), rotating through them. It runs a 5-second warm-up, then ``--duration``
seconds with ``--latency``, and prints wrk's median and p99 plus the p95 it derives from wrk's latency
distribution (``done`` callback), the throughput, non-2xx answers and the server's RSS before and after.
Needs ``wrk`` on the PATH (Debian: ``apt-get install wrk``). Writes ``bench/results/wrk-<db>-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
for _path in (PROJECT_ROOT, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import http_bench  # noqa: E402
import seed as seeding  # noqa: E402
from seal_cost import machine  # noqa: E402
from sqlalchemy import select  # noqa: E402

from portal.accounts.models import User  # noqa: E402

LUA = """
local readers = %(readers)s
local counter = 0
function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end
function init(args)
  me = readers[(index %% #readers) + 1]
  position = 0
end
function request()
  position = position + 1
  local path = me.paths[(position %% #me.paths) + 1]
  return wrk.format("GET", path, {["Cookie"] = me.cookie, ["Accept-Language"] = "ja"})
end
function done(summary, latency, requests)
  io.write(string.format("JSON {\\"p50_us\\": %%d, \\"p95_us\\": %%d, \\"p99_us\\": %%d, " ..
    "\\"requests\\": %%d, " ..
    "\\"non2xx\\": %%d, \\"errors\\": %%d}\\n", latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.requests, summary.errors.status, summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def script(entries: list[tuple[str, list[str]]]) -> str:
    readers = ", ".join(
        "{cookie = " + lua_string(cookie) + ", paths = {" + ", ".join(lua_string(p) for p in paths) + "}}"
        for cookie, paths in entries
    )
    return LUA % {"readers": "{" + readers + "}"}


def run_wrk(port: int, lua: Path, connections: int, seconds: int, latency: bool) -> str:
    arguments = [
        "wrk",
        f"-t{connections}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(lua),
    ]
    if latency:
        arguments.append("--latency")
    arguments.append(f"http://127.0.0.1:{port}")
    return subprocess.run(arguments, check=True, capture_output=True, text=True, timeout=seconds + 60).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--scenarios", default="room,document,search")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn --threads (1: sync workers)")
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    manifest = json.loads(seeding.manifest_path(arguments.database_url).read_text(encoding="utf-8"))
    readers = manifest["readers"][: arguments.connections]
    database, _instance, _key = seeding.open_database(
        seeding.Options(database_url=manifest["database_url"], instance=Path(manifest["instance"]))
    )
    label = seeding.database_label(manifest["database_url"])
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    result: dict[str, Any] = {
        "benchmark": "wrk_bench",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "bench/wrk_bench.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "settings": {"connections": arguments.connections, "threads": arguments.connections,
                     "duration_s": arguments.duration, "workers": arguments.workers,
                     "gunicorn_threads": arguments.threads},
        "scenarios": {},
    }  # fmt: skip
    server = http_bench.Server(
        manifest, arguments.workers, seeding.RESULTS / f"wrk-{label}-{stamp}", threads=arguments.threads
    )
    try:
        server.start()
        with database.session_scope() as session:
            ids = dict(session.execute(select(User.email, User.id)).all())
        clients = []
        for reader in readers:
            client = http_bench.Client(reader["email"], server.port, ids[reader["email"]], reader["rooms"])
            client.sign_in(manifest["password"], manifest["secrets"][reader["email"]])
            clients.append(client)
        context = http_bench.Context(manifest, database, random.Random(2026))
        wanted = arguments.scenarios.split(",")
        with tempfile.TemporaryDirectory() as folder:
            for scenario in http_bench.SCENARIOS:
                if scenario.name not in wanted:
                    continue
                entries = [
                    (
                        "; ".join(f"{k}={v}" for k, v in client.cookies.items()),
                        scenario.targets(context, client),
                    )
                    for client in clients
                ]
                lua = Path(folder) / f"{scenario.name}.lua"
                lua.write_text(script(entries), encoding="utf-8")
                run_wrk(server.port, lua, arguments.connections, 5, latency=False)  # warm-up
                load = [round(value, 2) for value in os.getloadavg()]
                before = sum(http_bench.rss_kib(pid) for pid in server.pids())
                output = run_wrk(server.port, lua, arguments.connections, arguments.duration, latency=True)
                after = sum(http_bench.rss_kib(pid) for pid in server.pids())
                figures = json.loads(re.search(r"^JSON (.*)$", output, re.MULTILINE)[1])  # type: ignore[index]
                row = {
                    "median_ms": round(figures["p50_us"] / 1000, 1),
                    "p95_ms": round(figures["p95_us"] / 1000, 1),
                    "p99_ms": round(figures["p99_us"] / 1000, 1),
                    "requests": figures["requests"],
                    "throughput_rps": round(figures["requests"] / arguments.duration, 1),
                    "non2xx": figures["non2xx"],
                    "socket_errors": figures["errors"],
                    "loadavg_at_start": load,
                    "rss_before_after_mib": [round(before / 1024, 1), round(after / 1024, 1)],
                    "wrk_output": output,
                }
                result["scenarios"][scenario.name] = row
                print(
                    f"{scenario.name}: median {row['median_ms']} ms, p95 {row['p95_ms']} ms, "
                    f"p99 {row['p99_ms']} ms, {row['throughput_rps']} req/s, non-2xx {row['non2xx']}, "
                    f"load at start {load[0]}",
                    flush=True,
                )
    finally:
        server.stop()
        database.dispose()
    path = arguments.output or seeding.RESULTS / f"wrk-{label}-{stamp}.json"
    path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"figures in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
