"""One active clock among several: whoever holds the lock runs the schedule; the others stand by.

On PostgreSQL it is a session advisory lock on a connection kept for it. The server lets go when
that session ends, so a clock that dies (a kill, a lost machine) hands over: at once when its
socket closes, and within about 25 s through TCP keepalives when the machine vanishes. On SQLite,
the one-machine default, it is an exclusive lock on a file beside the database.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from typing import IO, Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.storage.db import Storage

log = logging.getLogger(__name__)

# The server drops a holder it cannot reach after idle + interval x count seconds.
KEEPALIVE = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for ``name`` (advisory locks are numbered)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class SingleLock:
    """``take()`` without waiting; ``held()`` checks the hold is still real; ``release()``."""

    def __init__(self, storage: Storage, name: str) -> None:
        self.storage = storage
        self.name = name
        self._connection: Any = None
        self._file: IO[bytes] | None = None
        self._key = 0
        self.session_pid: int | None = None  # the PostgreSQL session holding it, for the log

    @property
    def postgres(self) -> bool:
        return self.storage.engine.dialect.name == "postgresql"

    def take(self) -> bool:
        if self.postgres:
            return self._take_advisory()
        return self._take_file()

    def held(self) -> bool:
        """True while the lock is ours: on PostgreSQL, while its session lives (a server restart
        ends it, and another clock may have the lock by now)."""
        if not self.postgres:
            return self._file is not None
        if self._connection is None:
            return False
        # A session lock lasts as long as its session: if the session answers, the lock is ours.
        try:
            self._connection.execute(text("SELECT 1")).scalar_one()
        except SQLAlchemyError:
            self._drop()
            return False
        return True

    def release(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": lock_key(self.name)}
                )
            self._drop()
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
                self._file.close()
            self._file = None

    def _take_advisory(self) -> bool:
        if self._connection is not None:
            return self.held()
        try:
            connection = self.storage.engine.connect()
            # Autocommit: the lock belongs to the session, and no transaction stays open for hours.
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for setting, value in KEEPALIVE.items():
                connection.execute(text(f"SET {setting} = {int(value)}"))
            # Locks are per database: deployments in other schemas of it must not share one.
            row = connection.execute(text("SELECT current_schema(), pg_backend_pid()")).one()
            schema, pid = str(row[0]), int(row[1])
            self._key = lock_key(f"{self.name}:{schema}")
            got: bool = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
        except SQLAlchemyError as error:
            log.warning("could not ask for the clock lock", extra={"error": str(error).splitlines()[0]})
            return False
        if not got:
            connection.close()
            return False
        self._connection, self.session_pid = connection, pid
        return True

    def _drop(self) -> None:
        # Closing the session would release the lock anyway; a broken one is already gone.
        connection, self._connection, self.session_pid = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                connection.invalidate()
                connection.close()

    def _take_file(self) -> bool:
        if self._file is not None:
            return True
        database = self.storage.engine.url.database
        if not database or database == ":memory:":
            return True  # one process owns a database in memory
        handle = open(f"{os.path.abspath(database)}.{self.name.replace(' ', '-')}.lock", "ab")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._file = handle
        return True
