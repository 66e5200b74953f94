"""survey_runs: who is posting a run's digest, and when it was posted.

Revision ID: 0005
Revises: 0004
Created: 2026-12-06

A digest is claimed under a lease like an outbox message, so that a process that dies between
closing a run and posting its digest leaves it to another, and two processes never both post it.
Runs closed before this revision count as posted: their digests went out as they closed.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("survey_runs", sa.Column("digest_claimed_by", sa.String(64), nullable=True))
    op.add_column("survey_runs", sa.Column("digest_lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("survey_runs", sa.Column("digest_posted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("survey_runs", sa.Column("digest_ref", sa.String(255), nullable=True))
    op.execute("UPDATE survey_runs SET digest_posted_at = closed_at WHERE state = 'closed'")


def downgrade() -> None:
    with op.batch_alter_table("survey_runs") as batch:
        for column in ("digest_ref", "digest_posted_at", "digest_lease_until", "digest_claimed_by"):
            batch.drop_column(column)
