"""The knowledge snapshot: the router pickled in the user's cache folder between runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot import snapshot
from bot.router import Router
from knowledge.base import KnowledgeBase


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "pmo-bot"


def test_a_build_leaves_one_snapshot_that_the_next_run_reads(cache: Path) -> None:
    built = snapshot._read_or_build(None)
    files = list(cache.glob("router-*.pickle"))
    assert len(files) == 1 and not list(cache.glob("*.tmp"))
    again = snapshot._read_or_build(None)
    assert isinstance(again, Router) and again is not built  # read back, not rebuilt in memory
    assert again.route("what is a raid log").slots == built.route("what is a raid log").slots


def test_a_corrupt_snapshot_is_rebuilt(cache: Path, caplog: pytest.LogCaptureFixture) -> None:
    snapshot._read_or_build(None)
    (path,) = cache.glob("router-*.pickle")
    path.write_bytes(b"not a pickle")
    with caplog.at_level(logging.WARNING, logger="bot.snapshot"):
        router = snapshot._read_or_build(None)
    assert isinstance(router, Router)
    assert "unreadable; rebuilding" in caplog.text
    assert path.read_bytes() != b"not a pickle"


def test_an_override_folder_keeps_its_own_snapshot_beside_the_builtin_one(
    cache: Path, tmp_path: Path
) -> None:
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "notes.yaml").write_text(
        "section: {id: ours, name: Our notes, about: house rules}\n"
        "topics:\n  - id: our_rule\n    name: Our rule\n"
        "    answer: Every register is reviewed at the monthly portfolio board.\n    sources: [house]\n",
        encoding="utf-8",
    )
    snapshot._read_or_build(None)
    snapshot._read_or_build(ours)
    assert len(list(cache.glob("router-*.pickle"))) == 2
    # A change to the override replaces its own snapshot only.
    (ours / "notes.yaml").write_text(
        (ours / "notes.yaml").read_text(encoding="utf-8").replace("monthly", "weekly"), encoding="utf-8"
    )
    snapshot._read_or_build(ours)
    assert len(list(cache.glob("router-*.pickle"))) == 2


def test_prepare_writes_once_from_a_base_already_loaded(cache: Path, kb: KnowledgeBase) -> None:
    snapshot.prepare(None, kb)
    (path,) = cache.glob("router-*.pickle")
    written = path.stat().st_mtime_ns
    snapshot.prepare(None, kb)
    assert path.stat().st_mtime_ns == written


def test_a_cache_folder_that_is_a_file_only_costs_the_time(cache: Path) -> None:
    cache.parent.mkdir(parents=True)
    cache.write_text("in the way", encoding="utf-8")
    assert isinstance(snapshot._read_or_build(None), Router)
