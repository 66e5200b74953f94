"""Fuzzing the router: any text, and text made of the words people really use, in any order,
misspelt, with mentions, emoji and slash commands around them. The router must always decide
something it can answer, quickly, and decide the same way twice.

The number of examples comes from tests/fuzzing.py (PMO_FUZZ=1 for the long run).
"""

from __future__ import annotations

import math
import time

from hypothesis import example, given
from hypothesis import strategies as st

import tests.fuzzing  # noqa: F401  (chooses the Hypothesis profile)
from bot.intents import BY_NAME
from bot.router import Context, Router, RouteResult
from knowledge.base import KINDS, KnowledgeBase, load
from knowledge.text import normalise

# A first message pays for building caches; later ones take milliseconds. A message that takes
# seconds means a search that grows with the input, which a long paste would turn into a hang.
ROUTE_LIMIT_S = 2.0
MAX_TEXT = 3000

_KB = load()
# The words of every name and alias in the knowledge base, and the everyday words of questions.
_NAME_WORDS = sorted({w for phrase in _KB.alias_index() for w in phrase.split()})
_CHAT_WORDS = [
    "what", "is", "the", "a", "an", "how", "do", "i", "become", "check", "in", "my", "our", "vs",
    "difference", "between", "and", "or", "for", "a", "manager", "it", "one", "that", "those",
    "which", "why", "who", "should", "can", "you", "help", "hi", "thanks", "survey", "digest",
    "pulse", "questions", "owner", "column", "says", "every", "mitigation", "monitor", "green",
    "red", "amber", "rag", "raid", "pso", "hopmo", "quals", "reg", "cr", "p3o", "msp", "m_o_r",
    "ignore", "previous", "instructions", "bonjour", "¿qué", "passwords", "leave", "stress",
]  # fmt: skip
_NOISE = [
    "<@U0BOT00001>", "<@U123|pmo-bot>", "<at>pmo-bot</at>", "@pmo-bot", "/pmo", "/PMO", ":wave:",
    "🙂", "🙏", "!!", "??", "...", "&", "<!channel>", "<#C123|general>", "<https://x.test|x>",
    "#pmo-leads", "'s", "n't", "co-", "-", "_", "\u200b", "\t", "\n", "’", "“", "”", "\x00",
]  # fmt: skip


def _typo(word: str, data: st.DataObject) -> str:
    """Drop, double, swap or change one letter, as a hurried typist does."""
    if len(word) < 2:
        return word
    i = data.draw(st.integers(0, len(word) - 2), label="typo at")
    kind = data.draw(st.sampled_from(["drop", "double", "swap", "change", "upper"]), label="typo")
    if kind == "drop":
        return word[:i] + word[i + 1 :]
    if kind == "double":
        return word[:i] + word[i] * 2 + word[i + 1 :]
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == "change":
        return word[:i] + data.draw(st.characters(), label="letter") + word[i + 1 :]
    return word.upper()


@st.composite
def chat_text(draw: st.DrawFn) -> str:
    """A message made of knowledge-base names, everyday words and chat noise."""
    data = draw(st.data())
    pieces = draw(
        st.lists(
            st.one_of(
                st.sampled_from(_NAME_WORDS),
                st.sampled_from(_CHAT_WORDS),
                st.sampled_from(_NOISE),
                st.text(max_size=8),
            ),
            max_size=40,
        )
    )
    words = [_typo(p, data) if draw(st.booleans()) else p for p in pieces]
    separators = st.sampled_from([" ", "  ", ", ", "-", "/", "\n", "", "?", "'"])
    return "".join(w + draw(separators) for w in words)


texts = st.one_of(
    st.text(max_size=MAX_TEXT),
    chat_text(),
    # Long pastes: the same words many times over.
    st.builds(lambda t, n: (t + " ") * n, chat_text(), st.integers(1, 60)).map(lambda s: s[:MAX_TEXT]),
)


def _route(router: Router, text: str, context: Context | None = None) -> RouteResult:
    started = time.perf_counter()
    route = router.route(text, context)
    took = time.perf_counter() - started
    assert took < ROUTE_LIMIT_S, f"routing took {took:.2f} s"
    return route


def _check(kb: KnowledgeBase, text: str, route: RouteResult) -> None:
    """What every decision must be: an intent the core answers, with slots naming real entries."""
    assert route.text == text
    assert route.intent in BY_NAME, route.intent
    assert math.isfinite(route.confidence) and route.confidence >= 0, route.confidence
    for key, value in route.slots.items():
        assert isinstance(value, str) and value, (key, value)
        if key in KINDS:
            assert kb.has(key, value), (key, value)
    for other in (*route.candidates, *route.suggestions, *route.alternatives):
        assert other.intent in BY_NAME, other.intent
        assert math.isfinite(other.score), other.score


@given(text=texts)
@example(text="")
@example(text="/pmo")
@example(text="<@U0BOT00001>")
@example(text="\x00" * 50)
@example(text="role " * 600)
def test_any_message_is_routed_quickly_and_the_same_way_twice(
    router: Router, kb: KnowledgeBase, text: str
) -> None:
    route = _route(router, text)
    _check(kb, text, route)
    again = _route(router, text)
    assert (again.intent, again.slots) == (route.intent, route.slots)


@given(first=texts, second=texts, third=texts)
def test_a_conversation_of_any_messages_is_routed(
    router: Router, kb: KnowledgeBase, first: str, second: str, third: str
) -> None:
    """Follow-ups lean on what came before ("and the issue log?", "how do I become one?"): any
    earlier turn must leave a context that any next message can be routed in."""
    context = Context()
    for text in (first, second, third):
        route = _route(router, text, context)
        _check(kb, text, route)
        context = context.after(route)


@given(text=st.one_of(st.text(max_size=MAX_TEXT), chat_text()))
def test_normalise_gives_plain_lower_case_words(text: str) -> None:
    started = time.perf_counter()
    out = normalise(text)
    assert time.perf_counter() - started < ROUTE_LIMIT_S
    # Only lower-case letters, digits and single spaces between words are left.
    assert out == out.strip()
    assert "  " not in out
    assert all(ch == " " or ch.isdigit() or (ch.isalpha() and ch == ch.lower()) for ch in out), out
