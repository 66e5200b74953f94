"""The core that adapters talk to: a message or a button click in, a reply out.

One error boundary lives here: whatever a skill raises, the person gets a short apology and the
adapter's loop carries on.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from bot.errors import ReviewError
from bot.intents import BY_NAME, label_for
from bot.limits import Limits
from bot.ports import ChatSurveys, ContextStore, DemoTeam
from bot.reply import Action, Button, Reply, Section
from bot.router import Context, Router, RouteResult
from bot.skills import MAX_BUTTONS, Skill, unknown_reply
from bot.skills.common import lower_first
from bot.turn import LOCAL, Turn
from knowledge.base import KINDS, Kind, KnowledgeBase

log = logging.getLogger(__name__)

CONVERSATION_TTL_S = 30 * 60
ANSWER_CACHE_SIZE = 4096
MAX_CONVERSATIONS = 10_000


@dataclass
class _Turn:
    context: Context
    at: float


class Conversations:
    """What each conversation has said so far (its last routed turn and the entries it named), so
    that "and the issue log?" or "how do I become one?" can follow on.

    Kept in memory, bounded in size and age: a follow-up only makes sense within minutes. With a
    store attached (several web processes on one database), each turn is read from and written to
    it, so that the process answering a follow-up need not be the one that answered before.
    """

    def __init__(self, ttl_s: float = CONVERSATION_TTL_S, limit: int = MAX_CONVERSATIONS) -> None:
        self.ttl_s = ttl_s
        self.limit = limit
        self._turns: OrderedDict[str, _Turn] = OrderedDict()
        self._store: ContextStore | None = None
        self._known: Callable[[str, str], bool] = lambda kind, id: True

    def attach(self, store: ContextStore, known: Callable[[str, str], bool]) -> None:
        """Keep contexts in ``store``; ``known(kind, id)`` says whether an entry a saved context
        names still exists (another process may run another knowledge base version)."""
        self._store, self._known = store, known

    def context(self, key: str, now: float) -> Context | None:
        if self._store is not None:
            self._load(key, now)
        return self._fresh(key, now)

    def _fresh(self, key: str, now: float) -> Context | None:
        turn = self._turns.get(key)
        if turn is None or now - turn.at > self.ttl_s:
            return None
        return turn.context

    def remember(self, key: str, route: RouteResult, now: float, read: bool = True) -> None:
        """``read`` False: the caller has just read the context (:meth:`context`), so the store
        is not asked twice in one turn."""
        context = (self.context(key, now) if read else self._fresh(key, now)) or Context()
        self._keep(key, _Turn(context.after(route), now))
        if self._store is not None:
            data = self.export(key, now)
            try:
                if data is not None:
                    self._store.save(key, data, now)
            except Exception:
                log.warning("could not keep a conversation's context", exc_info=True)

    def _load(self, key: str, now: float) -> None:
        assert self._store is not None
        try:
            saved = self._store.load(key)
        except Exception:
            # The follow-up is a convenience: without the database the turn is answered afresh.
            log.warning("could not read a conversation's context", exc_info=True)
            saved = None
        self._turns.pop(key, None)
        if saved is not None:
            self.restore(key, saved[0], now, self._known)

    def _keep(self, key: str, turn: _Turn) -> None:
        self._turns[key] = turn
        self._turns.move_to_end(key)
        while len(self._turns) > self.limit:
            self._turns.popitem(last=False)  # the conversation quiet for longest

    def export(self, key: str, now: float) -> dict[str, object] | None:
        """A conversation's context as plain data, for a process that answers one turn and exits."""
        turn = self._turns.get(key)
        if turn is None or now - turn.at > self.ttl_s or turn.context.last is None:
            return None
        last = turn.context.last
        return {
            "at": turn.at,
            "text": last.text,
            "intent": last.intent,
            "slots": dict(last.slots),
            "part": last.part,
            "reason": last.reason,
            "named": [list(pair) for pair in turn.context.named],
        }

    def restore(self, key: str, data: object, now: float, known: Callable[[str, str], bool]) -> None:
        """The context :meth:`export` gave; anything malformed, stale or naming an entry the
        knowledge base no longer has (``known(kind, id)`` says) is ignored."""
        if not isinstance(data, dict):
            return
        at, intent, slots, part, named = (data.get(k) for k in ("at", "intent", "slots", "part", "named"))
        if not isinstance(at, int | float) or now - at > self.ttl_s or intent not in BY_NAME:
            return
        if not isinstance(slots, dict) or not isinstance(part, str) or not isinstance(named, list):
            return
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in slots.items()):
            return
        kinds = [k for k in slots if k in KINDS]
        if not all(known(k, v) for k, v in slots.items() if k in KINDS) or (
            "with" in slots and not (kinds and known(kinds[0], slots["with"]))
        ):
            return  # renamed or removed since (another PMO_KNOWLEDGE_DIR, a new release)
        pairs = tuple(
            (p[0], p[1])
            for p in named
            if isinstance(p, list) and len(p) == 2 and p[0] in KINDS and isinstance(p[1], str) and known(*p)
        )
        said, reason = data.get("text"), data.get("reason")
        route = RouteResult(
            said if isinstance(said, str) else "",
            str(intent),
            dict(slots),
            1.0,
            part=part,
            reason=reason if isinstance(reason, str) else "",
        )
        self._keep(key, _Turn(Context(route, pairs), float(at)))


_DIGEST = re.compile(r"^\s*/pmo\s+digest\b\s*(\S*)", re.IGNORECASE)
# Survey clicks, and the team set-up form's submit and a preview's clicks (for admins).
SURVEY_ACTIONS = frozenset(
    {"survey_answer", "survey_submit", "survey_form", "team_setup", "team_setup_form", "survey_preview"}
)
# The clicks that carry an answer: refused, the person must be told it was not recorded.
ANSWER_ACTIONS = frozenset({"survey_answer", "survey_submit"})
DEMO_ACTIONS = frozenset({"demo_pulse", "demo_close", "demo_digest", "demo_restart"})
# A digest summary's "Show the full digest" on the Slack App Home (see Bot.home_digest).
HOME_DIGEST = "home_digest"
_SURVEY_ADMIN = re.compile(
    r"^\s*/pmo\s+(?:survey|pulse)\s+(open|close|remind|status|setup|list|pause|resume|preview|history|remove)\b\s*(\S*)",
    re.IGNORECASE,
)


class Bot:
    def __init__(
        self,
        kb: KnowledgeBase,
        clock: Callable[[], float] | None = None,
        router: Router | None = None,
        limits: Limits | None = None,
    ) -> None:
        self.kb = kb
        # The router holds no conversation state: bots over one knowledge base share one.
        self.router = router if router is not None else shared_router(kb)
        self.conversations = Conversations()
        self._now = clock or time.time
        # What one person may ask at once (bot.limits); the server sets it from the settings.
        self.limits = limits or Limits(clock=self._now)
        self._answers: OrderedDict[tuple[str, tuple[tuple[str, str], ...], str], Reply] = OrderedDict()
        self._answers_lock = threading.Lock()
        # Answers with buttons or a source note added for the route (see _once).
        self._composed: dict[tuple[object, ...], tuple[Reply, Reply]] = {}
        # Set when a database and teams are at hand (serve); without it surveys say they are off.
        self.surveys: ChatSurveys | None = None
        # The made-up team the web chat shows (PMO_DEMO); None where it is off.
        self.demo: DemoTeam | None = None

    def now(self) -> float:
        return self._now()

    @classmethod
    def from_settings(cls, knowledge_dir: Path | None) -> Bot:
        from bot.snapshot import router_for

        router = router_for(knowledge_dir)
        return cls(router.kb, router=router)

    def handle_text(self, text: str, turn: Turn = LOCAL) -> Reply:
        """A message; ``turn`` says who wrote it and where (:class:`bot.turn.Turn`)."""
        refused = self.limits.turn(turn)
        if refused is not None:
            return refused
        admin = _SURVEY_ADMIN.match(text)
        if admin is not None and self.surveys is not None:
            desk = self.surveys
            return self._safe(lambda: desk.admin(admin.group(1).lower(), admin.group(2), turn))
        asked = _DIGEST.match(text)
        if asked is not None and self.surveys is not None:
            desk = self.surveys
            return self._safe(lambda: desk.digest(asked.group(1), turn))
        now = self._now()
        conversation = turn.key
        try:
            route = self.router.route(text, self.conversations.context(conversation, now))
        except Exception:
            log.exception("routing failed")
            return _apology()
        if not route.reason:
            # A turn not understood is remembered too: the next one may make sense of it ("the
            # digest came out this morning" ... "what does this column mean?"); an off-topic turn
            # is not.
            self.conversations.remember(conversation, route, now, read=False)
        if route.intent == "unknown":
            suggestions = tuple(self._button(c.intent, c.slots) for c in route.suggestions)
            return self._safe(lambda: unknown_reply(self.kb, route.reason, suggestions))
        slots = dict(route.slots)
        if route.intent == "smalltalk":
            slots["text"] = text
        action = Action(route.intent, slots, route.part)
        survey_desk = self.surveys
        if survey_desk is not None and BY_NAME[route.intent].desk:
            # What the desk shows (this week's survey, the team's digest) comes first; a topic the
            # question was about is a button away.
            if route.intent == "pulse_survey":
                reply = self._safe(lambda: survey_desk.pending(turn))
            else:
                reply = self._safe(lambda: survey_desk.digest("", turn))
            if route.shown is None:
                return reply
            extra = self._button(route.shown.intent, route.shown.slots)
            return (
                replace(reply, buttons=(*reply.buttons, extra)[:MAX_BUTTONS])
                if not reply.questions
                else reply
            )
        if route.shown is not None:
            reply = self._shown_reply(route, action, turn)
        else:
            reply = self._act(action, turn, remember=False)
        return self._with_source(reply, route) if route.retrieved and reply.intent != "error" else reply

    def _shown_reply(self, route: RouteResult, action: Action, turn: Turn) -> Reply:
        """The answer the router chose to show (a topic, a comparison), with a way to the
        intent's own answer where it has one worth offering."""
        assert route.shown is not None
        reply = self._act(route.shown, turn, remember=False)
        if (
            reply.intent == "error"
            or BY_NAME[route.intent].desk
            or route.intent in ("knowledge", route.shown.intent)
        ):
            return reply
        slots = {k: v for k, v in action.slots.items() if k != "text"}
        key = ("own", action.intent, tuple(sorted(slots.items())), action.part)
        return self._once(reply, key, lambda: self._own_first(reply, action, slots))

    def _own_first(self, reply: Reply, action: Action, slots: dict[str, str]) -> Reply:
        own = self._button(action.intent, slots, action.part)
        if action.intent == "challenge_questions" and "artefact" in action.slots:
            name = self.kb.name("artefact", action.slots["artefact"])
            own = Button(f"All {lower_first(name)} questions", own.action)
        kept = [b for b in reply.buttons if b.action != own.action]
        return replace(reply, buttons=(own, *kept)[:MAX_BUTTONS])

    def _once(self, base: Reply, key: tuple[object, ...], make: Callable[[], Reply]) -> Reply:
        """``make()``, a reply built from ``base`` and what ``key`` says alone, made once per
        ``base`` object: a cached answer then comes back as the same object each time, and adapters
        render it once (a retrieved answer was rendered again on every request)."""
        full = (id(base), *key)
        hit = self._composed.get(full)
        if hit is not None and hit[0] is base:
            return hit[1]
        made = make()
        if len(self._composed) >= ANSWER_CACHE_SIZE:
            self._composed.clear()  # (answers made in worker threads: no LRU order to keep)
        self._composed[full] = (base, made)
        return made

    def _button(self, intent: str, slots: dict[str, str], part: str = "") -> Button:
        return Button(label_for(self.kb, intent, slots), Action(intent, dict(slots), part))

    def _with_source(self, reply: Reply, route: RouteResult) -> Reply:
        """A retrieved answer says which entry it comes from and offers the next two."""
        shown = route.shown.slots if route.shown is not None else route.slots
        entry = next(((k, v) for k, v in shown.items() if self.kb.has(k, v)), None)
        if entry is None:
            return reply
        key = ("source", entry, route.shown is not None, tuple(c.key() for c in route.alternatives))
        return self._once(reply, key, lambda: self._sourced(reply, route, entry))

    def _sourced(self, reply: Reply, route: RouteResult, entry: tuple[str, str]) -> Reply:
        typed: Kind = entry[0]  # type: ignore[assignment]  # (kb.has checked it is one of KINDS)
        name = self.kb.name(typed, entry[1])
        section = self.kb.section_of(entry[1]) if typed == "topic" else None
        where = section.name if section is not None else f"PMO {typed}s"
        note = Section(text=f"Best match for your question: {name} ({where}). Not quite it? Try the buttons.")
        # The way back to the intent's own answer (a shown topic's first button) stays first;
        # then the next two entries of the ranking, then the answer's own follow-ups.
        first = list(reply.buttons[:1]) if route.shown is not None else []
        offered = [b.action for b in first]
        others = []
        for candidate in route.alternatives:
            made = self._button(candidate.intent, candidate.slots)
            if made.action not in offered:
                offered.append(made.action)
                others.append(made)
        kept = [b for b in reply.buttons[len(first) :] if b.action not in offered]
        buttons = tuple([*first, *others, *kept][:MAX_BUTTONS])
        return replace(reply, sections=(*reply.sections, note), buttons=buttons)

    def handle_file(
        self, data: bytes, filename: str, as_of: dt.date | None = None, turn: Turn = LOCAL
    ) -> Reply:
        """A register sent to the bot: the review's summary and first questions, or why not."""
        return self.handle_file_report(data, filename, as_of, turn)[0]

    def handle_file_report(
        self, data: bytes, filename: str, as_of: dt.date | None = None, turn: Turn = LOCAL
    ) -> list[Reply]:
        """The short answer, then the full report when there is one to give; ``turn`` says who
        sent the file (a review costs far more than a message: its own budget)."""
        refused = self.limits.file(turn)
        if refused is not None:
            return [refused]
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

    def handle_action(self, action: Action, turn: Turn | None = None) -> Reply:
        """A button or a form; a click in a conversation (``turn``) is remembered for follow-ups."""
        refused = self.limits.turn(turn or LOCAL, answer=action.intent in ANSWER_ACTIONS)
        if refused is not None:
            return refused
        return self._act(action, turn or LOCAL, remember=turn is not None)

    def _act(self, action: Action, turn: Turn, remember: bool) -> Reply:
        desk = self.surveys
        if action.intent in DEMO_ACTIONS:
            return self._safe(lambda: self._demo(action.intent, turn))
        if desk is not None and action.intent in SURVEY_ACTIONS:
            return self._safe(lambda: desk.answer(action, turn))
        if desk is not None and action.intent == "pulse_survey":
            # A button (help's "pulse survey"): on Slack the reply goes to the clicker alone; in a
            # Teams channel the answer would be public, so the desk says where to look.
            return self._safe(lambda: desk.pending(turn))
        if action.intent in SURVEY_ACTIONS:
            return BY_NAME["pulse_survey"].skill(self.kb, Action("pulse_survey"))
        spec = BY_NAME.get(action.intent)
        if spec is None:
            return unknown_reply(self.kb)
        skill = spec.skill
        reply = self._safe(lambda: skill(self.kb, action)) if not spec.cached else self._cached(skill, action)
        if remember and action.intent != "unknown" and reply.intent != "error":
            # Only the slots the skill recognised: a button naming an entry the knowledge base
            # lacks (a stale card, a hand-made request) must not become "the role just named".
            kept = {k: v for k, v in action.slots.items() if reply.slots.get(k) == v}
            route = RouteResult("", action.intent, kept, 1.0, part=action.part)
            self.conversations.remember(turn.key, route, self._now())
        return reply

    def _demo(self, intent: str, turn: Turn) -> Reply:
        demo = self.demo
        if demo is None:
            return Reply(
                "The demo is off here",
                (Section(text="This server has no demo team (PMO_DEMO, or no database)."),),
                intent="pulse_survey",
            )
        if turn.platform not in ("web", "cli", "terminal"):
            # The demo team's made-up week is for trying the bot out on this machine's web chat;
            # in Slack and Teams the real teams' surveys are what people answer.
            return Reply(
                "The demo is in the web chat",
                (Section(text="Try the demo team's pulse survey in the local web chat (`make run`)."),),
                intent="pulse_survey",
            )
        user = turn.person or "web:anyone"
        if intent == "demo_pulse":
            return demo.pulse(user)
        if intent == "demo_close":
            return demo.close()
        if intent == "demo_digest":
            return demo.digest()
        return demo.restart(user)

    def _cached(self, skill: Skill, action: Action) -> Reply:
        # Knowledge answers depend on the action alone, and the knowledge base never changes in a
        # running process: answer each once. Adapters can then cache their rendering too. The
        # least recently asked answer makes room, so odd requests cannot fill the cache for good.
        # Turns run in worker threads: the cache's reads and evictions hold a lock (a lookup and an
        # eviction interleaved would otherwise raise KeyError once the cache is full).
        key = (action.intent, tuple(sorted(action.slots.items())), action.part)
        with self._answers_lock:
            cached = self._answers.get(key)
            if cached is not None:
                self._answers.move_to_end(key)
                return cached
        reply = self._safe(lambda: skill(self.kb, action))
        if reply.intent != "error":
            with self._answers_lock:
                self._answers[key] = reply
                while len(self._answers) > ANSWER_CACHE_SIZE:
                    self._answers.popitem(last=False)
        return reply

    def _safe(self, make: Callable[[], Reply]) -> Reply:
        try:
            return make()
        except Exception:
            log.exception("a skill failed")
            return _apology()

    def home(self, turn: Turn) -> list[Reply]:
        """The Slack App Home of one person, in parts: their open surveys and their teams' latest
        digests where they may see them (the survey desk's part), then the common questions as
        buttons. Reads the database: call it off the event loop."""
        desk = self.surveys
        if desk is None:
            return [_SURVEYS_OFF, _HOME_QUESTIONS]
        try:
            parts = desk.home(turn)
        except Exception:
            log.exception("the App Home's survey part failed")
            parts = [_HOME_TROUBLE]
        return [*parts, _HOME_QUESTIONS]

    def home_digest(self, team_id: str, turn: Turn) -> Reply:
        """A click on a Home digest summary's "Show the full digest" (:data:`HOME_DIGEST`)."""
        refused = self.limits.turn(turn)
        if refused is not None:
            return refused
        desk = self.surveys
        if desk is None:
            return BY_NAME["digest"].skill(self.kb, Action("digest"))
        return self._safe(lambda: desk.home(turn, digest=team_id)[0])


_SHARED: OrderedDict[int, Router] = OrderedDict()
_SHARED_LIMIT = 4  # a process holds one or two knowledge bases; tests make a few more


def shared_router(kb: KnowledgeBase) -> Router:
    """One router per knowledge base in a process (building one indexes every entry's text)."""
    router = _SHARED.get(id(kb))
    if router is None or router.kb is not kb:
        router = _SHARED[id(kb)] = Router(kb)
        while len(_SHARED) > _SHARED_LIMIT:
            _SHARED.popitem(last=False)
    _SHARED.move_to_end(id(kb))
    return router


_HOME_QUESTIONS = Reply(
    "Ask me",
    (
        Section(
            text="Ask me about PMO work in your own words, in a message to me or with /pmo. "
            "Or start with one of these:"
        ),
    ),
    buttons=(
        Button("Check a risk register", Action("challenge_questions", {"artefact": "risk_register"})),
        Button("PMO functions", Action("function_info")),
        Button("A role's competencies", Action("role_competencies")),
        Button("Where to develop next", Action("development_advice")),
        Button("My pulse survey", Action("pulse_survey")),
    ),
    intent="help",
)
_SURVEYS_OFF = Reply(
    "Pulse survey",
    (Section(text="Pulse surveys are not set up here, so there is no survey or team digest to show."),),
    intent="pulse_survey",
)
_HOME_TROUBLE = Reply(
    "Pulse survey",
    (Section(text="I couldn't look up your surveys just now. Open this tab again in a moment."),),
    intent="error",
)


def _apology() -> Reply:
    return Reply(
        "Sorry, something went wrong",
        (Section(text="That answer failed on my side. Please try again, or ask another way."),),
        intent="error",
    )
