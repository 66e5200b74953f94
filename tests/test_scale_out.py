"""Pieces of the scaled-out deployment, each on a real database: follow-ups kept in the database,
the clock lock, and `pmo-bot clock` / `pmo-bot worker` as processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import Bot
from bot.storage import Storage
from bot.storage.context import ContextStore, key_hash
from bot.storage.lock import SingleLock
from bot.turn import Turn
from knowledge.base import KnowledgeBase
from tests.processes import child_env, stop, tail

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ONLY = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    store = Storage(database_url)
    store.upgrade()
    yield store
    store.close()


def test_a_context_is_kept_by_a_hash_and_forgotten_when_old(storage: Storage) -> None:
    contexts = ContextStore(storage)
    contexts.save("slack:T1:D1:U1", {"intent": "role_competencies", "at": 100.0}, 100.0)
    contexts.save("slack:T1:D1:U1", {"intent": "development_advice", "at": 200.0}, 200.0)
    contexts.save("slack:T1:D2:U2", {"intent": "help", "at": 50.0}, 50.0)
    assert contexts.load("slack:T1:D1:U1") == ({"intent": "development_advice", "at": 200.0}, 200.0)
    assert contexts.load("slack:T9:D9:U9") is None
    with storage.transaction() as connection:
        keys = {row[0] for row in connection.exec_driver_sql("SELECT key_hash FROM conversation_context")}
    assert keys == {key_hash("slack:T1:D1:U1"), key_hash("slack:T1:D2:U2")}  # no ids stored
    assert contexts.forget_before(100.0) == 1
    assert contexts.load("slack:T1:D2:U2") is None


def test_a_follow_up_reaching_another_process_follows_on(kb: KnowledgeBase, storage: Storage) -> None:
    # Two bots stand for two web processes: each keeps its own memory, and shares the database.
    first, second = Bot(kb), Bot(kb)
    for bot in (first, second):
        bot.conversations.attach(ContextStore(storage), kb.has)
    turn = Turn("slack", "U1", "D1", "D1", "T1")
    assert first.handle_text("competencies for a pmo co-ordinator", turn).intent == "role_competencies"
    reply = second.handle_text("what about a manager?", turn)
    assert (reply.intent, reply.slots.get("role")) == ("role_competencies", "pmo_manager")
    # Someone else in the same channel has a conversation of their own.
    other = Turn("slack", "U2", "D1", "D1", "T1")
    assert first.conversations.context(other.key, first.now()) is None


def test_a_context_naming_an_entry_that_is_gone_is_ignored(kb: KnowledgeBase, storage: Storage) -> None:
    contexts = ContextStore(storage)
    turn = Turn("slack", "U1", "D1", "D1", "T1")
    saved = {"at": time.time(), "text": "x", "intent": "role_competencies", "slots": {"role": "gone_role"},
             "part": "", "reason": "", "named": [["role", "gone_role"]]}  # fmt: skip
    contexts.save(turn.key, saved, time.time())
    bot = Bot(kb)
    bot.conversations.attach(contexts, kb.has)
    assert bot.conversations.context(turn.key, bot.now()) is None


def test_one_lock_holder_at_a_time_and_the_next_takes_over(storage: Storage) -> None:
    first, second = SingleLock(storage, "test clock"), SingleLock(storage, "test clock")
    other = SingleLock(storage, "another lock")
    try:
        assert first.take() and first.held()
        assert not second.take() and not second.held()
        assert other.take()  # locks of other names are apart
        first.release()
        assert second.take() and second.held()
        assert not first.take()
    finally:
        for lock in (first, second, other):
            lock.release()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from bot.storage import Storage
    from bot.storage.lock import SingleLock
    lock = SingleLock(Storage(sys.argv[1]), "test clock")
    print("held" if lock.take() else "refused", flush=True)
    time.sleep(600)
    """
)


def test_a_killed_holder_hands_the_lock_over(storage: Storage, database_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, database_url], env=env, stdout=subprocess.PIPE, text=True
    )
    waiting = SingleLock(storage, "test clock")
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not waiting.take()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        started = time.monotonic()
        while not waiting.take():
            assert time.monotonic() - started < 30, "the lock of a killed holder was not handed over"
            time.sleep(0.1)
        print(f"\nlock handed over {time.monotonic() - started:.2f} s after the holder was killed")
    finally:
        waiting.release()
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        assert holder.stdout is not None
        holder.stdout.close()


@POSTGRES_ONLY
def test_a_lost_database_session_is_noticed(storage: Storage) -> None:
    lock = SingleLock(storage, "test clock")
    try:
        assert lock.take()
        with storage.transaction() as connection:
            # What a PostgreSQL restart does to the holder's session.
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({int(lock.session_pid or 0)})")
        assert not lock.held()
        assert lock.take()  # and it may be taken again once free
    finally:
        lock.release()


def _wait_for_line(path: Path, text: str, deadline: float) -> bool:
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.1)
    return False


ACTIVE = "clock running (this one holds the clock lock)"


def test_of_two_clocks_one_runs_and_the_other_takes_over_when_it_dies(
    storage: Storage, database_url: str, tmp_path: Path
) -> None:
    env = child_env({"DATABASE_URL": database_url, "PMO_CONFIG": str(tmp_path / "no-teams.yaml")})
    logs = [tmp_path / "clock1.log", tmp_path / "clock2.log"]
    clocks = []
    for log in logs:
        with open(log, "wb") as sink:
            command = [sys.executable, "-m", "bot.app.cli", "clock"]
            merged = {"stdout": sink, "stderr": subprocess.STDOUT}
            clocks.append(subprocess.Popen(command, cwd=tmp_path, env=env, **merged))
    try:
        deadline = time.monotonic() + 60
        while not any(ACTIVE in log.read_text(encoding="utf-8") for log in logs if log.exists()):
            assert time.monotonic() < deadline, "no clock became active:\n" + tail(logs[0])
            time.sleep(0.1)
        time.sleep(6)  # longer than a standby's poll: the other has asked, and been refused
        active = [n for n, log in enumerate(logs) if ACTIVE in log.read_text(encoding="utf-8")]
        assert len(active) == 1, [tail(log) for log in logs]
        os.kill(clocks[active[0]].pid, signal.SIGKILL)
        clocks[active[0]].wait(10)
        killed_at = time.monotonic()
        other = 1 - active[0]
        assert _wait_for_line(logs[other], ACTIVE, killed_at + 30), tail(logs[other])
        print(f"\nthe standby clock took over {time.monotonic() - killed_at:.1f} s after the active one died")
    finally:
        for clock in clocks:
            stop(clock, 15)
    # The one that was stopped politely said so.
    assert "clock stopped" in logs[1 - active[0]].read_text(encoding="utf-8")
