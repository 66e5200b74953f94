"""The web chat's demo team: a made-up PMO with a few weeks of synthetic answers, so that someone
trying pmo-bot can answer a pulse survey and see a digest before connecting Slack or Teams.

Everything is marked as a demo: the team is "Demo PMO (sample data)" (id ``web-demo``, which a teams
file cannot use), its people are ``demo-01`` to ``demo-11`` on the ``web`` platform, and it lives
outside the teams file, so no clock schedules it and no command lists or runs it. The numbers come
from a generator seeded by the week, so they are the same on every machine. Each browser joins as
one more member; on a server shared behind a token, everyone shares the one demo team, so one
person closing or restarting its week does so for all.
"""

from __future__ import annotations

import base64
import dataclasses
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.errors import ConfigError, SurveyError
from bot.reply import Action, Button, Image, Reply, Section
from bot.storage.surveys import Recipient, Run
from jobs.config import SurveySettings, Team
from jobs.digest import Digests
from jobs.digest_model import Digest
from jobs.surveys import Surveys

log = logging.getLogger(__name__)

TEAM_ID = "web-demo"  # an id a teams file cannot use (jobs.config.BUILTIN_IDS)
PLATFORM = "web"
WORKSPACE = "demo"
PEOPLE = tuple(f"demo-{n:02d}" for n in range(1, 12))
PAST_WEEKS = 6
ANSWERED_THIS_WEEK = 8  # of the eleven made-up people, before the visitor answers

# A mean score per service for week ``i`` (weeks since 2026-01-05, so a week keeps its numbers
# whenever it is made): one service improving, one slipping, one steady and one slowly recovering,
# each over a twelve-week cycle, so that the trends have something to show.
TRENDS: dict[str, Callable[[int], float]] = {
    "reporting": lambda i: 2.9 + 0.12 * (i % 12),
    "risk_management": lambda i: 4.2 - 0.1 * (i % 12),
    "governance": lambda i: 3.7,
    "planning": lambda i: 3.0 + 0.05 * (i % 12),
}
EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday

COMMENTS = (
    "The highlight report template saved me an hour this week.",
    "Risk review felt rushed; nobody looked at the risks we closed.",
    "I could not find out who approves a change request over the tolerance.",
    "The gate review came back with clear actions. Thank you.",
    "The resource plan still lists two people who left last month.",
    "The dashboard was late on Monday and the steering group noticed.",
    "Good help getting the schedule baseline agreed with the supplier.",
    "More notice of the portfolio board deadline, please.",
    "The RAID log session was useful; more of those.",
    "I am not sure anyone reads the lessons log.",
    "Reporting deadlines clash with the sprint review.",
    "Quick answers on the business case template, much appreciated.",
)

TEAM = Team.model_validate(
    {
        "id": TEAM_ID,
        "name": "Demo PMO (sample data)",
        "platform": PLATFORM,
        "members": PEOPLE,
        "services": tuple(TRENDS),
        "survey": SurveySettings(
            open_hours=24 * 7, reminder_after_hours=None, min_responses=5, min_comments=5
        ),
    },
    context={"builtin": True},
)

Now = Callable[[], datetime]
Chart = Callable[[Digest], bytes | None]


def _note(title: str, text: str, *buttons: Button) -> Reply:
    return Reply(title, (Section(text=text),), buttons=buttons, intent="pulse_survey")


RESTART = Button("Start the demo week again", Action("demo_restart"))
CLOSE = Button("Close the survey and see the digest", Action("demo_close"))
PULSE = Button("Answer this week's pulse", Action("demo_pulse"))


class Demo:
    def __init__(self, surveys: Surveys, digests: Digests, now: Now, chart: Chart | None = None) -> None:
        self.surveys = surveys
        self.store = surveys.store
        self.digests = digests
        self.chart = chart or _chart
        self.now = now
        self._made_for = ""  # the week whose runs ensure() last made or checked in this process

    # -- seeding ----------------------------------------------------------------------------------

    def week_start(self, when: datetime) -> datetime:
        """Monday 09:00 of ``when``'s week, in the demo's time zone."""
        local = when.astimezone(self.surveys.zone(TEAM))
        return (local - timedelta(days=local.weekday())).replace(hour=9, minute=0, second=0, microsecond=0)

    def ensure(self) -> Run:
        """The past weeks and this week's run, made where missing; this week's run is returned.
        Earlier weeks still open (no clock ran to close them) are closed on the way."""
        now = self.now()
        this_week = self.week_start(now)
        for weeks_ago in range(PAST_WEEKS, 0, -1):
            # Counted back on the local clock: a week with a clock change is not 7 x 24 hours.
            self._seed(this_week - timedelta(weeks=weeks_ago), closed=True)
        # Before 09:00 on a Monday the week's run starts now rather than later today.
        current = self._seed(min(this_week, now), closed=False)
        for run in self.store.open_runs():
            if run.team_id == TEAM_ID and run.id != current.id:
                self.store.close_run(run.id, now)
        self._made_for = current.period_key
        return current

    def current(self) -> Run:
        """This week's run: one lookup once ensure() has run this week in this process (a click
        should not re-check seven weeks); the whole of ensure() when the week is new to it, or its
        run was forgotten by a restart."""
        if self._made_for == self.surveys.period_key(TEAM, self.now()):
            run = self.store.run_for_period(self._made_for)
            if run is not None:
                return run
        return self.ensure()

    def _seed(self, start: datetime, closed: bool) -> Run:
        key = self.surveys.period_key(TEAM, start)
        closes = start + timedelta(hours=72) if closed else self.week_start(start) + timedelta(weeks=1)
        run, created = self.store.open_run(TEAM_ID, key, PLATFORM, TEAM.services, start, None, closes, [])
        # A week whose making was cut short (its invitations or answers missing, or a past week
        # left open) is finished now: every step below is idempotent, and the answers are the
        # same numbers again, since the generator is seeded by the week.
        unfinished = run.is_open and (closed or not self.store.recipients(run.id))
        if not (created or unfinished):
            return run
        self.store.invite_delivered(run.id, [Recipient(p, WORKSPACE, PLATFORM) for p in PEOPLE], start)
        rng = random.Random(f"pmo-bot demo {key}")
        week = (self.week_start(start) - EPOCH).days // 7
        answering = PEOPLE if closed else PEOPLE[:ANSWERED_THIS_WEEK]
        for person in answering:
            if closed and rng.random() < 0.2:
                continue  # about four in five answer in a usual week
            ratings: dict[str, int | None] = {}
            for function_id, mean in TRENDS.items():
                ratings[function_id] = None if rng.random() < 0.06 else _score(rng.gauss(mean(week), 0.6))
            comment = rng.choice(COMMENTS) if rng.random() < 0.45 else None
            respondent = self.surveys.respondent(run.id, f"{PLATFORM}:{person}")
            self.store.record_answer(run.id, respondent, ratings, comment)
        if closed:
            self.store.close_run(run.id, closes)
        log.info("demo week made", extra={"period": key, "closed": closed})
        return self.store.run(run.id) or run

    # -- what the page asks for ---------------------------------------------------------------------

    def pulse(self, user: str) -> Reply:
        """This week's demo survey for ``user`` ("web:<id>"), who joins the team on first asking."""
        run = self.current()
        if not run.is_open:
            return _note(
                "This week's demo survey is closed",
                "It was closed to show the digest. Start the demo week again to answer once more.",
                RESTART,
                Button("Last digest", Action("demo_digest")),
            )
        self.store.invite_delivered(run.id, [Recipient(_raw(user), WORKSPACE, PLATFORM)], self.now())
        survey = self.surveys.pending(user)
        return dataclasses.replace(survey, buttons=(*survey.buttons, CLOSE))

    def close(self) -> Reply:
        """Closes this week's demo run (if open) and shows its digest with the chart."""
        run = self.current()
        if run.is_open:
            self.store.close_run(run.id, self.now())
        return self.digest()

    def digest(self) -> Reply:
        try:
            digest = self.digests.build(TEAM_ID)
        except (ConfigError, SurveyError):
            # ConfigError: a broken teams file, read on the way to the demo team.
            return _note("No demo digest yet", "Close this week's demo survey to see one.", CLOSE)
        reply = self.digests.reply(digest)
        png = self.chart(digest)
        images = reply.images
        if png is not None:
            alt = f"Chart of {TEAM.title} scores for {digest.period_key}: mean per service and its trend"
            images = (Image("data:image/png;base64," + base64.b64encode(png).decode("ascii"), alt),)
        sections = (
            Section(text=f"Demo data: {TEAM.title} is made up. A real team's digest goes to its channel."),
            *reply.sections,
        )
        return dataclasses.replace(reply, sections=sections, images=images, buttons=(*reply.buttons, RESTART))

    def restart(self, user: str) -> Reply:
        """Forgets this week's demo run, answers and all, makes it again and offers it to ``user``."""
        key = self.surveys.period_key(TEAM, self.now())
        run = self.store.run_for_period(key)
        if run is not None and run.team_id == TEAM_ID and run.platform == PLATFORM:
            self.store.forget_run(run.id)
        return self.pulse(user)


def _chart(digest: Digest) -> bytes | None:
    from jobs.chart import chart_png  # matplotlib: paid for when a chart is first drawn

    return chart_png(digest)


def _raw(user: str) -> str:
    platform, _, raw = user.partition(":")
    if platform != PLATFORM or not raw:
        raise ValueError(f"not a web chat user: {user!r}")
    return raw


def _score(value: float) -> int:
    return min(5, max(1, round(value)))
