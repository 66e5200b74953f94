from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import Bot
from bot.router import Router
from knowledge.base import KnowledgeBase, load

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


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see the developer's own settings."""
    for name in list(os.environ):
        if name.startswith(("PMO_", "SLACK_", "MICROSOFT_APP_")) and name != "PMO_TEST_POSTGRES_URL":
            monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    yield
