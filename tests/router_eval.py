"""Evaluate the router on a labelled utterance file, the way NLU tools report it.

File format: ``text<TAB>intent<TAB>slots`` per line, slots as ``kind=id`` or empty; lines that
start with ``#`` are comments. Run as a script for the full report::

    python -m tests.router_eval tests/data/utterances.tsv
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.router import Router
from knowledge.base import load


@dataclass(frozen=True)
class Example:
    line: int
    text: str
    intent: str
    slots: dict[str, str]


@dataclass
class Report:
    total: int
    exact: int
    in_domain: int
    in_domain_exact: int
    ood: int
    ood_rejected: int
    per_intent: dict[str, tuple[float, float, int]]  # precision, recall, support
    confusions: list[tuple[tuple[str, str], int]]
    misses: list[tuple[Example, str, dict[str, str]]]

    @property
    def exact_rate(self) -> float:
        return self.exact / self.total if self.total else 0.0

    @property
    def in_domain_rate(self) -> float:
        return self.in_domain_exact / self.in_domain if self.in_domain else 0.0

    @property
    def ood_rate(self) -> float:
        return self.ood_rejected / self.ood if self.ood else 0.0

    def text(self, show_misses: int = 40) -> str:
        lines = [
            f"exact (intent and slot): {self.exact}/{self.total} = {self.exact_rate:.1%}",
            f"in-domain exact: {self.in_domain_exact}/{self.in_domain} = {self.in_domain_rate:.1%}",
            f"out-of-domain rejected: {self.ood_rejected}/{self.ood} = {self.ood_rate:.1%}",
            "",
            f"{'intent':<22}{'precision':>10}{'recall':>8}{'support':>9}",
        ]
        for intent, (p, r, n) in sorted(self.per_intent.items()):
            lines.append(f"{intent:<22}{p:>10.1%}{r:>8.1%}{n:>9}")
        if self.confusions:
            lines += ["", "top confusions (expected -> got):"]
            lines += [f"  {a} -> {b}: {n}" for (a, b), n in self.confusions[:10]]
        if self.misses and show_misses:
            lines += ["", "misses:"]
            for ex, intent, slots in self.misses[:show_misses]:
                lines.append(
                    f"  {ex.line}: {ex.text!r}: expected {ex.intent} {ex.slots}, got {intent} {slots}"
                )
        return "\n".join(lines)


def read_examples(path: Path) -> list[Example]:
    examples = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) < 2:
            raise ValueError(f"{path}:{number}: expected text<TAB>intent<TAB>slots")
        slots = {}
        if len(parts) > 2 and parts[2].strip():
            for pair in parts[2].split(","):
                kind, _, value = pair.strip().partition("=")
                slots[kind] = value
        examples.append(Example(number, parts[0], parts[1].strip(), slots))
    return examples


def evaluate(router: Router, examples: list[Example]) -> Report:
    exact = in_domain = in_domain_exact = ood = ood_rejected = 0
    predicted: Counter[str] = Counter()
    expected: Counter[str] = Counter()
    correct: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    misses = []
    for ex in examples:
        result = router.route(ex.text)
        ok = result.intent == ex.intent and result.slots == ex.slots
        exact += ok
        predicted[result.intent] += 1
        expected[ex.intent] += 1
        if result.intent == ex.intent:
            correct[ex.intent] += 1
        else:
            confusions[(ex.intent, result.intent)] += 1
        if ex.intent == "unknown":
            ood += 1
            ood_rejected += result.intent == "unknown"
        else:
            in_domain += 1
            in_domain_exact += ok
        if not ok:
            misses.append((ex, result.intent, result.slots))
    per_intent = {
        intent: (
            correct[intent] / predicted[intent] if predicted[intent] else 0.0,
            correct[intent] / expected[intent] if expected[intent] else 0.0,
            expected[intent],
        )
        for intent in set(expected) | set(predicted)
    }
    return Report(
        len(examples),
        exact,
        in_domain,
        in_domain_exact,
        ood,
        ood_rejected,
        per_intent,
        confusions.most_common(),
        misses,
    )


def main(argv: list[str]) -> int:
    router = Router(load())
    for name in argv or ["tests/data/utterances.tsv"]:
        print(f"== {name}")
        print(evaluate(router, read_examples(Path(name))).text(show_misses=200))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
