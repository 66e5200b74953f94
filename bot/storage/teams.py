"""Teams set up from chat, paused teams, and the trail of who changed what. Only SQL here: what
a team may hold is checked in ``jobs``, which hands over plain data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.db import Storage
from bot.storage.models import SurveyTeam, SurveyTeamChange
from bot.storage.survey_rows import aware_from_db


@dataclass(frozen=True)
class StoredTeam:
    id: str
    definition: dict[str, Any] | None  # None: a teams-file team, of which only the state is kept
    paused_at: datetime | None  # the last pause's start (kept after a resume)
    resumed_at: datetime | None
    updated_at: datetime
    updated_by: str

    @property
    def paused(self) -> bool:
        return self.paused_at is not None and (self.resumed_at is None or self.paused_at > self.resumed_at)

    def skips(self, moment: datetime) -> bool:
        """Whether a run due at ``moment`` falls in a pause (the current one, or the last one)."""
        if self.paused_at is None:
            return False
        if self.paused:
            return moment >= self.paused_at
        return self.resumed_at is not None and self.paused_at <= moment <= self.resumed_at


@dataclass(frozen=True)
class TeamChange:
    team_id: str
    at: datetime
    by: str
    action: str  # created, edited, paused, resumed, removed
    detail: dict[str, Any]


class TeamStore:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def all(self) -> list[StoredTeam]:
        with self.storage.transaction() as connection:
            rows = connection.execute(select(SurveyTeam).order_by(SurveyTeam.id)).all()
        return [_team(row) for row in rows]

    def get(self, team_id: str) -> StoredTeam | None:
        with self.storage.transaction() as connection:
            row = connection.execute(select(SurveyTeam).where(SurveyTeam.id == team_id)).first()
        return _team(row) if row is not None else None

    def save(
        self,
        team_id: str,
        definition: dict[str, Any],
        by: str,
        at: datetime,
        detail: dict[str, Any],
        new: bool = False,
    ) -> str:
        """Creates or replaces a team's definition and records the change, in one transaction;
        returns "created" or "edited", or "exists" when ``new`` and the team is there already
        (another admin made it first), in which case nothing is written."""
        text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
        try:
            with self.storage.transaction() as connection:
                row = self._lock(connection, team_id)
                exists = row is not None and row.definition is not None
                if new and exists:
                    return "exists"
                action = "edited" if exists else "created"
                values = {"definition": text, "updated_at": at, "updated_by": by}
                if row is None:
                    connection.execute(insert(SurveyTeam).values(id=team_id, **values))
                else:
                    connection.execute(update(SurveyTeam).where(SurveyTeam.id == team_id).values(**values))
                _record(connection, team_id, at, by, action, detail)
        except IntegrityError:
            # Two first saves of one id at once: the other was committed, this one wrote nothing.
            return "exists"
        return action

    def remove(self, team_id: str, by: str, at: datetime) -> bool:
        """Removes a team set up from chat (its pause state and trail stay); False when there was
        none to remove."""
        with self.storage.transaction() as connection:
            row = self._lock(connection, team_id)
            if row is None or row.definition is None:
                return False
            values = {"definition": None, "updated_at": at, "updated_by": by}
            connection.execute(update(SurveyTeam).where(SurveyTeam.id == team_id).values(**values))
            _record(connection, team_id, at, by, "removed", {})
        return True

    def set_paused(self, team_id: str, paused: bool, by: str, at: datetime) -> bool:
        """Pauses or resumes a team (file or chat); False when it already was so."""
        with self.storage.transaction() as connection:
            row = self._lock(connection, team_id)
            if (_team(row).paused if row is not None else False) == paused:
                return False
            values: dict[str, Any] = {"updated_at": at, "updated_by": by}
            # The last pause's start is kept after a resume: a run due between the two is skipped.
            values["paused_at" if paused else "resumed_at"] = at
            if row is None:
                connection.execute(insert(SurveyTeam).values(id=team_id, definition=None, **values))
            else:
                connection.execute(update(SurveyTeam).where(SurveyTeam.id == team_id).values(**values))
            _record(connection, team_id, at, by, "paused" if paused else "resumed", {})
        return True

    def changes(self, team_id: str, limit: int = 50) -> list[TeamChange]:
        """The team's latest changes, oldest first."""
        statement = (
            select(SurveyTeamChange)
            .where(SurveyTeamChange.team_id == team_id)
            .order_by(SurveyTeamChange.id.desc())
            .limit(limit)
        )
        with self.storage.transaction() as connection:
            rows = connection.execute(statement).all()
        out = []
        for row in reversed(rows):
            try:
                detail = json.loads(row.detail)
            except ValueError:
                detail = {}
            out.append(
                TeamChange(
                    row.team_id,
                    aware_from_db(row.at),
                    row.by,
                    row.action,
                    detail if isinstance(detail, dict) else {},
                )
            )
        return out

    def _lock(self, connection: Connection, team_id: str) -> Any:
        # FOR UPDATE on PostgreSQL: two admins saving one team at once are applied one after the
        # other, each with its own audit row (SQLite writes one at a time anyway).
        statement = select(SurveyTeam).where(SurveyTeam.id == team_id)
        if connection.dialect.name == "postgresql":
            statement = statement.with_for_update()
        return connection.execute(statement).first()


def _record(
    connection: Connection, team_id: str, at: datetime, by: str, action: str, detail: dict[str, Any]
) -> None:
    connection.execute(
        insert(SurveyTeamChange).values(
            team_id=team_id, at=at, by=by, action=action, detail=json.dumps(detail, sort_keys=True)
        )
    )


def _team(row: Any) -> StoredTeam:
    definition = None
    if row.definition is not None:
        try:
            loaded = json.loads(row.definition)
        except ValueError:
            loaded = None
        definition = loaded if isinstance(loaded, dict) else {}
    return StoredTeam(
        row.id,
        definition,
        aware_from_db(row.paused_at) if row.paused_at else None,
        aware_from_db(row.resumed_at) if row.resumed_at else None,
        aware_from_db(row.updated_at),
        row.updated_by,
    )
