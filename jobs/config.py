"""Teams and their surveys, from the ``PMO_CONFIG`` YAML file (format in the interface contract).

A missing file means no teams. A file with a mistake is refused whole, with every problem named by
team and field; a running process that sees a broken edit keeps the last good version and logs why.
"""

from __future__ import annotations

import logging
import os
import threading
import zoneinfo
from collections.abc import Collection, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.errors import ConfigError

log = logging.getLogger(__name__)

BUILTIN_IDS = frozenset({"web-demo"})
MIN_RESPONSES_FLOOR = 3  # below this, a score could give away one person's answer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SurveySettings(_Strict):
    schedule: str = "0 9 * * mon"
    timezone: str | None = None  # None: PMO_TIMEZONE
    open_hours: float = Field(default=72, gt=0, le=24 * 28)
    reminder_after_hours: float | None = Field(default=48, gt=0)
    min_responses: int = Field(default=5, ge=MIN_RESPONSES_FLOOR)
    min_comments: int = Field(default=10, ge=MIN_RESPONSES_FLOOR)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        try:
            trigger = CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a cron schedule ({exc}); for example '0 9 * * mon'") from None
        if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
            raise ValueError(f"{value!r} never fires (no such date); for example '0 9 * * mon'")
        if _fires_twice_a_week(trigger):
            raise ValueError(f"{value!r} fires more than once a week; a pulse survey runs at most weekly")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            _zone_or_error(value)
        return value

    @model_validator(mode="after")
    def _order(self) -> SurveySettings:
        if self.reminder_after_hours is not None and self.reminder_after_hours >= self.open_hours:
            raise ValueError("reminder_after_hours must be less than open_hours, or the reminder never goes")
        if self.min_comments < self.min_responses:
            raise ValueError("min_comments cannot be below min_responses")
        return self


class Team(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    name: str = ""
    # "web" is the local web chat's, kept for the built-in demo team: a teams file cannot use it.
    platform: Literal["slack", "teams", "web"]
    members: tuple[str, ...] = ()
    members_from_channel: str | None = None
    digest_channel: str | None = None
    services: tuple[str, ...] = Field(min_length=1)
    survey: SurveySettings = SurveySettings()

    @property
    def title(self) -> str:
        return self.name or self.id

    # Teams the program makes (validated with context {"builtin": True}) may be on "web" and use
    # the ids kept for them; a teams file may not, so its teams can never be mistaken for them.
    @field_validator("platform", mode="before")
    @classmethod
    def _platform(cls, value: object, info: ValidationInfo) -> object:
        if value not in ("slack", "teams") and not (_builtin(info) and value == "web"):
            raise ValueError("Input should be 'slack' or 'teams'")
        return value

    @field_validator("id")
    @classmethod
    def _kept(cls, value: str, info: ValidationInfo) -> str:
        if value in BUILTIN_IDS and not _builtin(info):
            raise ValueError(f"{value!r} is kept for the web chat's demo team; choose another id")
        return value

    @model_validator(mode="after")
    def _audience(self) -> Team:
        if not self.members and not self.members_from_channel:
            raise ValueError("give members, members_from_channel or both: otherwise nobody is asked")
        if len(set(self.services)) != len(self.services):
            raise ValueError("a service is listed twice")
        return self


class TeamList(_Strict):
    """What a teams file holds: its teams, each id once."""

    teams: tuple[Team, ...] = ()

    @model_validator(mode="after")
    def _unique(self) -> TeamList:
        ids = [t.id for t in self.teams]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"team ids must be unique: {', '.join(twice)}")
        return self

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)


def _builtin(info: ValidationInfo) -> bool:
    return isinstance(info.context, dict) and info.context.get("builtin") is True


def parse(text: str, source: str, functions: Collection[str] = ()) -> TeamList:
    """The teams in ``text``; ConfigError naming every problem. ``functions``: the known function
    ids, to catch a misspelt service."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}: not valid YAML{where}") from None
    if data is None:
        return TeamList()
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with a 'teams' list")
    try:
        parsed = TeamList.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: " + "; ".join(_problem(data, e) for e in exc.errors())) from None
    problems = [
        f"team {t.id}: unknown service {s!r}"
        for t in parsed.teams
        for s in t.services
        if functions and s not in functions
    ]
    if problems:
        raise ConfigError(f"{source}: " + "; ".join(problems))
    return parsed


def _problem(data: dict[str, object], error: Mapping[str, Any]) -> str:
    loc = [str(x) for x in error.get("loc", ())]
    if len(loc) >= 2 and loc[0] == "teams" and loc[1].isdigit():
        teams = data.get("teams")
        index = int(loc[1])
        name = None
        if isinstance(teams, list) and index < len(teams) and isinstance(teams[index], dict):
            name = teams[index].get("id")
        loc = [f"team {name or '#' + str(index + 1)}", *loc[2:]]
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{'.'.join(loc) or 'file'}: {message}"


def _fires_twice_a_week(trigger: CronTrigger) -> bool:
    """Whether two fire times over the next year fall in one ISO week (runs are keyed by week)."""
    moment = trigger.get_next_fire_time(None, datetime.now(UTC))
    weeks: set[tuple[int, int]] = set()
    for _ in range(60):
        if moment is None:
            return False
        year, number, _ = moment.isocalendar()
        week = (year, number)
        if week in weeks:
            return True
        weeks.add(week)
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return False


def _zone_or_error(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; for example Europe/London") from None


def zone(team: Team, default: str) -> zoneinfo.ZoneInfo:
    return _zone_or_error(team.survey.timezone or default)


class TeamsFile:
    """The teams file, re-read when it changes (checked at most once per call, by its mtime)."""

    def __init__(self, path: Path, functions: Collection[str] = (), extra: Collection[Team] = ()) -> None:
        self.path = path
        self.functions = frozenset(functions)
        # Teams made by the program rather than the file (the web chat's demo team): found by id,
        # never listed, so that no clock schedules them and no command counts them.
        self.extra = {t.id: t for t in extra}
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._current = TeamList()
        self._good = False
        self.error: str | None = None

    def load(self) -> TeamList:
        """The current teams; ConfigError when the file is broken and no good version was read."""
        with self._lock:
            stamp = self._stat()
            if stamp != self._stamp:
                self._stamp = stamp
                self._read(stamp is not None)
            if self.error and not self._good:
                raise ConfigError(self.error)
            return self._current

    def _read(self, exists: bool) -> None:
        if not exists:
            self._current, self.error, self._good = TeamList(), None, True
            return
        try:
            self._current = parse(self.path.read_text(encoding="utf-8"), str(self.path), self.functions)
            self.error, self._good = None, True
            log.info("teams file read", extra={"path": str(self.path), "teams": len(self._current.teams)})
        except ConfigError as exc:
            self.error = str(exc)
        except (OSError, UnicodeDecodeError) as exc:
            self.error = f"{self.path}: cannot read ({exc})"
        if self.error:
            log.error("teams file refused; keeping the last good one", extra={"problem": self.error})

    def refresh(self) -> None:
        """Re-reads what is kept outside the file (``jobs.teams``); the file itself is re-read by
        ``load`` when it changes."""

    def find(self, team_id: str) -> Team | None:
        return self.load().team(team_id) or self.extra.get(team_id)

    def team(self, team_id: str) -> Team:
        team = self.find(team_id)
        if team is None:
            known = ", ".join(t.id for t in self.load().teams) or f"none: add teams to {self.path}"
            raise ConfigError(f"unknown team {team_id!r} (teams: {known})")
        return team

    def skips(self, team_id: str, moment: datetime) -> bool:
        """Whether the team's run due at ``moment`` is skipped (paused teams: ``jobs.teams``)."""
        return False

    def _stat(self) -> tuple[int, int] | None:
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return None
        return info.st_mtime_ns, info.st_size
