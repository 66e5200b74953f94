"""Teams set up and run from chat, for PMO admins: ``/pmo survey setup [team]`` (a form),
``list``, ``pause``, ``resume``, ``preview`` and ``history``. Every change is kept with who made it
and when (``bot.storage.teams``); the teams file still wins for the teams it names.

Called from worker threads (the core's turns); checking a channel with the platform is handed to
the event loop through ``check``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from apscheduler.triggers.cron import CronTrigger

from bot.errors import ConfigError, SurveyError
from bot.reply import Action, Reply, Section
from bot.storage.survey_rows import Run
from bot.storage.teams import TeamChange, TeamStore
from bot.turn import Turn
from jobs.config import Team, zone
from jobs.digest_model import week
from jobs.setup_form import FIELD_LABELS, PLATFORMS, changes, definition, raw_values, read_team, setup_form
from jobs.surveys import Surveys
from jobs.teams import TeamDirectory

log = logging.getLogger(__name__)

PREVIEW = "survey_preview"
# (platform, channel id, whether the bot must post there) -> why it cannot, or "".
ChannelCheck = Callable[[str, str, bool], str]


class TeamSetup:
    def __init__(
        self,
        surveys: Surveys,
        teams: TeamDirectory,
        store: TeamStore,
        check: ChannelCheck,
        now: Callable[[], datetime],
    ) -> None:
        self.surveys = surveys
        self.teams = teams
        self.store = store
        self.check = check
        self.now = now

    # -- the form ---------------------------------------------------------------------------------

    def form(self, team_id: str, turn: Turn) -> Reply:
        """``/pmo survey setup [team]``: the form, empty for a new team or filled for an edit."""
        team = None
        values: dict[str, str] = {}
        problem = ""
        if team_id:
            state = self.teams.state(team_id)
            if state.source == "file":
                return _note(f"{team_id} is set up in the teams file", self._file_rule(team_id))
            team = self.teams.find(team_id) if state.source == "chat" else None
            stored = state.stored
            if team is None and team_id in self.teams.invalid and stored and stored.definition:
                # Kept, but not one this build can run: shown as saved, to be put right.
                values, problem = raw_values(stored.definition), self.teams.invalid[team_id]
            elif team is None:
                return _note("No such team", f"No team {team_id} yet. {self._new_team_hint()}")
        else:
            values = self._suggestions(turn)
        platform = turn.platform if turn.platform in PLATFORMS else (team.platform if team else "")
        platform = platform or values.get("platform", "")
        reply = self._form_reply(platform, team, values, {}, team_id)
        if problem:
            said = (
                f"{team_id} was saved before, but this build cannot run it ({problem}): correct it and save."
            )
            return replace(reply, sections=(Section(text=said),))
        return reply

    def submit(self, action: Action, turn: Turn) -> Reply:
        """A submitted form: saved whole, or shown again with the reason for each refused field."""
        slots = action.slots
        editing = slots.get("editing", "")
        platform = slots.get("platform") or (turn.platform if turn.platform in PLATFORMS else "")
        team_id = editing or slots.get("id", "").strip()
        before = self.teams.find(editing) if editing else None
        team, errors = read_team(slots, platform, team_id, self.teams.functions)
        if team_id and not errors.get("id"):
            problem = self._id_problem(team_id, editing)
            if problem:
                errors["id"] = problem
        if team is not None and not errors:
            errors = self._channel_problems(team)
        if team is None or errors:
            log.info("team set-up refused", extra={"team": team_id, "fields": sorted(errors)})
            return self._form_reply(platform, before, slots, errors, editing)
        now = self.now()
        new = definition(team)
        old = self.store.get(team.id)
        detail = changes(old.definition if old is not None else None, new)
        if editing and old is not None and old.definition is not None and not detail:
            return self._saved(team, "unchanged", {})  # nothing to write, nor to put in the trail
        action_done = self.store.save(team.id, new, _who(turn), now, detail, new=not editing)
        if action_done == "exists":
            errors = {
                "id": f"A team {team.id} was set up a moment ago: edit it with /pmo survey setup {team.id}."
            }
            return self._form_reply(platform, None, slots, errors, editing)
        self.teams.refresh()
        log.info("team set up from chat", extra={"team": team.id, "change": action_done, "by": turn.person})
        return self._saved(team, action_done, detail)

    def _form_reply(
        self,
        platform: str,
        team: Team | None,
        values: Mapping[str, str],
        errors: Mapping[str, str],
        editing: str,
    ) -> Reply:
        form = setup_form(
            self.surveys.kb,
            platform,
            team,
            values,
            errors,
            self.surveys.default_timezone,
            self._form_note(),
            editing,
        )
        sections: tuple[Section, ...] = ()  # the form says itself where the file wins (its note)
        if errors:
            lines = tuple(f"{FIELD_LABELS.get(k, k)}: {v}" for k, v in errors.items())
            sections = (Section("Nothing was saved. Please correct:", bullets=lines),)
        title = "Not saved yet" if errors else form.title
        # A refused form redraws the one submitted where the platform can (Teams, the web chat).
        return Reply(title, sections, form=form, intent="pulse_survey", replace=bool(errors))

    def _form_note(self) -> str:
        named = [t.id for t in self.teams.load().teams if self.teams.state(t.id).source == "file"]
        where = self.teams.path.name
        if not named:
            return f"A team set up here is kept in the database; one named in {where} would take precedence."
        shown = ", ".join(named[:8]) + ("…" if len(named) > 8 else "")
        return f"The survey teams in {where} ({shown}) are managed there: the file wins for those ids."

    def _suggestions(self, turn: Turn) -> dict[str, str]:
        # Asked in a channel: that channel is the likely digest channel.
        if turn.platform == "slack" and turn.channel[:1] in ("C", "G"):
            return {"digest_channel": turn.channel}
        if turn.platform == "teams" and turn.shared and turn.channel:
            return {"digest_channel": turn.channel.split(";", 1)[0]}
        return {}

    def _id_problem(self, team_id: str, editing: str) -> str:
        if self.teams.in_file(team_id):
            where = self.teams.path.name
            return f"{team_id} is in {where}, which takes precedence: edit it there or choose another id."
        if not editing and self.teams.find(team_id) is not None:
            return f"A team {team_id} exists already: edit it with /pmo survey setup {team_id}."
        return ""

    def _channel_problems(self, team: Team) -> dict[str, str]:
        problems = {}
        for key, channel, post in (
            ("digest_channel", team.digest_channel, True),
            ("members_from_channel", team.members_from_channel, False),
        ):
            if channel:
                problem = self.check(team.platform, channel, post)
                if problem:
                    problems[key] = problem if problem.endswith(".") else problem + "."
        return problems

    def _saved(self, team: Team, done: str, detail: Mapping[str, Any]) -> Reply:
        who = _people(len(team.members)) if team.members else ""
        if team.members_from_channel:
            who = (who + " and " if who else "") + f"everyone in {team.members_from_channel}"
        names = [self.surveys.kb.functions[s].name for s in team.services if s in self.surveys.kb.functions]
        lines = (
            f"Asked: {who}.",
            f"Services: {', '.join(names)}.",
            f"Digest: {team.digest_channel}, with scores from {team.survey.min_responses} answers.",
            f"Next survey: {self._next_run(team)}.",
        )
        changed = ", ".join(FIELD_LABELS.get(k, k).lower() for k in detail) if done == "edited" else ""
        text = f"Changed: {changed}." if changed else ""
        if done == "unchanged":
            text = "Nothing changed, so nothing was saved."
        if self.teams.state(team.id).paused:
            # An id once paused (a teams-file team of that name, say) stays paused until resumed.
            text += f" It is paused: no survey opens until `/pmo survey resume {team.id}`."
        return Reply(
            f"{team.title} {'set up' if done == 'created' else 'saved' if done == 'edited' else 'unchanged'}",
            (
                Section(text=text, bullets=lines),
                Section(
                    text=f"Try `/pmo survey preview {team.id}` to see what members get; "
                    f"`/pmo survey pause {team.id}` over a holiday."
                ),
            ),
            intent="pulse_survey",
            replace=True,  # the form it came from gives way to what was saved
        )

    # -- list, pause, resume, history, preview --------------------------------------------------------

    def list(self) -> Reply:
        teams = self.teams.load().teams
        if not teams:
            return _note("No teams yet", self._new_team_hint())
        lines = []
        for team in teams:
            state = self.teams.state(team.id)
            where = "teams file" if state.source == "file" else "set up in chat"
            status = "paused" if state.paused else f"next survey {self._next_run(team)}"
            latest = self.surveys.store.latest_run(team.id)
            last = f"; last {week(latest.period_key)} ({latest.state})" if latest else ""
            name = f" ({team.name})" if team.name and team.name != team.id else ""
            lines.append(f"{team.id}{name} · {_platform(team.platform)} · {where} · {status}{last}")
        lines += [f"{i} · set up in chat, not run: the teams file names it too" for i in self.teams.hidden()]
        lines += [
            f"{i} · set up in chat, not valid here: {why}" for i, why in sorted(self.teams.invalid.items())
        ]
        return Reply(
            f"Survey teams ({len(teams)})",
            (Section(bullets=tuple(lines)), Section(text=self._new_team_hint())),
            intent="pulse_survey",
        )

    def remove(self, team_id: str, turn: Turn) -> Reply:
        """A team set up from chat, removed: no more surveys; its past surveys and trail stay."""
        if self.teams.state(team_id).source == "file" and team_id not in self.teams.hidden():
            return _note(f"{team_id} is set up in the teams file", self._file_rule(team_id))
        if not self.store.remove(team_id, _who(turn), self.now()):
            return _note("No such team", f"No team {team_id} was set up from chat.")
        self.teams.refresh()
        open_now = self._open_run(team_id)
        tail = f" The survey {week(open_now.period_key)} already open runs to its end." if open_now else ""
        return _note(
            f"{team_id} removed",
            f"No survey opens for {team_id} from now; its past digests and its history stay.{tail}",
        )

    def pause(self, team_id: str, turn: Turn, paused: bool) -> Reply:
        team = self.surveys.teams.team(team_id)
        changed = self.store.set_paused(team.id, paused, _who(turn), self.now())
        self.teams.refresh()
        if paused:
            title = f"{team.title} paused" if changed else f"{team.title} was already paused"
            open_now = self._open_run(team.id)
            tail = f" The survey {open_now.period_key} already open runs to its end." if open_now else ""
            return _note(
                title,
                f"No survey opens for {team.title} until `/pmo survey resume {team.id}`; the weeks "
                f"in between are skipped, not caught up.{tail}",
            )
        title = f"{team.title} resumed" if changed else f"{team.title} was not paused"
        return _note(title, f"The next survey opens {self._next_run(team)}.")

    def history(self, team_id: str) -> Reply:
        team = self.surveys.teams.team(team_id)
        found = self.store.changes(team.id)
        source = self.teams.state(team.id).source
        if not found:
            where = f"It is set up in {self.teams.path.name}." if source == "file" else ""
            return _note(
                f"{team.title}: no changes from chat", f"Nothing has been changed from chat. {where}".strip()
            )
        zone_ = zone(team, self.surveys.default_timezone)
        lines = tuple(_change_line(c, zone_) for c in found)
        return Reply(
            f"{team.title}: changes ({len(found)})", (Section(bullets=lines),), intent="pulse_survey"
        )

    def preview(self, team_id: str) -> Reply:
        """The invitation exactly as members get it, with its clicks recording nothing."""
        team = self.surveys.teams.team(team_id)
        opens = self._next_fire(team) or self.now()
        run = Run(
            0,
            team.id,
            self.surveys.period_key(team, opens),
            team.platform,
            team.services,
            "preview",
            opens,
            None,
            opens + timedelta(hours=team.survey.open_hours),
            None,
            None,
        )
        survey = self.surveys.messages.survey(run, {}, "")
        click = Action(PREVIEW, {"team": team.id})
        questions = tuple(replace(q, pick=click) for q in survey.questions)
        form = replace(survey.form, submit=click, open=click) if survey.form is not None else None
        lead = Section(
            text=f"Preview for {team.title}: this is what each member gets. Clicks here record nothing."
        )
        return replace(survey, sections=(lead, *survey.sections), questions=questions, form=form)

    def preview_click(self) -> Reply:
        return _note("That was a preview", "Nothing was recorded: members answer in their own message.")

    # -- helpers ---------------------------------------------------------------------------------

    def _file_rule(self, team_id: str) -> str:
        return (
            f"{team_id} is defined in {self.teams.path.name}, which takes precedence for the teams it "
            "names: change it there. You can still pause, resume and preview it from here."
        )

    def _new_team_hint(self) -> str:
        return "Set up a team with `/pmo survey setup`."

    def _open_run(self, team_id: str) -> Run | None:
        try:
            return self.surveys.current_run(team_id)
        except (SurveyError, ConfigError):
            return None

    def _next_fire(self, team: Team) -> datetime | None:
        trigger = CronTrigger.from_crontab(team.survey.schedule, timezone=self.surveys.zone(team))
        moment = self.now()
        for _ in range(60):
            fired: datetime | None = trigger.get_next_fire_time(None, moment)
            if fired is None or not self.teams.skips(team.id, fired):
                return fired
            moment = fired + timedelta(seconds=1)
        return None

    def _next_run(self, team: Team) -> str:
        if self.teams.state(team.id).paused:
            return "none while paused"
        fired = self._next_fire(team)
        if fired is None:
            return "never (check the schedule)"
        zone_ = self.surveys.zone(team)
        local = fired.astimezone(zone_)
        return f"{local:%A} {local.day} {local:%B} at {local:%H:%M} ({zone_.key})"


def _change_line(change: TeamChange, zone_: Any) -> str:
    local = change.at.astimezone(zone_)
    when = f"{local.day} {local:%b %Y %H:%M}"
    what = change.action
    if change.detail and change.action == "edited":
        fields = ", ".join(FIELD_LABELS.get(k, k).lower() for k in list(change.detail)[:6])
        what += f" ({fields})"
    return f"{when}: {what} by {change.by}"


def _who(turn: Turn) -> str:
    """Who made a change, for the trail: the admin's platform id, or the machine's own web chat."""
    if turn.platform == "web" and turn.operator:
        return "the web chat on the bot's own machine"
    return turn.person or "unknown"


def _people(n: int) -> str:
    return "1 person" if n == 1 else f"{n} people"


def _platform(platform: str) -> str:
    return {"slack": "Slack", "teams": "Teams"}.get(platform, platform)


def _note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="pulse_survey")
