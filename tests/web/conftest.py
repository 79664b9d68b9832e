"""Fixtures of the web tests: applications with configuration overrides on the test database."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from portal.db import Database
from portal.demo import load as load_demo
from tests.conftest import _empty_all_tables, make_app

AppFactory = Callable[..., Flask]


@pytest.fixture
def app_factory(database_url: str, tmp_path: Path) -> Iterator[AppFactory]:
    """Build applications on the test database with overrides, e.g. ``app_factory(throttle={...})``.

    ``demo=True`` loads the demo data first. Every table is emptied afterwards.
    """
    built: list[Flask] = []

    def build(demo: bool = False, **overrides: Any) -> Flask:
        instance = tmp_path / f"instance-{len(built)}"
        instance.mkdir()
        application = make_app(database_url, instance, **overrides)
        built.append(application)
        if demo:
            database: Database = application.extensions["portal_db"]
            with database.session_scope() as session:
                load_demo(session)
        return application

    yield build
    for application in built:
        database: Database = application.extensions["portal_db"]
        _empty_all_tables(database)
        database.dispose()
