"""Alembic, run from code with the migrations inside the package: no alembic.ini to ship or find."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

MIGRATIONS = Path(__file__).resolve().with_name("migrations")

# One key for every pmo-bot database on a server: upgrades are rare and quick, so upgrades of
# unrelated databases waiting for each other costs nothing.
_POSTGRES_LOCK_KEY = 0x706D6F2D626F74  # "pmo-bot"

# Alembic keeps the running migration in module globals (alembic.context, alembic.op), so two
# threads of one process must not run it at once; other processes are held off by the database.
_one_at_a_time = threading.Lock()


def alembic_config(url: str | None = None) -> Config:
    """A Config for Alembic's commands; ``url`` only for commands run without a connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # The options are read through configparser, for which "%" (URL escapes) is special.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def run_upgrade(connection: Connection, revision: str = "head") -> None:
    """Brings the database to ``revision`` in one transaction, holding off concurrent upgrades.

    ``connection`` must be outside a transaction; it is committed at the end. Raises SQLAlchemy's
    and Alembic's own errors; ``Storage.upgrade`` turns them into StorageError.
    """
    config = alembic_config()
    with _one_at_a_time:
        if connection.dialect.name == "sqlite":
            # Take the write lock before Alembic reads the version table: two processes that both
            # read "empty" would both create the tables. The other process waits (busy timeout)
            # and then finds the work done. SQLite DDL is transactional, so a failure leaves nothing.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            # Released at commit or rollback, so a failed upgrade or a dropped connection cannot
            # leave the lock held on a pooled connection. PostgreSQL DDL is transactional too.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
