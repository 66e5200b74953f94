"""Telling when two risks say the same thing in different words.

Registers grow by many hands, and the same risk comes back reworded: "loss of key staff to the
private sector may delay design" and "design could slip if experienced engineers leave for better
paid private jobs". Each description becomes a bag of concepts (words folded to a stem, US
spellings to UK ones, and the words registers use for one idea folded to that idea, see
thesaurus.py). Two rows are candidates when the concepts they share carry most of the weight of
both, rare concepts weighing more than common ones; they are the same risk when, in addition,
each part of each sentence (cause, event, effect) is found in the other: one cause with two
effects is two risks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.review.thesaurus import parse

_STOP = frozenset(
    "a an the of to in on for and or is are be been being may might could would will shall can with by at "
    "as that this these those there their it its from into than then so if due risk risks risking result "
    "resulting lead leading cause causing because following which who what when where while our we us not "
    "no any some more most less very also such other others project new key there's during existing has "
    "have had before after get gets got getting enough first make makes made under around against over "
    "about they them he she his her you your i one two all each every up down out off just still yet like "
    "well way many much lot lots too do does did done go goes going went take takes taken took mean means "
    "meaning use used using able possible potential potentially likely unlikely chance possibility "
    "significant significantly major serious severe impact impacts impacted impacting affect affects "
    "affected affecting effect effects consequence consequences therefore thus result results issue "
    "issues ensure within between across through further particularly especially current currently yet "
    "isn't aren't wasn't weren't hasn't haven't hadn't can't cannot won't doesn't don't didn't couldn't "
    "wouldn't shouldn't ahead until several throughout proper properly serious seriously either actual "
    "actually".split()
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'-]*")
# US spellings folded to UK ones before stemming, so that "organization" meets "organisation".
_US_ENDINGS = re.compile(r"(?<=[a-z]{3})(iz|yz)(e|ed|es|ing|ation|ations|er|ers)\b")
_US_WORDS = {
    "color": "colour",
    "labor": "labour",
    "center": "centre",
    "defense": "defence",
    "license": "licence",
    "program": "programme",
    "canceled": "cancelled",
    "canceling": "cancelling",
    "traveled": "travelled",
    "traveling": "travelling",
    "fulfillment": "fulfilment",
    "enrollment": "enrolment",
}


def _fold(text: str) -> str:
    text = _US_ENDINGS.sub(lambda m: ("is" if m.group(1) == "iz" else "ys") + m.group(2), text)
    return re.sub(r"[a-z]+", lambda m: _US_WORDS.get(m.group(0), m.group(0)), text)


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    return str(_stemmer().stemWord(word.strip("'-")))


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    # Loaded on first use, with the thesaurus below: most reviews never compare reworded risks
    # (10,000 rows do not), and a review from launch should not pay for them.
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def _forms(word: str) -> set[str]:
    """A word's inflections ("slip": slips, slipped, slipping), matched before any stem."""
    forms = {word, word + "s", word + "es", word + "ed", word + "ing"}
    if word.endswith("e"):
        forms |= {word + "d", word[:-1] + "ing"}
    if word.endswith("y"):
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if len(word) > 2 and word[-1] not in "aeiouwy" and word[-2] in "aeiou":
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}  # slipped, cancelled
    return forms


Ideas = dict[str, tuple[str, ...]]  # a word, stem or phrase → the ideas it stands for


def _ideas() -> tuple[Ideas, Ideas, Ideas]:
    phrases: Ideas = {}
    words: Ideas = {}
    stems: Ideas = {}
    for name, broader, terms in parse():
        found = (name, broader) if broader else (name,)
        for term in {name, *terms}:
            term = _fold(term.lower())
            if " " in term:
                phrases[term] = found
            else:
                words.update(dict.fromkeys(_forms(term), found))
                if not _AGENT.search(term):
                    stems[_stem(term)] = found
    # Longer phrases first: "mobile network" before "network".
    return dict(sorted(phrases.items(), key=lambda item: -len(item[0]))), words, stems


# A person's or a firm's name for what they do ("designer", "operator", "consultant") meets its own
# inflections only: by stem it would take in "design", "operation" and "consultation".
_AGENT = re.compile(r"(er|or|ant|ist|ive|ancy)s?$")


@lru_cache(maxsize=1)
def _vocabulary() -> tuple[Ideas, Ideas, Ideas, re.Pattern[str]]:
    phrases, words, stems = _ideas()
    return phrases, words, stems, re.compile(r"\b(" + "|".join(re.escape(p) for p in phrases) + r")\b")


def concepts(text: str) -> frozenset[str]:
    """The ideas a description mentions: its words' stems, with a register's many words for one
    idea folded to that idea."""
    text = _fold(re.sub(r"'s\b", "", text.lower().replace("’", "'")))
    found: set[str] = set()
    phrases, words, stems, pattern = _vocabulary()

    def phrase(match: re.Match[str]) -> str:
        found.update(phrases[match.group(0)])
        return " "

    text = pattern.sub(phrase, text)
    for token in _WORD.findall(text):
        # "better-paid" is one idea; "main-works" two words.
        parts = [token] if token in words or "-" not in token else token.split("-")
        for word in parts:
            if word in _STOP or len(word) < 2 or word.isdigit():
                continue
            ideas = words.get(word)
            if ideas:
                found.update(ideas)
                continue
            stem = _stem(word)
            # "officers" is no "office": a name for someone by what they do meets no idea by stem.
            found.update((None if _AGENT.search(word) else stems.get(stem)) or (stem,))
    return frozenset(found)


# Where a risk sentence turns to what the risk would do: "..., leading to ...", "..., delaying ...".
_CONSEQUENCE = re.compile(
    r"\b(leading to|leads to|lead to|resulting in|results in|result in|causing|forcing|so that|"
    r"which (would|could|will|may|might)|with the result that|and therefore)\b"
    r"|\s(→|->|=>)\s*"
    r"|,\s*(so|delaying|pushing|meaning|missing|leaving|adding|increasing|reducing|affecting|impacting|"
    r"preventing|stopping|blocking|putting|exposing|losing|cutting|breaching|raising|damaging|harming|"
    r"costing|driving|pushing up|eroding|undermining|jeopardi[sz]ing|threatening)\b",
    re.IGNORECASE,
)
_CAUSE_AFTER = re.compile(
    r"\b(if|because|due to|as a result of|owing to|caused by|since|when)\b", re.IGNORECASE
)
_OPENING = re.compile(r"^(if|because|due to|as|since|when|following)\b(.+?),(.+)$", re.IGNORECASE)
_LATER_OPENING = re.compile(
    r"(?<=[.!?;])\s+(if|because|due to|as|since|when|following)\b([^.]+?),(.+)$", re.IGNORECASE
)
_MODAL = re.compile(r"\b(may|might|could|would|will|can)\b", re.IGNORECASE)
_RISK_THAT = re.compile(r"^\W*(there is a|a) (risk|chance|possibility) (that|of)\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Statement:
    """A risk sentence in its parts, each None where the wording does not give it."""

    cause: str | None
    event: str | None
    effect: str | None


def statement(text: str) -> Statement:
    """ "Because of X, there is a risk that Y, resulting in Z" is cause, event and effect; "design
    could slip if engineers leave" an event and its cause; "loss of staff may delay design",
    with nothing to mark its parts, a cause and an effect either side of the "may"."""
    rest = " ".join(text.split())
    cause = effect = None
    opening = _OPENING.match(rest)
    if opening:
        cause, rest = opening.group(2), opening.group(3)
    else:
        # "The licence runs out in July. If it is not renewed by then, facial login cannot ship":
        # what comes before a later sentence's condition is part of the cause too.
        later = _LATER_OPENING.search(rest)
        if later:
            cause, rest = rest[: later.start()] + " " + later.group(2), later.group(3)
    match = _CONSEQUENCE.search(rest)
    if match and match.start() > 15:
        rest, effect = rest[: match.start()], rest[match.start() :]
    if cause is None:
        match = _CAUSE_AFTER.search(rest)
        if match and match.start() > 10:
            rest, cause = rest[: match.start()], rest[match.end() :]
    rest = _RISK_THAT.sub("", rest.strip(" ,"))
    if cause is None and effect is None:
        match = _MODAL.search(rest)
        if match and match.start() > 10:
            return Statement(rest[: match.start()], None, rest[match.end() :])
    return Statement(cause, rest or None, effect)


NEAREST = 12  # candidate partners read for each row
MAX_ROWS = 1500  # above this, only near-identical wording is compared (see same_meaning_pairs)


def same_meaning_pairs(texts: list[str], cutoff: float) -> set[tuple[int, int]] | None:
    """Pairs of rows that say the same thing: the same cause and the same effect, however worded.

    Every pair's shared weight comes from one matrix product; pairs close enough are then read
    part by part (cause, event, effect). None for a register over ``MAX_ROWS`` rows:
    portfolio-wide exports repeat ideas across projects, and the pairs would cost more time than
    they are worth."""
    import numpy as np  # here, not at the top: most reviews are small and never need it

    if len(texts) > MAX_ROWS:
        return None
    bags = [concepts(t) for t in texts]
    frequency: Counter[str] = Counter(c for bag in bags for c in bag)
    total = len(bags)
    weight = {c: math.log((total + 1) / (n + 0.5)) for c, n in frequency.items()}
    mass = np.array([sum(weight[c] for c in bag) for bag in bags], dtype=np.float32)
    # Only concepts in two rows or more can be shared: one column each, weighted.
    shared = sorted(c for c, n in frequency.items() if n > 1)
    column = {c: k for k, c in enumerate(shared)}
    matrix = np.zeros((total, len(shared)), dtype=np.float32)
    for row, bag in enumerate(bags):
        for c in bag:
            if c in column:
                matrix[row, column[c]] = weight[c]
    present = (matrix > 0).astype(np.float32)
    overlap = matrix @ present.T  # shared weight of every pair of rows
    dice = 2 * overlap / np.maximum(mass[:, None] + mass[None, :], 1e-9)
    sizes = np.array([len(bag) for bag in bags])
    dice[(sizes < 3)[:, None] | (sizes < 3)[None, :]] = 0.0
    halves: dict[int, Halves] = {}
    pairs: set[tuple[int, int]] = set()
    named = [names(t) for t in texts]
    np.fill_diagonal(dice, 0.0)
    for a in range(total):
        # A row's partner is among the rows closest to it: read only those, closest first, so
        # that a template copied into every row costs a few reads a row, not one for every pair.
        nearest = np.argsort(-dice[a])[:NEAREST]
        for b in (int(b) for b in nearest if dice[a, b] >= cutoff and b > a):
            if _different_names(named[a], named[b]):
                continue
            halves_a, halves_b = _halves(a, texts, halves), _halves(b, texts, halves)
            if _same(float(dice[a, b]), halves_a, halves_b, (bags[a], bags[b]), weight, cutoff):
                pairs.add((a, b))
                break
    return pairs


_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-z]{2,}|[A-Z]{2,}[a-z]*)\b")
_NOT_NAMES = frozenset(
    "January February March April May June July August September October November December Monday "
    "Tuesday Wednesday Thursday Friday The This There If As Because Following Due It PM PMO IT UK EU "
    "CEO CFO SRO".split()
)


def names(text: str) -> frozenset[str]:
    """The proper names in a description: places, systems, suppliers ("Leeds", "SAP", "Acme")."""
    return frozenset(m for m in _NAME.findall(text) if m not in _NOT_NAMES)


def _different_names(a: frozenset[str], b: frozenset[str]) -> bool:
    # "Latency at Bristol" and "latency at Swansea" are two risks, however alike the rest.
    return bool(a) and bool(b) and not (a & b)


def _halves(index: int, texts: list[str], cache: dict[int, Halves]) -> Halves:
    if index not in cache:
        parts = statement(texts[index])
        cache[index] = tuple(concepts(p) if p else None for p in (parts.cause, parts.event, parts.effect))
    return cache[index]


Halves = tuple[frozenset[str] | None, ...]


def _same(
    whole: float,
    pa: Halves,
    pb: Halves,
    bags: tuple[frozenset[str], frozenset[str]],
    weight: dict[str, float],
    cutoff: float,
) -> bool:
    """Whether two risks close enough as wholes say the same thing: every part of each (its
    cause, its event, its effect) must be found in the other, wherever the other's wording puts
    it. One cause with two different effects, or one effect from two causes, are two risks.
    Where neither sentence can be split, the wholes must agree more closely."""
    events_a, events_b = bags[0] & _EVENTS, bags[1] & _EVENTS
    if events_a - events_b and events_b - events_a:
        return False  # asbestos in the lagging, or the removal contractor going bust: two risks
    parts_a, parts_b = [p for p in pa if p], [p for p in pb if p]
    if len(parts_a) < 2 and len(parts_b) < 2:
        return whole >= cutoff + WHOLE_EXTRA
    if whole < cutoff:
        return False
    for parts, own, other in ((parts_a, bags[0], bags[1]), (parts_b, bags[1], bags[0])):
        if len(parts) >= 2 and any(_cover(p, other, weight) < COVER for p in parts):
            return False
        if len(parts) < 2 and _cover(own, other, weight) < UNSPLIT_COVER:
            return False  # a sentence that cannot be split must be found in the other as a whole
    return True


# Ideas that name what happens, not where or to whom: two sentences naming different ones
# ("insolvency" and "hazardous") are two risks, whatever their setting shares.
_EVENTS = frozenset(
    "insolvency hazardous weather fail leave absence shortage security safety fire oppose legal penalty "
    "health ecology heritage ground expiry overcharge politics".split()
)
WHOLE_EXTRA = 0.2  # how much closer two sentences that cannot be split must be
COVER = 0.28  # the share of a part's weight the other risk must also mention
UNSPLIT_COVER = 0.45  # the same for a sentence that cannot be split into parts


def _cover(part: frozenset[str], other: frozenset[str], weight: dict[str, float]) -> float:
    total = sum(weight.get(c, 0.0) for c in part)
    return sum(weight.get(c, 0.0) for c in part & other) / total if total else 1.0
