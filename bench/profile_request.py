"""Profile one page of a seeded database in-process (no HTTP): where a request's time goes.

    .venv/bin/python bench/profile_request.py --database-url URL [--page room|document] [--repeat 50]

Signs in the first benchmark reader through the Flask test client (password and TOTP, as the browser does),
requests the page ``--repeat`` times under cProfile, and prints the top functions by cumulative time, the
median time of a request, and how many SQL statements one request runs.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import statistics
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH.parent
for _path in (PROJECT_ROOT, BENCH):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import seed as seeding  # noqa: E402
from http_bench import SEARCH_QUERY  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.documents.models import Document  # noqa: E402
from portal.security import mfa  # noqa: E402

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--page", default="room", choices=["room", "document", "search"])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--level", type=int, default=1, help="document page: a document of this level")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime, ...")
    parser.add_argument("--filter", help="only functions whose path matches (e.g. portal/)")
    arguments = parser.parse_args(argv)
    manifest = json.loads(seeding.manifest_path(arguments.database_url).read_text(encoding="utf-8"))
    #: The last reader: the HTTP benchmark signs in the first ones.
    reader = manifest["readers"][-1]
    app = create_app(
        {
            "env": "production",
            "secret_key": "profile-secret-key-that-is-long-enough-0123456789",
            "database_url": manifest["database_url"],
            "instance_path": manifest["instance"],
            "key_file": manifest["key_file"],
        }
    )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    client.post(
        "/login",
        data={"email": reader["email"], "password": manifest["password"], "csrf_token": CSRF.search(page)[1]},
    )
    for _attempt in range(2):  # a code is accepted once: after a recent sign-in, wait for the next one
        page = client.get("/login/mfa").get_data(as_text=True)
        code = mfa.current_code(manifest["secrets"][reader["email"]])
        response = client.post("/login/mfa", data={"code": code, "csrf_token": CSRF.search(page)[1]})
        if response.status_code == 302:
            break
        time.sleep(mfa.TIME_STEP_SECONDS - time.time() % mfa.TIME_STEP_SECONDS + 1)
    assert response.status_code == 302, response.status_code
    room = reader["rooms"][0]
    path = f"/rooms/{room}"
    if arguments.page == "document":
        engine = app.extensions["portal_db"].engine
        with engine.connect() as connection:
            document = connection.scalar(
                select(Document.id)
                .where(Document.subcommittee_id == room, Document.level == arguments.level)
                .limit(1)
            )
        path = f"/rooms/{room}/documents/{document}"
    if arguments.page == "search":
        path = "/search?" + urllib.parse.urlencode({"q": SEARCH_QUERY})
    statements: list[list[Any]] = []
    engine = app.extensions["portal_db"].engine
    event.listen(
        engine, "before_cursor_execute", lambda *args: statements.append([args[2], time.perf_counter()])
    )
    event.listen(engine, "after_cursor_execute", lambda *args: statements[-1].append(time.perf_counter()))
    for _ in range(5):
        assert client.get(path).status_code == 200
    spent: dict[str, list[float]] = {}
    for _ in range(10):
        statements.clear()
        client.get(path)
        for statement, started, *ended in statements:
            spent.setdefault(statement, []).append((ended[0] - started) if ended else 0.0)
    print(f"{len(statements)} SQL statements in one request of {path} (median ms of 10 requests)")
    for statement, seconds in spent.items():
        print(f"  {statistics.median(seconds) * 1000:6.2f}", " ".join(statement.split())[:140])
    times = []
    for _ in range(arguments.repeat):
        started = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - started)
    print(f"median {statistics.median(times) * 1000:.1f} ms over {arguments.repeat} requests (no profiler)")
    profiler = cProfile.Profile()
    for _ in range(arguments.repeat):
        profiler.enable()
        client.get(path)
        profiler.disable()
    pstats.Stats(profiler).sort_stats(arguments.sort).print_stats(arguments.filter or "", arguments.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
