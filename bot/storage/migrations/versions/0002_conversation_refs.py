"""conversation_refs: where the bot can reach a person or a channel later, without being spoken to.

Revision ID: 0002
Revises: 0001
Created: 2026-11-22

Teams cannot message anyone proactively without a conversation reference saved when the app was
installed or first spoken to; pulse surveys and digests use these rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conversation_refs",
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=True),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "key", name="pk_conversation_refs"),
    )


def downgrade() -> None:
    op.drop_table("conversation_refs")
