"""Engines set up for the two databases pmo-bot supports: SQLite embedded, PostgreSQL scaled out."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.pool import ConnectionPoolEntry

log = logging.getLogger(__name__)

SUPPORTED = ("sqlite", "postgresql")


def _log_breach(statement: str) -> None:
    log.warning("a database call on the event loop", extra={"statement": statement}, stack_info=True)


# No database call on the event loop: a query there stalls every request the process is serving.
# Each statement checks (one C call); a breach is logged, and the tests make it an error.
on_loop: Callable[[str], None] = _log_breach

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
    else:
        timeout = {"connect_timeout": POSTGRES_CONNECT_SECONDS}
        connect_args = {} if "connect_timeout" in parsed.query else timeout
        # Pre-ping so that a restarted or failed-over server costs a reconnect, not an error.
        engine = create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    event.listen(engine, "before_cursor_execute", _off_the_loop)
    return engine


def _off_the_loop(*args: Any) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return  # a worker thread, or a process with no loop: as it should be
    on_loop(str(args[2]).split("\n", 1)[0][:80])


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
