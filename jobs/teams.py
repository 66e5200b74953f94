"""The teams surveys run for: those in the teams file and those set up from chat (kept in the
database). The file wins for the ids it names, so an organisation that manages teams in a file
keeps control of them; chat can still pause and resume any team.

Reading the database is done off the event loop only: on the loop, the last copy read is used
(the clock refreshes it at every tick, from a worker thread).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from bot.errors import ConfigError
from bot.storage.teams import StoredTeam, TeamStore
from jobs.config import Team, TeamList, TeamsFile

log = logging.getLogger(__name__)

REFRESH_S = 5.0  # how stale a web process's copy of the chat teams may be
Source = Literal["file", "chat", "builtin"]


@dataclass(frozen=True)
class TeamState:
    source: Source
    paused: bool = False
    stored: StoredTeam | None = None

    def skips(self, moment: datetime) -> bool:
        return self.stored is not None and self.stored.skips(moment)


class TeamDirectory(TeamsFile):
    """The teams file and the teams set up from chat, as one list (file teams first)."""

    def __init__(
        self,
        path: Path,
        functions: Collection[str] = (),
        extra: Collection[Team] = (),
        store: TeamStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(path, functions, extra)
        self.store = store
        self.clock = clock
        self._rows: dict[str, StoredTeam] = {}
        self._chat: dict[str, Team] = {}
        self._read_at: float | None = None
        self._refresh_lock = threading.Lock()
        self._refused: set[tuple[str, str]] = set()
        # Teams set up from chat that this build cannot run (a service it lacks), with why.
        self.invalid: dict[str, str] = {}

    def refresh(self) -> None:
        """Reads the chat teams from the database now (not on the event loop)."""
        if self.store is None:
            return
        rows = {row.id: row for row in self.store.all()}
        chat = {}
        invalid = {}
        for row in rows.values():
            if row.definition is None:
                continue
            team, problem = self._valid(row)
            if team is not None:
                chat[row.id] = team
            else:
                invalid[row.id] = problem
        with self._refresh_lock:
            self._rows, self._chat, self._read_at = rows, chat, self.clock()
            self.invalid = invalid

    def load(self) -> TeamList:
        if self.store is not None and not _on_event_loop():
            read_at = self._read_at
            if read_at is None or self.clock() - read_at >= REFRESH_S:
                self.refresh()
        listed = super().load()
        named = {t.id for t in listed.teams}
        chat = tuple(t for i, t in sorted(self._chat.items()) if i not in named)
        return TeamList(teams=listed.teams + chat) if chat else listed

    def state(self, team_id: str) -> TeamState:
        row = self._rows.get(team_id)
        paused = row is not None and row.paused
        if team_id in self.extra:
            return TeamState("builtin")
        if super().load().team(team_id) is not None:
            return TeamState("file", paused, row)
        return TeamState("chat", paused, row)

    def skips(self, team_id: str, moment: datetime) -> bool:
        row = self._rows.get(team_id)
        return row is not None and row.skips(moment)

    def in_file(self, team_id: str) -> bool:
        return super().load().team(team_id) is not None

    def hidden(self) -> list[str]:
        """Teams set up from chat whose id the teams file names too: the file's run instead."""
        return sorted(i for i in self._chat if self.in_file(i))

    def _valid(self, row: StoredTeam) -> tuple[Team | None, str]:
        try:
            team = Team.model_validate({**(row.definition or {}), "id": row.id})
            unknown = [s for s in team.services if self.functions and s not in self.functions]
            if unknown:
                raise ConfigError(f"unknown service {unknown[0]!r}")
            return team, ""
        except (ValidationError, ConfigError) as exc:
            # A team saved when its services existed, read by a build without them: left out,
            # said once, and kept in the database for a later build.
            mark = (row.id, str(row.updated_at))
            if mark not in self._refused:
                self._refused.add(mark)
                log.error(
                    "a team set up from chat is not valid here", extra={"team": row.id, "problem": str(exc)}
                )
            return None, str(exc).splitlines()[0]


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
