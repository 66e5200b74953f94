"""What the Slack App Home shows of surveys: the person's open surveys, ready to answer, and the
latest digest of each team they belong to, in summary, where they may see it.

A team's digest is for PMO admins and for the members of the team's digest channel (as ``/pmo
digest`` is), so a team member outside that channel sees their survey on Home and no scores.

The core asks from a worker thread: this reads the database. Who is in a channel is asked of the
platform on the event loop the server runs (``loop``), and kept for a few minutes, so that opening
Home again and again costs no call to Slack. Without a running loop (a command, a test calling in
directly) nobody is found in a channel, and only admins and listed members are recognised.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from bot.core import HOME_DIGEST
from bot.errors import ConfigError, SurveyError
from bot.reply import Action, Button, Reply, Section
from bot.turn import Turn
from jobs.config import Team
from jobs.digest import Digests
from jobs.digest_model import Digest, FunctionScore, week
from jobs.surveys import Surveys, member_platform

log = logging.getLogger(__name__)

MAX_SURVEYS = 3  # open surveys shown at once; any more are counted
MAX_DIGESTS = 5
MEMBERS_TTL_S = 300.0  # how long a channel's members are trusted
FAILED_TTL_S = 30.0  # and how long a failed look-up is not tried again
LOOKUP_TIMEOUT_S = 10.0
MAX_CHANNELS_KEPT = 1000

Loop = Callable[[], asyncio.AbstractEventLoop | None]


class HomeTab:
    def __init__(
        self,
        surveys: Surveys,
        digests: Digests | None,
        admins: frozenset[str],
        loop: Loop,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.surveys = surveys
        self.digests = digests
        self.admins = admins
        self.loop = loop
        self.clock = clock
        # (platform, channel) -> (good until, its members; None when the look-up failed)
        self._members: dict[tuple[str, str], tuple[float, frozenset[str] | None]] = {}
        self._lock = threading.Lock()

    def parts(self, turn: Turn) -> list[Reply]:
        """The person's open surveys (or a line saying there is none), then their digests."""
        return [*self.open_surveys(turn), *self.latest_digests(turn)]

    # -- surveys ---------------------------------------------------------------------------------

    def open_surveys(self, turn: Turn) -> list[Reply]:
        """Each open survey the person was invited to, newest first, with what they have recorded."""
        person = turn.person
        if person is None:
            return [_note("Pulse survey", "I can't tell who you are here, so I can't look up your surveys.")]
        store = self.surveys.store
        runs = store.invited_runs(turn.platform, turn.user)
        if not runs:
            return [
                _note(
                    "Pulse survey",
                    "No survey is waiting for you. When your PMO's weekly pulse opens, it arrives as a "
                    "message from me and shows here too.",
                )
            ]
        shown = []
        for run in runs[:MAX_SURVEYS]:
            ratings, comment = store.answers_of(run.id, self.surveys.respondent(run.id, person))
            shown.append(self.surveys.survey_reply(run, ratings, comment, recorded=bool(ratings or comment)))
        more = len(runs) - MAX_SURVEYS
        if more > 0:
            note = Section(
                text=f"You have {more} more survey{'s' if more > 1 else ''} open: answer "
                f"{'them' if more > 1 else 'it'} from the message I sent you."
            )
            shown[-1] = dataclasses.replace(shown[-1], sections=(*shown[-1].sections, note))
        return shown

    # -- digests ---------------------------------------------------------------------------------

    def latest_digests(self, turn: Turn) -> list[Reply]:
        """The latest closed run of each team the person belongs to, in summary, where they may
        see it; a team with no closed run yet is left out."""
        if self.digests is None or not turn.user:
            return []
        try:
            teams = self.surveys.teams.load().teams
        except ConfigError:
            log.warning("the App Home shows no digests: the teams file is broken", exc_info=True)
            return []
        shown: list[Reply] = []
        for team in teams:
            if len(shown) >= MAX_DIGESTS:
                break
            why = self._why_shown(team, turn)
            if why is None:
                continue
            try:
                digest = self.digests.build(team.id)
            except (SurveyError, ConfigError):
                continue  # no closed run yet
            shown.append(summary(digest, why))
        return shown

    def full_digest(self, team_id: str, turn: Turn) -> Reply:
        """A summary's "Show the full digest": the team's latest digest, under the same rule."""
        refused = _note(
            "Digest",
            "Digests are shown to PMO admins and to the members of the team's digest channel. Ask a PMO "
            "admin if you should see this one.",
            "digest",
        )
        if self.digests is None or team_id in self.surveys.teams.extra:
            return refused
        try:
            team = self.surveys.teams.find(team_id)
        except ConfigError:
            team = None
        if team is None or self._why_shown(team, turn) is None:
            return refused
        try:
            return self.digests.reply(self.digests.build(team.id))
        except (SurveyError, ConfigError) as exc:
            return _note("No digest yet", str(exc)[:1].upper() + str(exc)[1:] + ".", "digest")

    def _why_shown(self, team: Team, turn: Turn) -> str | None:
        """Why the person may see the team's digest on Home, or None: they must belong to the team,
        and be a PMO admin or in the team's digest channel."""
        if not self._belongs(team, turn):
            return None
        # A web chat browser is known by a cookie alone: no credential to be an admin by.
        if turn.platform != "web" and turn.person in self.admins:
            return "You see this as a PMO admin."
        if (
            team.digest_channel
            and team.platform == turn.platform
            and self._in_channel(team.platform, team.digest_channel, turn.user)
        ):
            return "You see this as a member of the team's digest channel."
        return None

    def _belongs(self, team: Team, turn: Turn) -> bool:
        me = (turn.platform, turn.user)
        if any(member_platform(m, team.platform) == me for m in team.members):
            return True
        return (
            team.members_from_channel is not None
            and team.platform == turn.platform
            and self._in_channel(team.platform, team.members_from_channel, turn.user)
        )

    # -- channel members -------------------------------------------------------------------------

    def _in_channel(self, platform: str, channel: str, user: str) -> bool:
        members = self._members_of(platform, channel)
        return members is not None and user in members

    def _members_of(self, platform: str, channel: str) -> frozenset[str] | None:
        key = (platform, channel)
        now = self.clock()
        with self._lock:
            kept = self._members.get(key)
        if kept is not None and kept[0] > now:
            return kept[1]
        loop = self.loop()
        if loop is None or loop.is_closed() or _running(loop):
            return None  # nobody to ask from here (and never wait on the loop from the loop)
        found = self._ask(loop, platform, channel)
        with self._lock:
            if len(self._members) >= MAX_CHANNELS_KEPT:
                self._members.clear()
            self._members[key] = (now + (MEMBERS_TTL_S if found is not None else FAILED_TTL_S), found)
        return found

    def _ask(self, loop: asyncio.AbstractEventLoop, platform: str, channel: str) -> frozenset[str] | None:
        try:
            courier = self.surveys.courier(platform)
        except ConfigError:
            return None
        future = asyncio.run_coroutine_threadsafe(courier.members_of(channel), loop)
        try:
            return frozenset(future.result(timeout=LOOKUP_TIMEOUT_S))
        except Exception as exc:
            future.cancel()
            log.warning(
                "the App Home could not list a channel's members: %s",
                exc or type(exc).__name__,
                extra={"channel": channel},
            )
            return None


def summary(digest: Digest, why: str) -> Reply:
    """A digest in a few lines, for Home: who answered, the lowest scores, and a way to the rest."""
    sections = [Section(text=digest.turnout.sentence())]
    by_id = {s.function_id: s for s in digest.scores}
    lowest = [by_id[f] for f in digest.lowest if f in by_id and by_id[f].mean is not None]
    if digest.withheld:
        sections.append(
            Section(
                text=f"Scores are withheld: fewer than {digest.min_responses} people answered, and a "
                "score from so few could give someone's answers away."
            )
        )
    elif lowest:
        scored = sum(1 for s in digest.scores if s.mean is not None)
        sections.append(
            Section(
                f"Lowest of {scored} scored service{'s' if scored > 1 else ''}",
                bullets=tuple(_score_line(s, digest.previous_period) for s in lowest),
            )
        )
    else:
        sections.append(Section(text="No service had enough ratings for a score."))
    sections.append(Section(text=why))
    return Reply(
        f"{digest.team_name}: PMO pulse, {week(digest.period_key)}",
        tuple(sections),
        buttons=(Button("Show the full digest", Action(HOME_DIGEST, {"team": digest.team_id})),),
        intent="digest",
    )


def _score_line(score: FunctionScore, previous: str | None) -> str:
    assert score.mean is not None
    line = f"{score.name}: {score.mean:.1f} out of 5"
    if score.change is not None and previous:
        change = f"{score.change:+.1f}".replace("-", "−")
        line += f" ({change} on {week(previous)})"
    return line


def _running(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _note(title: str, text: str, intent: str = "pulse_survey") -> Reply:
    return Reply(title, (Section(text=text),), intent=intent)
