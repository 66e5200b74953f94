"""The core that adapters talk to: a message or a button click in, a reply out.

One error boundary lives here: whatever a skill raises, the person gets a short apology and the
adapter's loop carries on.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bot.errors import ReviewError
from bot.reply import Action, Reply, Section
from bot.router import Router, RouteResult
from bot.skills import SKILLS
from bot.skills import unknown as unknown_skill
from knowledge.base import KnowledgeBase, load

log = logging.getLogger(__name__)

CONVERSATION_TTL_S = 30 * 60
CACHEABLE = frozenset(
    {"challenge_questions", "function_info", "role_competencies", "development_advice", "help"}
)
ANSWER_CACHE_SIZE = 4096
MAX_CONVERSATIONS = 10_000


@dataclass
class _Turn:
    route: RouteResult
    at: float


class Conversations:
    """The last routed turn of each conversation, so that "and the issue log?" can follow on.

    Kept in memory, bounded in size and age: a follow-up only makes sense within minutes.
    """

    def __init__(self, ttl_s: float = CONVERSATION_TTL_S, limit: int = MAX_CONVERSATIONS) -> None:
        self.ttl_s = ttl_s
        self.limit = limit
        self._turns: OrderedDict[str, _Turn] = OrderedDict()

    def last(self, key: str, now: float) -> RouteResult | None:
        turn = self._turns.get(key)
        if turn is None or now - turn.at > self.ttl_s:
            return None
        return turn.route

    def remember(self, key: str, route: RouteResult, now: float) -> None:
        self._turns[key] = _Turn(route, now)
        self._turns.move_to_end(key)
        while len(self._turns) > self.limit:
            self._turns.popitem(last=False)


class SurveyDesk(Protocol):
    """Surveys as chat sees them (``jobs.desk``): the core hands survey turns over to it."""

    def answer(self, action: Action, user: str | None) -> Reply: ...

    def pending(self, user: str | None, private: bool) -> Reply: ...

    def admin(self, command: str, team_id: str, user: str | None) -> Reply: ...

    def digest(self, team_id: str, user: str | None, conversation: str | None) -> Reply: ...


_DIGEST = re.compile(r"^\s*/pmo\s+digest\b\s*(\S*)", re.IGNORECASE)
TEAMS_SHARED = "teams:19:"  # Teams channel and group chat conversations; personal ones are "a:..."
SURVEY_ACTIONS = frozenset({"survey_answer", "survey_submit", "survey_form"})
_SURVEY_ADMIN = re.compile(
    r"^\s*/pmo\s+(?:survey|pulse)\s+(open|close|remind|status)\b\s*(\S*)", re.IGNORECASE
)


class Bot:
    def __init__(self, kb: KnowledgeBase, clock: Callable[[], float] | None = None) -> None:
        self.kb = kb
        self.router = Router(kb)
        self.conversations = Conversations()
        self._now = clock or time.time
        self._answers: dict[tuple[str, tuple[tuple[str, str], ...], str], Reply] = {}
        # Set when a database and teams are at hand (serve); without it surveys say they are off.
        self.surveys: SurveyDesk | None = None

    @classmethod
    def from_settings(cls, knowledge_dir: Path | None) -> Bot:
        return cls(load(knowledge_dir))

    def handle_text(
        self, text: str, conversation: str = "default", user: str | None = None, private: bool = True
    ) -> Reply:
        """``user`` is the platform-qualified id of who wrote ("slack:U123"), where known;
        ``private`` is False where others see the answer (a channel), so nothing personal is shown."""
        admin = _SURVEY_ADMIN.match(text)
        if admin is not None and self.surveys is not None:
            desk = self.surveys
            return self._safe(lambda: desk.admin(admin.group(1).lower(), admin.group(2), user))
        asked = _DIGEST.match(text)
        if asked is not None and self.surveys is not None:
            desk = self.surveys
            return self._safe(lambda: desk.digest(asked.group(1), user, conversation))
        now = self._now()
        try:
            route = self.router.route(text, self.conversations.last(conversation, now))
        except Exception:
            log.exception("routing failed")
            return _apology()
        if route.intent != "unknown":
            self.conversations.remember(conversation, route, now)
        if route.intent == "unknown":
            suggestions = [Action(c.intent, dict(c.slots)) for c in route.suggestions]
            return self._safe(lambda: unknown_skill(self.kb, Action("unknown"), suggestions))
        slots = dict(route.slots)
        if route.intent == "smalltalk":
            slots["text"] = text
        action = Action(route.intent, slots, "become" if route.aim else "")
        if route.intent == "pulse_survey" and self.surveys is not None:
            desk = self.surveys
            return self._safe(lambda: desk.pending(user, private))
        if route.intent == "digest" and self.surveys is not None:
            desk = self.surveys
            return self._safe(lambda: desk.digest("", user, conversation))
        return self.handle_action(action, user=user)

    def handle_file(self, data: bytes, filename: str, as_of: dt.date | None = None) -> Reply:
        """A register sent to the bot: the review's summary and first questions, or why not."""
        return self.handle_file_report(data, filename, as_of)[0]

    def handle_file_report(self, data: bytes, filename: str, as_of: dt.date | None = None) -> list[Reply]:
        """The short answer, then the full report when there is one to give."""
        from bot.review.report import review_bytes  # only file uploads pay for numpy and openpyxl

        try:
            review = review_bytes(data, filename, as_of=as_of)
        except ReviewError as exc:
            return [
                Reply(
                    "I couldn't review that file",
                    (
                        Section(text=str(exc)),
                        Section(text="Send a risk register as CSV or Excel (.xlsx), up to 10 MB."),
                    ),
                    intent="review",
                )
            ]
        except Exception:
            log.exception("review failed", extra={"file": filename})
            return [
                Reply(
                    "Sorry, something went wrong",
                    (Section(text="The review failed on my side."),),
                    intent="error",
                )
            ]
        return [review.reply(), review.full_reply()] if review.findings else [review.reply()]

    def handle_action(
        self, action: Action, conversation: str | None = None, user: str | None = None
    ) -> Reply:
        desk = self.surveys
        if desk is not None and action.intent in SURVEY_ACTIONS:
            return self._safe(lambda: desk.answer(action, user))
        if desk is not None and action.intent == "pulse_survey":
            # A button (help's "pulse survey"): clicked where the reply goes to the clicker alone
            # on Slack; in a Teams channel the answer would be public, so say where to look.
            return self._safe(
                lambda: desk.pending(user, conversation is None or not conversation.startswith(TEAMS_SHARED))
            )
        if action.intent in SURVEY_ACTIONS:
            return SKILLS["pulse_survey"](self.kb, Action("pulse_survey"))
        skill = SKILLS.get(action.intent)
        if skill is None:
            return unknown_skill(self.kb, Action("unknown"))
        if conversation is not None and action.intent != "unknown":
            route = RouteResult(
                "", action.intent, {k: v for k, v in action.slots.items() if k != "text"}, 1.0
            )
            self.conversations.remember(conversation, route, self._now())
        if action.intent not in CACHEABLE:
            return self._safe(lambda: skill(self.kb, action))
        # Knowledge answers depend on the action alone, and the knowledge base never changes in a
        # running process: answer each once. Adapters can then cache their rendering too.
        key = (action.intent, tuple(sorted(action.slots.items())), action.part)
        cached = self._answers.get(key)
        if cached is None:
            cached = self._safe(lambda: skill(self.kb, action))
            if cached.intent != "error" and len(self._answers) < ANSWER_CACHE_SIZE:
                self._answers[key] = cached
        return cached

    def _safe(self, make: Callable[[], Reply]) -> Reply:
        try:
            return make()
        except Exception:
            log.exception("a skill failed")
            return _apology()


def _apology() -> Reply:
    return Reply(
        "Sorry, something went wrong",
        (Section(text="That answer failed on my side. Please try again, or ask another way."),),
        intent="error",
    )
