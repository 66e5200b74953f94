"""Engines set up for the two databases pmo-bot supports: SQLite embedded, PostgreSQL scaled out."""

from __future__ import annotations

import sqlite3
import time

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.pool import ConnectionPoolEntry

SUPPORTED = ("sqlite", "postgresql")

# Several processes (web, clock, workers) may share one SQLite file; a writer waits this long for
# another's write to finish instead of failing at once with "database is locked".
SQLITE_BUSY_SECONDS = 30

# libpq waits for ever by default; a start-up or health check against a dead host should fail.
POSTGRES_CONNECT_SECONDS = 10


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; ValueError for a database pmo-bot does not support."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED:
        raise ValueError(f"pmo-bot supports SQLite and PostgreSQL, not {backend}")
    if backend == "sqlite":
        connect_args = {} if "timeout" in parsed.query else {"timeout": SQLITE_BUSY_SECONDS}
        engine = create_engine(parsed, connect_args=connect_args)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": POSTGRES_CONNECT_SECONDS}
    # Pre-ping so that a restarted or failed-over server costs a reconnect, not an error.
    return create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    try:
        # WAL lets readers carry on while one process writes; NORMAL sync is durable enough under
        # WAL (a power cut may lose the last commits, never corrupt the file) and much faster.
        _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite ignores foreign keys unless asked, and later tables rely on them.
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _switch_to_wal(cursor: DBAPICursor) -> None:
    # Processes opening a new file at once all try to switch it to WAL; to break the deadlock
    # SQLite answers all but one "database is locked" at once, without waiting the busy timeout.
    # The mode is kept in the file, so a retry finds the switch made.
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
