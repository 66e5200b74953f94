"""Pulse surveys: opening a team's run, reminding, closing, and recording answers.

Everyone on a team is asked once per period (the run's ``period_key`` is unique in the database).
Answers are stored under a keyed hash of the person and the run, so the answers table names
nobody, and nothing here ever reads one person's answers for anyone but that person.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.errors import ConfigError, SurveyError
from bot.ports import Courier
from bot.reply import Action, Reply, Section
from bot.storage.surveys import SENT, UNKNOWN, Message, Recipient, Run, RunClosed, SurveyStore
from jobs.config import Team, TeamsFile, zone
from jobs.survey_message import COMMENT, MAX_COMMENT, NOT_USED, SurveyMessages
from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)

Now = Callable[[], datetime]
LATE_REMINDER_MIN = timedelta(hours=4)  # a run opened with less left than this gets no reminder
PLATFORM_SETUP = {
    "slack": "set SLACK_BOT_TOKEN (and SLACK_SIGNING_SECRET for answers)",
    "teams": "set MICROSOFT_APP_ID and its password, or run the Teams endpoint in local mode",
}


@dataclass(frozen=True)
class Opened:
    run: Run
    created: bool
    invited: int


class Surveys:
    def __init__(
        self,
        store: SurveyStore,
        teams: TeamsFile,
        kb: KnowledgeBase,
        couriers: Mapping[str, Courier],
        secret: bytes,
        now: Now,
        default_timezone: str = "Europe/London",
    ) -> None:
        self.store = store
        self.teams = teams
        self.kb = kb
        self.couriers = couriers
        self.secret = secret
        self.now = now
        self.default_timezone = default_timezone
        self.messages = SurveyMessages(kb, teams, default_timezone)
        self._messages_made: dict[tuple[int, str], Reply] = {}

    # -- identity -------------------------------------------------------------------------------

    def respondent(self, run_id: int, user: str) -> str:
        """The keyed hash that stands for ``user`` (platform-qualified) in one run's answers."""
        return hmac.new(self.secret, f"{run_id}\x00{user}".encode(), hashlib.sha256).hexdigest()

    # -- running a survey -------------------------------------------------------------------------

    def period_key(self, team: Team, when: datetime) -> str:
        local = when.astimezone(self.zone(team))
        year, week, _ = local.isocalendar()
        return f"{team.id}/{year}-W{week:02d}"

    def zone(self, team: Team) -> zoneinfo.ZoneInfo:
        return zone(team, self.default_timezone)

    def courier(self, platform: str) -> Courier:
        courier = self.couriers.get(platform)
        if courier is None:
            setup = PLATFORM_SETUP.get(platform, "nothing sends on it")
            raise ConfigError(f"{platform.capitalize()} is not connected: {setup}")
        return courier

    def _runnable(self, team_id: str) -> Team:
        """The team, when surveys may be run for it by command: not a team the program made."""
        if team_id in self.teams.extra:
            raise SurveyError(f"{team_id} is the web chat's demo team: try it in the web chat's demo panel")
        return self.teams.team(team_id)

    async def open(
        self, team_id: str, period: str | None = None, opened_at: datetime | None = None
    ) -> Opened:
        """Opens the team's run for the period (now's, unless given); a run already open or held
        for that period is returned as it is. Invitations are queued, not sent: the sender sends."""
        team = self._runnable(team_id)
        now = self.now()
        start = opened_at or now
        key = period or self.period_key(team, start)
        if not key.startswith(f"{team.id}/") or len(key) > 128:
            raise SurveyError(
                f"a period key for team {team.id} starts with '{team.id}/', e.g. {team.id}/2026-W49-extra"
            )
        existing = await asyncio.to_thread(self.store.run_for_period, key)
        if existing is not None:
            return Opened(existing, False, len(await asyncio.to_thread(self.store.recipients, existing.id)))
        audience = await self._audience(team)
        settings = team.survey
        closes = start + timedelta(hours=settings.open_hours)
        remind_at = _reminder_time(start, now, closes, settings.reminder_after_hours)
        run, created = await asyncio.to_thread(
            self.store.open_run,
            team.id,
            key,
            team.platform,
            team.services,
            start,
            remind_at,
            closes,
            audience,
        )
        if created:
            log.info("survey opened", extra={"team": team.id, "period": key, "invited": len(audience)})
        invited = len(audience) if created else len(await asyncio.to_thread(self.store.recipients, run.id))
        return Opened(run, created, invited)

    async def _audience(self, team: Team) -> list[Recipient]:
        """Everyone to ask, each on their platform: the team's own, or the one a member is
        prefixed with ("teams:29:..." in a Slack team), so that one survey spans both."""
        people = [member_platform(m, team.platform) for m in team.members]
        if team.members_from_channel:
            listed = await self.courier(team.platform).members_of(team.members_from_channel)
            people += [(team.platform, m) for m in listed]
        unique = list(dict.fromkeys((platform, user) for platform, user in people if user))
        couriers = {platform: self.courier(platform) for platform, _ in unique}
        return [
            Recipient(user, await couriers[platform].workspace_of(user), platform)
            for platform, user in unique
        ]

    def current_run(self, team_id: str) -> Run:
        """The team's open run, or SurveyError saying there is none."""
        self._runnable(team_id)
        run = self.store.latest_run(team_id, state="open")
        if run is None:
            raise SurveyError(
                f"team {team_id} has no open survey: open one with `pmo-bot survey open --team {team_id}`"
            )
        return run

    def remind(self, team_id: str) -> tuple[Run, int]:
        """Queues a reminder for everyone invited who has not answered (and can be reached)."""
        run = self.current_run(team_id)
        return run, self._remind(run)

    def _remind(self, run: Run) -> int:
        """Reminders for people who have not answered and whose invitation reached them, or could
        not reach them then (on Teams, someone may have installed the app since; for anyone still
        without it nothing is sent). Not while an invitation is still on its way."""
        answered = self.store.respondents(run.id)
        invites = self._messages(run, "invite")
        reached = {(m.platform, m.recipient) for m in invites if m.state in (SENT, UNKNOWN)}
        waiting = [
            r
            for r in self.store.recipients(run.id)
            if (r.platform, r.user) in reached
            and self.respondent(run.id, f"{r.platform}:{r.user}") not in answered
        ]
        return self.store.queue_reminders(run.id, waiting, self.now())

    def wanted(self, run: Run, message: Message) -> bool:
        """At send time: a reminder goes only to someone who has still not answered."""
        if message.kind != "reminder":
            return True
        who = self.respondent(run.id, f"{message.platform}:{message.recipient}")
        return who not in self.store.respondents(run.id)

    def _messages(self, run: Run, kind: str) -> list[Message]:
        return self.store.messages(run.id, kind)

    def close(self, team_id: str) -> Run:
        run = self.current_run(team_id)
        self.store.close_run(run.id, self.now())
        log.info("survey closed", extra={"team": team_id, "period": run.period_key})
        closed = self.store.run(run.id)
        assert closed is not None
        return closed

    def status(self, team_id: str) -> dict[str, object]:
        """Counts for the team's latest run: invited, reached, answered (counted and worded as the
        digest counts them: :class:`jobs.digest_model.Turnout`), delivery outcomes. No answers."""
        from jobs.digest import turnout  # jobs.digest needs nothing of this module

        team = self.teams.team(team_id)
        run = self.store.latest_run(team_id)
        if run is None:
            return {"team": team.id, "run": None, "invited": 0, "reached": 0, "answered": 0}
        counts = self.store.delivery_counts(run.id)
        got = turnout(self.store, run.id)

        def of(kind: str) -> dict[str, int]:
            return {state: n for (k, state), n in sorted(counts.items()) if k == kind}

        invites = of("invite")
        return {
            "team": team.id,
            "name": team.title,
            "platform": run.platform,
            "run": run.period_key,
            "state": run.state,
            "opened_at": run.opened_at.isoformat(),
            "closes_at": run.closes_at.isoformat(),
            "closed_at": run.closed_at.isoformat() if run.closed_at else None,
            "reminded_at": run.reminded_at.isoformat() if run.reminded_at else None,
            "invited": got.invited,
            "reached": got.reached,
            "not_reached": got.not_reached,
            "answered": got.answered,
            "response_rate": got.response_rate,  # answered of those reached
            "turnout": got.describe(),
            "delivered": invites.get("sent", 0),
            "waiting": invites.get("pending", 0) + invites.get("sending", 0),
            "not_installed": invites.get("unknown", 0),
            "unreachable": invites.get("inactive", 0),
            "failed": invites.get("failed", 0),
            "unchecked": invites.get("unchecked", 0),
            "invites": invites,
            "reminders": of("reminder"),
        }

    # -- what is due ------------------------------------------------------------------------------

    def due_opens(self, now: datetime) -> list[tuple[Team, str, datetime]]:
        """Scheduled runs whose time has come and whose window is still open, not yet opened:
        (team, period key, the scheduled time). Catches up on runs missed while no clock ran."""
        from apscheduler.triggers.cron import CronTrigger

        due = []
        for team in self.teams.load().teams:
            trigger = CronTrigger.from_crontab(team.survey.schedule, timezone=self.zone(team))
            fired = _last_fire(trigger, now, timedelta(hours=team.survey.open_hours))
            if fired is None or self.teams.skips(team.id, fired):
                continue  # not due, or due while the team's surveys were paused
            key = self.period_key(team, fired)
            if self.store.run_for_period(key) is None:
                due.append((team, key, fired))
        return due

    def close_and_remind_due(self, now: datetime) -> tuple[list[Run], int]:
        """Closes runs past their time and queues reminders that fell due; returns the closed runs
        and how many reminders were queued."""
        closed, reminded = [], 0
        for run in self.store.open_runs():
            if run.closes_at <= now:
                if self.store.close_run(run.id, now):
                    log.info("survey closed", extra={"team": run.team_id, "period": run.period_key})
                    closed.append(self.store.run(run.id) or run)  # as closed, not as it was
            elif run.remind_at is not None and run.reminded_at is None and run.remind_at <= now:
                reminded += self._remind(run)
        return closed, reminded

    # -- the survey as a message -------------------------------------------------------------------

    def message(self, run: Run, message: Message) -> Reply:
        """The invitation or reminder for one recipient (who has not answered yet). The same for
        everyone on a run, so it is made once: adapters then render it once too."""
        key = (run.id, message.kind)
        reply = self._messages_made.get(key)
        if reply is None:
            if len(self._messages_made) > 64:
                self._messages_made.clear()
            reply = self._messages_made[key] = self.survey_reply(
                run, {}, "", reminder=message.kind == "reminder"
            )
        return reply

    def survey_reply(
        self,
        run: Run,
        ratings: Mapping[str, int | None],
        comment: str,
        reminder: bool = False,
        recorded: bool = False,
    ) -> Reply:
        return self.messages.survey(run, ratings, comment, reminder, recorded)

    # -- answers --------------------------------------------------------------------------------

    def answer(self, action: Action, user: str | None) -> Reply:
        """A click or a submitted card from ``user`` ("slack:U123"): record it, and show the survey
        with what is now recorded (or why nothing was)."""
        run, problem = self._run_for(action, user)
        if problem is not None:
            return problem
        assert run is not None and user is not None
        respondent = self.respondent(run.id, user)
        if action.intent == "survey_form":
            mine, said = self.store.answers_of(run.id, respondent)
            return self.survey_reply(run, mine, said, recorded=bool(mine or said))
        ratings = _ratings(action, run)
        comment: str | None = action.slots.get(COMMENT)
        if not ratings and comment is None:
            ratings_now, comment_now = self.store.answers_of(run.id, respondent)
            return self.survey_reply(run, ratings_now, comment_now, recorded=bool(ratings_now))
        try:
            self.store.record_answer(
                run.id, respondent, ratings, None if comment is None else _clean(comment)
            )
        except RunClosed as closed:
            return self._closed(run, closed.closed_at)
        ratings_now, comment_now = self.store.answers_of(run.id, respondent)
        return self.survey_reply(run, ratings_now, comment_now, recorded=True)

    def _run_for(self, action: Action, user: str | None) -> tuple[Run | None, Reply | None]:
        if not user or ":" not in user:
            return None, _note("Survey", "I can't tell who you are here, so I can't record an answer.")
        number = action.slots.get("run", "")
        run = self.store.run(int(number)) if number.isdigit() and len(number) <= 9 else None
        if run is None:
            return None, _note("Survey", "I can't find that survey any more.")
        platform, _, raw = user.partition(":")
        if not self.store.is_invited(run.id, raw, platform):
            return None, _note(
                "Survey", "That survey was sent to someone else, so your click was not recorded."
            )
        if not run.is_open:
            return None, self._closed(run, run.closed_at)
        return run, None

    def _closed(self, run: Run, closed_at: datetime | None) -> Reply:
        return self.messages.closed(run, closed_at)

    def pending(self, user: str | None, private: bool = True) -> Reply:
        """``/pmo survey``: the open survey waiting for this person, to answer now. Where others
        would see the reply (a channel), only where to find it: it shows what they chose."""
        if not user or ":" not in user:
            return _note("Pulse survey", "I can't tell who you are here, so I can't look up your surveys.")
        platform, _, raw = user.partition(":")
        runs = self.store.invited_runs(platform, raw)
        if not runs:
            return _note(
                "Pulse survey",
                "You have no survey to answer right now. When your PMO's weekly pulse opens, it arrives "
                "here as a message you can answer in a few clicks.",
            )
        if not private:
            return _note(
                "Pulse survey",
                f"You have {len(runs)} survey{'s' if len(runs) > 1 else ''} waiting. Answers are private, so "
                "ask me for your survey in a direct message (say \u201csurvey\u201d there).",
            )
        answered = self.store.respondents
        unanswered = [r for r in runs if self.respondent(r.id, user) not in answered(r.id)]
        run = (unanswered or runs)[0]
        ratings, comment = self.store.answers_of(run.id, self.respondent(run.id, user))
        reply = self.survey_reply(run, ratings, comment, recorded=bool(ratings or comment))
        others = len(runs) - 1
        plural = "s" if others > 1 else ""
        more: tuple[Section, ...] = ()
        if others:
            more = (Section(text=f"You have {others} more survey{plural} open: ask again after this one."),)
        return Reply(
            reply.title,
            reply.sections + more,
            questions=reply.questions,
            form=reply.form,
            intent=reply.intent,
        )


def _ratings(action: Action, run: Run) -> dict[str, int | None]:
    """The ratings an action carries: one pick (slots q, v) or a whole card (slots q:<function>)."""
    picks: dict[str, str] = {}
    if "q" in action.slots and "v" in action.slots:
        picks[action.slots["q"]] = action.slots["v"]
    for key, value in action.slots.items():
        if key.startswith("q:") and value:
            picks[key[2:]] = value
    out: dict[str, int | None] = {}
    for function_id, value in picks.items():
        if function_id not in run.services:
            continue  # a forged or stale pick: only the run's services are rated
        if value == NOT_USED:
            out[function_id] = None
        elif value in {"1", "2", "3", "4", "5"}:
            out[function_id] = int(value)
    return out


def member_platform(member: str, default: str) -> tuple[str, str]:
    """A member entry as (platform, user id): "teams:29:1abc" and "slack:U0AAA" name their
    platform; a bare id is on the team's."""
    for platform in PLATFORM_SETUP:
        if member.startswith(f"{platform}:"):
            return platform, member[len(platform) + 1 :]
    return default, member


def _reminder_time(
    start: datetime, now: datetime, closes: datetime, after_hours: float | None
) -> datetime | None:
    """When to remind. A run opened late (a clock was down when it fell due) would otherwise send
    its reminder with its invitations: then the reminder comes halfway through what is left, or
    not at all when little is left."""
    if after_hours is None:
        return None
    remind_at = start + timedelta(hours=after_hours)
    if remind_at > now:
        return remind_at
    left = closes - now
    return now + left / 2 if left > LATE_REMINDER_MIN else None


def _clean(text: str) -> str:
    return " ".join(text.split())[:MAX_COMMENT] if text.strip() else ""


def _last_fire(trigger: object, now: datetime, window: timedelta) -> datetime | None:
    """The trigger's latest fire time in (now - window, now], or None."""
    from apscheduler.triggers.cron import CronTrigger

    assert isinstance(trigger, CronTrigger)
    start = now - window
    fired = None
    moment = trigger.get_next_fire_time(None, start)
    while moment is not None and moment <= now:
        fired = moment
        moment = trigger.get_next_fire_time(moment, moment + timedelta(seconds=1))
    return fired


def _note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="pulse_survey")
