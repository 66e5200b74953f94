"""conversation_context: what each conversation said last, so that a follow-up reaching another
web process still follows on.

Revision ID: 0004
Revises: 0003
Created: 2026-12-06

Rows are keyed by a hash of the conversation (platform, workspace, conversation, person), so the
table names nobody; rows older than the follow-up window are deleted by the web process.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_context",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_conversation_context"),
    )
    op.create_index("ix_conversation_context_at", "conversation_context", ["at"])


def downgrade() -> None:
    op.drop_index("ix_conversation_context_at", table_name="conversation_context")
    op.drop_table("conversation_context")
