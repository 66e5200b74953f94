"""How useful the coach's answers are, per kind of user, on a question set written blind.

Each question (``tests/data/coach/questions_*.yaml``) has a kind of user, one or more turns (only
the last is judged, so follow-ups are judged in their conversation), a one-line ``useful_if``
saying what a useful answer must contain, and ``expect``: the answers that contain it, as
patterns over answer keys. An answer's key names what was shown:

- ``topic:ID``, ``function:ID``, ``role:ID``, ``artefact:ID`` (``artefact:ID:manager`` for the
  PMO manager's questions), ``develop`` / ``develop:ROLE`` / ``become:ROLE``,
  ``compare:KIND:A:B``, ``pulse``, ``digest``, ``help``, ``smalltalk``;
- ``scope:REASON`` for an out-of-scope reply (``scope:hr``, ``scope:offtopic``...) and
  ``unknown`` for "I didn't catch that".

An answer is useful when its key matches one of the patterns (``fnmatch``: ``scope:*`` is any
out-of-scope reply). Run as a script for the report::

    python -m tests.coach_eval [FILE ...]
"""

from __future__ import annotations

import fnmatch
import itertools
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.core import Bot
from bot.reply import Reply
from bot.turn import Turn
from knowledge.base import load

DATA = Path(__file__).parent / "data" / "coach"
KINDS = ("coordinator", "analyst", "manager", "member", "admin", "offtopic")


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    turns: tuple[str, ...]
    useful_if: str
    expect: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    question: Question
    got: str
    useful: bool
    # Not useful itself, but one of its buttons leads to a useful answer ("Not quite it? Try
    # the buttons"): what a user gets with one more click.
    one_click: bool = False


class QuestionFileError(ValueError):
    """A question file that is not a list of {id, kind, turns, ...} items."""


def read_questions(path: Path) -> list[Question]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        return [_question(item) for item in raw]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise QuestionFileError(f"{path}: not a question file ({type(exc).__name__}: {exc})") from exc


def _question(item: dict[str, Any]) -> Question:
    turns = item["turns"] if isinstance(item["turns"], list) else [item["turns"]]
    if not turns:
        raise KeyError("turns")  # a question needs at least one turn
    expect = item.get("expect") or []
    return Question(
        str(item["id"]),
        str(item["kind"]),
        tuple(str(t) for t in turns),
        str(item.get("useful_if", "")),
        tuple(str(e) for e in ([expect] if isinstance(expect, str) else expect)),
    )


def answer_key(reply: Reply) -> str:
    slots = reply.slots
    intent = reply.intent
    if intent == "unknown":
        return f"scope:{slots['reason']}" if slots.get("reason") else "unknown"
    if intent == "challenge_questions" and "artefact" in slots:
        manager = reply.title.endswith("questions for the PMO manager")
        return f"artefact:{slots['artefact']}" + (":manager" if manager else "")
    if intent == "development_advice":
        if "role" not in slots:
            return "develop"
        return f"{'become' if reply.title.startswith('Becoming') else 'develop'}:{slots['role']}"
    if intent == "compare":
        kind = next(k for k in slots if k != "with")
        return f"compare:{kind}:{slots[kind]}:{slots['with']}"
    for kind in ("topic", "function", "role"):
        if kind in slots:
            return f"{kind}:{slots[kind]}"
    return {"pulse_survey": "pulse", "digest": "digest"}.get(intent, intent)


_RUNS = itertools.count()


def ask(bot: Bot, question: Question) -> tuple[Reply, str]:
    # A conversation of its own: the sets share ids (ma08 is in each), and a question must not
    # start inside another set's conversation.
    conversation = f"eval:{next(_RUNS)}:{question.id}"
    reply = None
    for turn in question.turns:
        reply = bot.handle_text(turn, Turn.local(conversation))
    assert reply is not None
    return reply, conversation


def matches(key: str, patterns: tuple[str, ...]) -> bool:
    # A comparison matches whichever way round its two entries came.
    keys = {key}
    parts = key.split(":")
    if parts[0] == "compare" and len(parts) == 4:
        keys.add(f"compare:{parts[1]}:{parts[3]}:{parts[2]}")
    return any(fnmatch.fnmatchcase(k, p) for k in keys for p in patterns)


def evaluate(bot: Bot, questions: list[Question]) -> list[Outcome]:
    outcomes = []
    for q in questions:
        reply, conversation = ask(bot, q)
        key = answer_key(reply)
        useful = matches(key, q.expect)
        # (Each button pressed in a conversation of its own, so one press cannot set up the next.)
        one_click = not useful and any(
            matches(answer_key(bot.handle_action(b.action, Turn.local(f"{conversation}:{n}"))), q.expect)
            for n, b in enumerate(reply.buttons)
        )
        outcomes.append(Outcome(q, key, useful, one_click))
    return outcomes


def usefulness(outcomes: list[Outcome], kind: str | None = None) -> tuple[int, int]:
    chosen = [o for o in outcomes if kind is None or o.question.kind == kind]
    return sum(o.useful for o in chosen), len(chosen)


def report(outcomes: list[Outcome], show_misses: int = 60) -> str:
    useful, total = usefulness(outcomes)
    pmo = [o for o in outcomes if o.question.kind != "offtopic"]
    in_useful, in_total = usefulness(pmo)
    lines = [
        f"useful answers: {useful}/{total} = {useful / max(1, total):.1%} "
        f"(PMO questions {in_useful}/{in_total} = {in_useful / max(1, in_total):.1%})",
        "",
        f"{'kind of user':<14}{'useful':>8}{'of':>5}{'rate':>8}",
    ]
    for kind in KINDS:
        got, n = usefulness(outcomes, kind)
        if n:
            lines.append(f"{kind:<14}{got:>8}{n:>5}{got / n:>8.1%}")
    wrong_pmo = sum(
        1 for o in outcomes if o.question.kind == "offtopic" and not o.got.startswith(("scope:", "unknown"))
    )
    lines.append(f"off-topic answered as PMO content: {wrong_pmo}")
    near = sum(o.one_click for o in pmo)
    lines.append(
        f"PMO questions useful or one button away: {in_useful + near}/{in_total} = "
        f"{(in_useful + near) / max(1, in_total):.1%}"
    )
    confusions = Counter(
        (o.question.expect[0] if o.question.expect else "?", o.got) for o in outcomes if not o.useful
    )
    if confusions:
        lines += ["", "confusions (expected -> got), most frequent first:"]
        lines += [f"  {a} -> {b}: {n}" for (a, b), n in confusions.most_common(15)]
    misses = [o for o in outcomes if not o.useful]
    if misses and show_misses:
        lines += ["", "misses:"]
        for o in misses[:show_misses]:
            text = " / ".join(o.question.turns)
            who = f"{o.question.id} [{o.question.kind}]"
            lines.append(f"  {who} {text[:100]!r}: expected {list(o.question.expect)}, got {o.got}")
    return "\n".join(lines)


USAGE = "usage: python -m tests.coach_eval [QUESTIONS.yaml ...] (default: tests/data/coach/questions_*.yaml)"


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return 0
    paths = [Path(a) for a in argv] or sorted(DATA.glob("questions_*.yaml"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        print(f"coach_eval: no such question file: {', '.join(missing)}", file=sys.stderr)
        return 1
    try:
        sets = [(path, read_questions(path)) for path in paths]
    except QuestionFileError as exc:
        print(f"coach_eval: {exc}", file=sys.stderr)
        return 1
    bot = Bot(load())
    for path, questions in sets:
        print(f"== {path.name}")
        print(report(evaluate(bot, questions), show_misses=200))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
