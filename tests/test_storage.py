"""Storage on SQLite always, and on PostgreSQL when PMO_TEST_POSTGRES_URL names a database.

Each PostgreSQL test gets a schema of its own (dropped afterwards), so runs may repeat and overlap.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from bot.storage import Storage, StorageError, upgrade
from bot.storage.models import Base, ProcessedEvent

POSTGRES_ENV = "PMO_TEST_POSTGRES_URL"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    with Storage(database_url) as migrated:
        migrated.upgrade()
        yield migrated


HEAD = "0006"  # the newest migration


def _version(storage: Storage) -> list[str]:
    with storage.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _event_ids(storage: Storage) -> set[str]:
    with storage.engine.connect() as connection:
        return set(connection.execute(text("SELECT event_id FROM processed_events")).scalars())


# Migrations


def test_upgrade_creates_the_table(database_url: str) -> None:
    with Storage(database_url) as storage:
        assert "processed_events" not in inspect(storage.engine).get_table_names()
        storage.upgrade()
        schema = inspect(storage.engine)
        columns = {column["name"]: column for column in schema.get_columns("processed_events")}
        assert set(columns) == {"event_id", "source", "received_at"}
        assert not any(column["nullable"] for column in columns.values())
        assert schema.get_pk_constraint("processed_events")["constrained_columns"] == ["event_id"]
        indexes = {index["name"]: index["column_names"] for index in schema.get_indexes("processed_events")}
        assert indexes["ix_processed_events_received_at"] == ["received_at"]
        assert _version(storage) == [HEAD]


def test_upgrade_twice_is_a_no_op(storage: Storage) -> None:
    assert storage.claim_event("Ev1", now=T0)
    storage.upgrade()
    upgrade(storage.engine.url.render_as_string(hide_password=False))
    assert _version(storage) == [HEAD]
    assert _event_ids(storage) == {"Ev1"}
    assert not storage.claim_event("Ev1", now=T0)


def test_the_migrations_build_the_schema_the_models_describe(storage: Storage) -> None:
    with storage.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_a_database_from_a_newer_version_is_refused(storage: Storage) -> None:
    with storage.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StorageError, match=r"^cannot upgrade the database at .*9999") as caught:
        storage.upgrade()
    assert "\n" not in str(caught.value)


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    with Storage(f"sqlite:///{tmp_path / 'wal.db'}") as storage:
        storage.upgrade()
        with storage.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


# Claiming events


def test_claim_event_is_true_once_then_false(storage: Storage) -> None:
    assert storage.claim_event("Ev0123ABC")
    assert not storage.claim_event("Ev0123ABC")
    assert not storage.claim_event("Ev0123ABC", source="slack", now=T0 + timedelta(hours=1))
    assert storage.claim_event("Ev0123ABD")
    assert storage.claim_event("a" * 128, source="teams")


def test_a_claim_holds_across_a_restart(database_url: str) -> None:
    with Storage(database_url) as first:
        first.upgrade()
        assert first.claim_event("Ev-restart", now=T0)
    with Storage(database_url) as second:
        second.upgrade()
        assert not second.claim_event("Ev-restart", now=T0)
        assert second.claim_event("Ev-other", now=T0)


def test_threads_claiming_one_event_get_one_true(storage: Storage) -> None:
    threads = 8
    start = threading.Barrier(threads)

    def claim(event_id: str) -> bool:
        start.wait()
        return storage.claim_event(event_id)

    for round_ in range(5):
        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(claim, [f"Ev-race-{round_}"] * threads))
        assert results.count(True) == 1, results
    with ThreadPoolExecutor(threads) as pool:
        assert all(pool.map(claim, [f"Ev-distinct-{n}" for n in range(threads)]))


PROCESSES = 6
_CLAIMING_PROCESS = """
import sys, time
from pathlib import Path
from bot.storage import Storage
url, go = sys.argv[1], Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():
    time.sleep(0.005)
with Storage(url) as storage:
    storage.upgrade()
    print(storage.claim_event("Ev-processes"), flush=True)
"""


def test_processes_upgrading_and_claiming_at_once_get_one_true(database_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _CLAIMING_PROCESS, database_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        go.touch()
        outcomes = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    assert all(process.returncode == 0 for process in processes), [err for _, err in outcomes]
    assert sorted(out.strip() for out, _ in outcomes) == ["False"] * (PROCESSES - 1) + ["True"]
    with Storage(database_url) as storage:
        assert _version(storage) == [HEAD]


def test_bad_arguments_are_programming_errors(storage: Storage) -> None:
    with pytest.raises(ValueError, match="aware datetime"):
        storage.claim_event("Ev1", now=datetime(2026, 11, 23, 12, 0))
    with pytest.raises(ValueError, match="aware datetime"):
        storage.forget_events_before(datetime(2026, 11, 23, 12, 0))
    with pytest.raises(ValueError, match="event id"):
        storage.claim_event("")
    with pytest.raises(ValueError, match="event id"):
        storage.claim_event("a" * 129)
    with pytest.raises(ValueError, match="event source"):
        storage.claim_event("Ev1", source="a-very-long-platform")
    assert _event_ids(storage) == set()


# Clean-up


def test_forget_events_before_deletes_only_older_events(storage: Storage) -> None:
    plus_two = timezone(timedelta(hours=2))
    storage.claim_event("old", now=T0 - timedelta(days=2))
    # 13:30 in UTC+2 is 11:30 UTC, before the cut-off: times compare as instants, not as text.
    storage.claim_event("old-elsewhere", now=datetime(2026, 11, 23, 13, 30, tzinfo=plus_two))
    storage.claim_event("at-cutoff", now=T0)
    storage.claim_event("new", now=T0 + timedelta(minutes=1))
    assert storage.forget_events_before(T0) == 2
    assert _event_ids(storage) == {"at-cutoff", "new"}
    assert storage.forget_events_before(T0) == 0
    # A forgotten id is new again: the TTL must outlast the platforms' retries.
    assert storage.claim_event("old", now=T0)


def test_received_at_is_stored_as_an_instant(storage: Storage) -> None:
    storage.claim_event("Ev1", now=datetime(2026, 11, 23, 14, 0, tzinfo=timezone(timedelta(hours=2))))
    with storage.engine.connect() as connection:
        stored = connection.execute(ProcessedEvent.__table__.select()).one()
    assert stored.received_at == T0
    assert stored.received_at.utcoffset() == timedelta(0)
    assert stored.source == "slack"


# Health and errors


def test_health_is_true_for_a_working_database(storage: Storage) -> None:
    assert storage.health()


def _assert_one_safe_line(message: str, secret: str) -> None:
    assert "\n" not in message
    assert secret not in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "cannot open the database at not a url: "),
        (
            "nosuch://pmo:s3cr3t-pw@127.0.0.1/db",
            "cannot open the database at nosuch://pmo:***@127.0.0.1/db: ",
        ),
        ("mysql://pmo:s3cr3t-pw@127.0.0.1/db", "cannot open the database at mysql://pmo:***@127.0.0.1/db: "),
        (
            "postgresql+psycopg://pmo:s3cr3t-pw@127.0.0.1:port/db",
            "cannot open the database at postgresql+psycopg://pmo:***@127.0.0.1:port/db: ",
        ),
        ("postgresql+nosuchdriver://pmo:s3cr3t-pw@127.0.0.1/db", "cannot open the database at "),
    ],
)
def test_a_bad_url_raises_one_line_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(StorageError) as caught:
        Storage(url)
    message = str(caught.value)
    assert message.startswith(expected), message
    _assert_one_safe_line(message, "s3cr3t-pw")


def test_an_unreachable_postgres_raises_one_line_without_the_password() -> None:
    # Nothing listens on port 1; the refusal is immediate.
    url = "postgresql+psycopg://pmo:s3cr3t-pw@127.0.0.1:1/test"
    with Storage(url) as storage:
        assert "s3cr3t-pw" not in repr(storage)
        assert not storage.health()
        for attempt in (storage.upgrade, lambda: storage.claim_event("Ev1")):
            with pytest.raises(StorageError) as caught:
                attempt()
            message = str(caught.value)
            assert message.startswith(
                "cannot open the database at postgresql+psycopg://pmo:***@127.0.0.1:1/test: "
            )
            assert "refused" in message
            _assert_one_safe_line(message, "s3cr3t-pw")


def test_an_unopenable_sqlite_file_raises_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'folder' / 'pmo-bot.db'}"
    with Storage(url) as storage:
        assert not storage.health()
        with pytest.raises(StorageError, match=r"^cannot open the database at sqlite:///.*: unable to open"):
            upgrade(url)


def test_conversation_references_are_saved_refreshed_and_deactivated(storage: Storage) -> None:
    storage.upgrade()
    assert storage.reference("teams", "29:u1") is None
    storage.save_reference("teams", "29:u1", "user", '{"a": 1}', tenant_id="t1")
    storage.save_reference("teams", "29:u1", "user", '{"a": 2}', tenant_id="t1")
    row = storage.reference("teams", "29:u1")
    assert row is not None and (row.reference, row.active, row.tenant_id) == ('{"a": 2}', True, "t1")
    storage.mark_inactive("teams", "29:u1")
    row = storage.reference("teams", "29:u1")
    assert row is not None and row.active is False
    storage.save_reference("teams", "29:u1", "user", '{"a": 3}')  # spoken to again: active again
    row = storage.reference("teams", "29:u1")
    assert row is not None and row.active is True
