"""surveys: pulse survey runs, their outbox of messages, and the anonymous answers.

Revision ID: 0003
Revises: 0002
Created: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "app_secrets",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_app_secrets"),
    )
    op.create_table(
        "survey_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.String(64), nullable=False),
        sa.Column("period_key", sa.String(128), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("services", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _when("opened_at"),
        _when("remind_at", nullable=True),
        _when("closes_at"),
        _when("reminded_at", nullable=True),
        _when("closed_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_survey_runs"),
        sa.UniqueConstraint("period_key", name="uq_survey_runs_period_key"),
    )
    op.create_index("ix_survey_runs_team_id", "survey_runs", ["team_id"])
    op.create_table(
        "survey_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipient", sa.String(255), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("workspace", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("due_at"),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        _when("lease_until", nullable=True),
        sa.Column("message_ref", sa.String(255), nullable=True),
        sa.Column("error", sa.String(255), nullable=True),
        _when("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_survey_outbox"),
        sa.ForeignKeyConstraint(
            ["run_id"], ["survey_runs.id"], name="fk_survey_outbox_run_id_survey_runs", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("run_id", "kind", "recipient", name="uq_survey_outbox_run_id"),
    )
    op.create_index("ix_survey_outbox_due", "survey_outbox", ["state", "due_at"])
    op.create_index("ix_survey_outbox_recipient", "survey_outbox", ["recipient"])
    op.create_index("ix_survey_outbox_run_state", "survey_outbox", ["run_id", "state"])
    for table, extra in (
        ("survey_responses", [sa.Column("function_id", sa.String(64), nullable=False),
                              sa.Column("score", sa.Integer(), nullable=True)]),
        ("survey_comments", [sa.Column("text", sa.Text(), nullable=False)]),
    ):  # fmt: skip
        keys = ["run_id", "respondent"] + (["function_id"] if table == "survey_responses" else [])
        op.create_table(
            table,
            sa.Column("run_id", sa.Integer(), nullable=False),
            sa.Column("respondent", sa.String(64), nullable=False),
            *extra,
            sa.PrimaryKeyConstraint(*keys, name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["run_id"], ["survey_runs.id"], name=f"fk_{table}_run_id_survey_runs", ondelete="CASCADE"
            ),
        )


def downgrade() -> None:
    for table in ("survey_comments", "survey_responses", "survey_outbox", "survey_runs", "app_secrets"):
        op.drop_table(table)
