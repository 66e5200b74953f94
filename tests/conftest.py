from __future__ import annotations

import ipaddress
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.core import Bot
from bot.router import Router
from knowledge.base import KnowledgeBase, load
from tests.processes import fake_slack  # noqa: F401 (a fixture: the fake Slack as a process)

POSTGRES_ENV = "PMO_TEST_POSTGRES_URL"
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load()


@pytest.fixture(scope="session")
def router(kb: KnowledgeBase) -> Router:
    return Router(kb)


@pytest.fixture
def bot(kb: KnowledgeBase) -> Bot:
    return Bot(kb)


@pytest.fixture(scope="session")
def snapshot_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the run: commands started by tests share the knowledge snapshot."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, snapshot_cache: Path, tmp_path: Path) -> Iterator[None]:
    """Tests never see the developer's own settings, cache or state (the ask command's last turn)."""
    for name in list(os.environ):
        if name.startswith(("PMO_", "SLACK_", "MICROSOFT_APP_")) and name != "PMO_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    # A database call the product makes on the event loop fails the test (in production it is
    # logged). A test's own set-up may query from its coroutine: that stalls nobody.
    monkeypatch.setattr("bot.storage.engine.on_loop", _product_on_loop)
    monkeypatch.setenv("XDG_CACHE_HOME", str(snapshot_cache))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    yield


PRODUCT = tuple(str(ROOT / folder) + os.sep for folder in ("bot", "jobs", "adapters"))
STORAGE = str(ROOT / "bot" / "storage") + os.sep
TESTS = str(ROOT / "tests") + os.sep


def _product_on_loop(statement: str) -> None:
    """Fails when the product queries on the loop by itself (a request, a task); a test's own
    coroutine calling in (its set-up, a direct call) is the test's business."""
    frame, found = sys._getframe(1), ""
    while frame is not None:
        name = frame.f_code.co_filename
        if name.startswith(TESTS):
            return
        if not found and name.startswith(PRODUCT) and not name.startswith(STORAGE):
            found = f"{name}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]
    if found:
        raise RuntimeError(f"a database call on the event loop, from {found}: {statement}")


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: object) -> None:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None:
        try:
            allowed = ipaddress.ip_address(host).is_loopback
        except ValueError:
            allowed = host == "localhost"
        if not allowed:
            raise AssertionError(f"test tried to reach {host}: tests may only use loopback")
    _real_connect(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection beyond loopback fails the test loudly."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


# Evaluation reports (router accuracy, review scores) that tests hand in, printed at the end of
# the run so that `make test` shows the figures without showing every test's captured output.
REPORTS: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if REPORTS:
        terminalreporter.section("evaluation reports")
        for report in REPORTS:
            terminalreporter.write_line(report)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database, not yet migrated."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pmo-bot.db'}"
        return
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} not set")
    schema = f"t_{uuid.uuid4().hex}"
    admin = create_engine(base)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
