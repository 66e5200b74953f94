"""What people see of surveys in chat: answering, ``/pmo survey`` (what is waiting for me), and the
admin commands (``/pmo survey open|close|remind|status TEAM``), for ``PMO_ADMINS`` only.

The core calls these synchronously; work that takes a while (finding a channel's members,
sending) is handed to the event loop the server runs, and the sender reports progress in the log
and in ``status``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.errors import ConfigError, SurveyError
from bot.reply import Action, Reply, Section
from bot.storage.surveys import Run
from bot.turn import Turn
from jobs.digest import Digests
from jobs.home import HomeTab
from jobs.setup import PREVIEW, TeamSetup
from jobs.setup_form import OPEN, SUBMIT
from jobs.surveys import Surveys

log = logging.getLogger(__name__)

# The commands that set teams up (jobs.setup), and with them those that run surveys.
SETUP_COMMANDS = frozenset({"setup", "list", "pause", "resume", "preview", "history", "remove"})
ADMIN_COMMANDS = ("open", "close", "remind", "status", *sorted(SETUP_COMMANDS))
# Slack wants a form's answer within three seconds, and up to two channels are checked first.
CHECK_TIMEOUT_S = 1.0
Closed = Callable[[Run], Awaitable[None]]


class SurveyDesk:
    def __init__(
        self,
        surveys: Surveys,
        admins: frozenset[str],
        kick: Callable[[], None] | None = None,
        digests: Digests | None = None,
    ) -> None:
        self.surveys = surveys
        self.digests = digests
        self.admins = admins
        self.kick = kick or (lambda: None)
        self.loop: asyncio.AbstractEventLoop | None = None
        self.on_close: Closed | None = None
        # Teams set up from chat (None where the teams come from the file alone).
        self.setup: TeamSetup | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    # -- people ----------------------------------------------------------------------------------

    def answer(self, action: Action, turn: Turn) -> Reply:
        if action.intent in (SUBMIT, PREVIEW, OPEN):
            return self._setup_action(action, turn)
        return self.surveys.answer(action, turn.person)

    def _setup_action(self, action: Action, turn: Turn) -> Reply:
        refused = self._refusal(turn, setup=True)
        if refused is not None:
            return refused
        if self.setup is None:
            return _note("Set-up from chat is off", "Teams are set up in the teams file here.")
        if action.intent == PREVIEW:
            return self.setup.preview_click()
        if action.intent == OPEN:
            return self.setup.form(action.slots.get("team", ""), turn)
        return self.setup.submit(action, turn)

    def check_channel(self, platform: str, channel: str, post: bool) -> str:
        """Why the bot cannot use ``channel`` (asked of the platform on the event loop), or ""."""
        if self.loop is None:
            return ""  # no platform connected in this process: the first post will tell
        courier = self.surveys.couriers.get(platform)
        if courier is None:
            return ""  # not connected in this process (the web chat of a Slack deployment, say)
        future = asyncio.run_coroutine_threadsafe(courier.check_channel(channel, post), self.loop)
        try:
            return future.result(timeout=CHECK_TIMEOUT_S)
        except Exception:
            log.warning("could not check a channel", extra={"channel": channel}, exc_info=True)
            return ""

    def _refusal(self, turn: Turn, setup: bool = False) -> Reply | None:
        if turn.platform == "web" and setup and turn.operator:
            return None  # the web chat of the machine itself: set-up only, never a real digest
        if turn.platform == "web":
            # A web chat browser is known by a cookie alone, which is no credential for this.
            return _note(
                "Survey commands are for Slack and Teams admins",
                "Set up and run surveys from Slack or Teams, or with `pmo-bot survey`; here, "
                "try the demo team's survey in the panel beside the chat.",
            )
        if turn.person not in self.admins:
            return _note(
                "Only PMO admins can do that",
                f"Setting up, opening, closing and reminding surveys is for the admins named in PMO_ADMINS. "
                f"Your id for that list is {turn.person or 'unknown here'}.",
            )
        return None

    def pending(self, turn: Turn) -> Reply:
        return self.surveys.pending(turn.person, not turn.shared)

    # -- admins ----------------------------------------------------------------------------------

    def admin(self, command: str, team_id: str, turn: Turn) -> Reply:
        refused = self._refusal(turn, setup=command in SETUP_COMMANDS)
        if refused is not None:
            return refused
        try:
            if command in SETUP_COMMANDS:
                return self._team_command(command, team_id, turn)
            team_id = team_id or self._only_team()
            if command == "status":
                return self._status(team_id)
            if command == "open":
                return self._open(team_id)
            if command == "remind":
                run, queued = self.surveys.remind(team_id)
                self._wake()
                return _note(
                    "Reminders on their way", f"{queued} people who have not answered yet get a reminder now."
                )
            run = self.surveys.close(team_id)
            self._closed(run)
            return _note("Survey closed", f"The survey {run.period_key} is closed. {self._counts(team_id)}")
        except (ConfigError, SurveyError) as exc:
            return _note("I couldn't do that", str(exc))

    def _team_command(self, command: str, team_id: str, turn: Turn) -> Reply:
        setup = self.setup
        if setup is None:
            return _note("Set-up from chat is off", "Teams are set up in the teams file here.")
        if command == "setup":
            return setup.form(team_id, turn)
        if command == "list":
            return setup.list()
        team_id = team_id or self._only_team()
        if command in ("pause", "resume"):
            return setup.pause(team_id, turn, paused=command == "pause")
        if command == "preview":
            return setup.preview(team_id)
        if command == "remove":
            return setup.remove(team_id, turn)
        return setup.history(team_id)

    def _only_team(self) -> str:
        teams = self.surveys.teams.load().teams
        if len(teams) == 1:
            return teams[0].id
        names = ", ".join(t.id for t in teams) or "none yet"
        example = teams[0].id if teams else "delivery"
        raise SurveyError(f"Name the team, for example `/pmo survey status {example}` (teams: {names}).")

    def _open(self, team_id: str) -> Reply:
        team = self.surveys.teams.team(team_id)
        self.surveys.courier(team.platform)
        if self.loop is None:
            raise SurveyError("surveys can be opened from chat only while `pmo-bot serve` runs")

        async def work() -> None:
            try:
                opened = await self.surveys.open(team_id)
                log.info("survey opened from chat", extra={"team": team_id, "run": opened.run.period_key})
                self._wake()
            except Exception:
                log.exception("opening a survey from chat failed", extra={"team": team_id})

        self.loop.call_soon_threadsafe(lambda: _keep(asyncio.ensure_future(work())))
        return _note(
            f"Opening the survey for {team.title}",
            f"The invitations go out now. Follow progress with `/pmo survey status {team_id}`.",
        )

    def _wake(self) -> None:
        # Called from the event loop or from a worker thread: the sender lives on the loop.
        if self.loop is not None:
            self.loop.call_soon_threadsafe(self.kick)

    def _closed(self, run: Run) -> None:
        if self.on_close is not None and self.loop is not None:
            hook = self.on_close
            self.loop.call_soon_threadsafe(lambda: _keep(asyncio.ensure_future(hook(run))))

    # -- digests ---------------------------------------------------------------------------------

    def digest(self, team_id: str, turn: Turn) -> Reply:
        """``/pmo digest [team]``: for admins anywhere, and for anyone in the team's digest channel."""
        if self.digests is None:
            return _note("Digest", "Digests are not set up here.")
        user = turn.person
        teams = self.surveys.teams.load().teams
        here = [t for t in teams if t.digest_channel and turn.channel and t.digest_channel == turn.channel]
        team = next((t for t in teams if t.id == team_id), None) if team_id else None
        if team is None and not team_id:
            team = here[0] if here else (teams[0] if len(teams) == 1 else None)
        if team is None:
            names = ", ".join(t.id for t in teams) or "none yet"
            example = teams[0].id if teams else "delivery"
            return _note(
                "Which team?", f"Name the team, for example `/pmo digest {example}` (teams: {names})."
            )
        # A web chat browser is known by a cookie alone: no credential to be an admin by.
        admin = turn.platform != "web" and user in self.admins
        if not admin and team not in here:
            return _note(
                "Digests are shown in the team's channel",
                f"Ask for the {team.title} digest in its digest channel, or ask a PMO admin.",
            )
        try:
            return self.digests.reply(self.digests.build(team.id))
        except SurveyError as exc:
            return _note("No digest yet", str(exc)[:1].upper() + str(exc)[1:] + ".")

    def _status(self, team_id: str) -> Reply:
        status = self.surveys.status(team_id)
        if status["run"] is None:
            return _note("No survey yet", f"Team {team_id} has not had a survey yet.")
        return _note(f"Survey {status['run']} ({status['state']})", self._counts(team_id))

    def _counts(self, team_id: str) -> str:
        from jobs.digest_model import Turnout

        s = self.surveys.status(team_id)
        counts = (s[key] for key in ("invited", "reached", "answered"))
        got = Turnout(*(n if isinstance(n, int) else 0 for n in counts))
        parts = [got.sentence()]
        if s.get("waiting"):
            parts.append(f"{s['waiting']} invitations still being sent.")
        if s.get("not_installed"):
            parts.append(f"{s['not_installed']} people have not installed the app yet.")
        if s.get("unreachable"):
            parts.append(f"{s['unreachable']} people blocked or removed the bot.")
        if s.get("failed"):
            parts.append(f"{s['failed']} invitations failed.")
        if s.get("unchecked"):
            parts.append(f"{s['unchecked']} may have arrived but could not be checked (not sent again).")
        return " ".join(parts)

    # -- the Slack App Home ------------------------------------------------------------------------

    def home(self, turn: Turn, digest: str = "") -> list[Reply]:
        """The App Home's survey part (:mod:`jobs.home`): the person's open surveys and their teams'
        latest digests in summary; with ``digest`` (a team id), that team's full digest alone."""
        tab: HomeTab | None = self.__dict__.get("_home_tab")
        if tab is None:
            # Made on first use and kept: it remembers channels' members for a few minutes.
            tab = self._home_tab = HomeTab(self.surveys, self.digests, self.admins, lambda: self.loop)
        return [tab.full_digest(digest, turn)] if digest else tab.parts(turn)


_TASKS: set[asyncio.Future[None]] = set()


def _keep(task: asyncio.Future[None]) -> None:
    # A task nobody holds can be collected before it finishes.
    _TASKS.add(task)
    task.add_done_callback(_TASKS.discard)


def _note(title: str, text: str) -> Reply:
    return Reply(title, (Section(text=text),), intent="pulse_survey")
