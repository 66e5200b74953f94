"""survey_teams and survey_team_changes: teams set up from chat, paused teams, and who changed what.

Revision ID: 0006
Revises: 0005
Created: 2026-12-07

A team defined in the teams file keeps its definition there; a row for it holds only whether it
is paused. Every change made from chat is kept in survey_team_changes, oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "survey_teams",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("definition", sa.Text(), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_teams"),
    )
    op.create_table(
        "survey_team_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_team_changes"),
    )
    op.create_index("ix_survey_team_changes_team_id", "survey_team_changes", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_survey_team_changes_team_id", table_name="survey_team_changes")
    op.drop_table("survey_team_changes")
    op.drop_table("survey_teams")
