"""Telling when two risks say the same thing in different words.

Registers grow by many hands, and the same risk comes back reworded: "loss of key staff to the
private sector may delay design" and "design could slip if experienced engineers leave for better
paid private jobs". Each description becomes a bag of concepts (words folded to a stem, and the
words registers use for one idea folded to one concept); two rows are the same risk when the
concepts they share carry most of the weight of both, rare concepts weighing more than common ones.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

# One idea, the words registers use for it. The first word names the concept.
_CONCEPTS: tuple[tuple[str, ...], ...] = (
    (
        "delay",
        "delay",
        "slip",
        "slippage",
        "late",
        "lateness",
        "postpone",
        "behind",
        "overrun",
        "held up",
        "holds up",
        "hold up",
        "push back",
        "pushed back",
        "pushing back",
        "moves right",
        "knock on",
        "later than",
        "stall",
        "slow",
        "slower",
    ),
    (
        "staff",
        "staff",
        "people",
        "personnel",
        "engineer",
        "employee",
        "worker",
        "workforce",
        "specialist",
        "expert",
        "talent",
        "developer",
        "colleague",
        "technician",
        "team member",
        "operative",
        "picker",
        "crew",
        "labour",
        "resource",
        "designer",
    ),
    (
        "leave",
        "leave",
        "loss",
        "lose",
        "lost",
        "depart",
        "departure",
        "attrition",
        "turnover",
        "resign",
        "quit",
        "poach",
        "exit",
        "retention",
        "retain",
        "vacancy",
        "vacancies",
        "recruit",
        "recruitment",
        "hire",
    ),
    (
        "train",
        "train",
        "training",
        "skill",
        "competence",
        "upskill",
        "up to speed",
        "familiar",
        "induction",
        "learn",
    ),
    (
        "cost",
        "cost",
        "budget",
        "spend",
        "overspend",
        "price",
        "money",
        "expensive",
        "funding",
        "fund",
        "afford",
        "inflation",
        "fee",
        "capital",
        "financial",
        "cash",
    ),
    ("cut", "cut", "reduce", "reduction", "shrink", "lower", "decrease", "trim", "squeeze"),
    (
        "supplier",
        "supplier",
        "vendor",
        "contractor",
        "subcontractor",
        "provider",
        "manufacturer",
        "third party",
        "consultant",
        "consultancy",
        "fabricator",
        "factory",
    ),
    ("backlog", "backlog", "queue", "capacity", "order book", "production", "manufacturing"),
    (
        "equipment",
        "equipment",
        "kit",
        "machinery",
        "hardware",
        "device",
        "scanner",
        "handheld",
        "sorter",
        "sortation",
        "conveyor",
        "automation",
    ),
    (
        "deliver",
        "deliver",
        "delivery",
        "supply",
        "ship",
        "shipment",
        "shipping",
        "arrive",
        "arrival",
        "lead time",
        "transport",
        "logistics",
        "freight",
    ),
    ("despatch", "despatch", "dispatch", "collection", "cut-off", "cut-offs", "order fulfilment"),
    (
        "install",
        "install",
        "installation",
        "commissioning",
        "commission",
        "fit-out",
        "fit out",
        "set up",
        "erect",
        "erection",
    ),
    (
        "golive",
        "go-live",
        "go live",
        "golive",
        "cutover",
        "cut-over",
        "cut over",
        "launch",
        "opening",
        "handover",
        "rollout",
        "roll-out",
        "switch-over",
        "switchover",
    ),
    (
        "approval",
        "approval",
        "approve",
        "sign off",
        "sign-off",
        "consent",
        "permission",
        "permit",
        "authorise",
        "authorisation",
        "planning",
        "licence",
        "license",
    ),
    (
        "legal",
        "legal",
        "judicial",
        "court",
        "lawsuit",
        "litigation",
        "challenge",
        "claim",
        "dispute",
        "tribunal",
    ),
    ("rule", "regulator", "regulation", "regulatory", "compliance", "legislation", "law", "statutory"),
    (
        "oppose",
        "oppose",
        "opposition",
        "object",
        "objection",
        "resist",
        "resistance",
        "reject",
        "complain",
        "complaint",
        "protest",
        "backlash",
        "unhappy",
    ),
    ("move", "move", "moving", "relocate", "relocation", "transfer", "migrate", "migration", "decant"),
    ("trader", "trader", "stallholder", "retailer", "shopkeeper", "tenant", "occupier"),
    (
        "user",
        "user",
        "customer",
        "resident",
        "patient",
        "student",
        "passenger",
        "visitor",
        "public",
        "citizen",
        "community",
    ),
    ("weather", "weather", "rain", "wet", "storm", "wind", "snow", "freeze", "frost", "heatwave", "winter"),
    ("underground", "buried", "underground", "beneath", "below ground", "subsurface"),
    ("utility", "utility", "utilities", "services", "apparatus", "cable", "pipe", "mains", "duct"),
    ("record", "record", "records", "unrecorded", "drawings", "as-built", "documentation"),
    ("redesign", "redesign", "design change", "design changes", "re-design", "rework"),
    (
        "error",
        "error",
        "mistake",
        "mis-pick",
        "mispick",
        "wrong",
        "incorrect",
        "inaccurate",
        "defect",
        "fault",
        "quality",
    ),
    ("data", "data", "dataset", "database", "information"),
    ("test", "test", "testing", "uat", "acceptance", "trial"),
    ("scope", "scope", "requirement", "change request", "scope creep"),
    ("security", "security", "cyber", "breach", "hack", "attack", "phishing"),
    ("fail", "fail", "failure", "break", "breakdown", "outage", "crash", "malfunction", "stop"),
    ("safety", "safety", "injury", "accident", "harm", "hazard", "trip"),
    ("schedule", "programme", "schedule", "timeline", "timetable", "milestone", "completion", "finish"),
    ("site", "site", "premises", "building", "location", "venue", "depot", "warehouse"),
    ("ground", "ground", "soil", "geotechnical", "contamination", "contaminated"),
    (
        "private",
        "private",
        "commercial",
        "industry",
        "competitor",
        "private sector",
        "better-paid",
        "better paid",
        "consultants and contractors",
    ),
    ("pay", "pay", "paid", "salary", "salaries", "wage", "remuneration"),
    ("start", "start", "begin", "commence", "mobilise", "mobilisation"),
)
_STOP = frozenset(
    "a an the of to in on for and or is are be been being may might could would will shall can with by at "
    "as that this these those there their it its from into than then so if due risk risks result resulting "
    "lead leading cause causing because following which who what when where while our we us not no any "
    "some more most less very also such other others project new key there's risk during existing has "
    "have had before after get got enough first make makes made under around against over about".split()
)
_WORD = re.compile(r"[a-z][a-z'-]*")


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    word = word.strip("'-")
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word.rstrip("e") if len(word) > 4 else word


_PHRASES: dict[str, str] = {}
_WORDS: dict[str, str] = {}
for _group in _CONCEPTS:
    for _term in _group[1:]:
        if " " in _term:
            _PHRASES[_term] = _group[0]
        else:
            _WORDS[_stem(_term)] = _group[0]


def concepts(text: str) -> frozenset[str]:
    """The ideas a description mentions."""
    text = re.sub(r"'s\b", "", text.lower().replace("’", "'"))
    found = set()
    for phrase, concept in _PHRASES.items():
        if phrase in text:
            found.add(concept)
            text = text.replace(phrase, " ")
    for token in _WORD.findall(text):
        stem = _stem(token)
        # "better-paid" is one idea; "main-works" two words.
        words = [token] if stem in _WORDS or "-" not in token else token.split("-")
        for word in words:
            if word in _STOP or len(word) < 3:
                continue
            stem = _stem(word)
            found.add(_WORDS.get(stem, stem))
    return frozenset(found)


# Where a risk sentence turns to what the risk would do: "..., leading to ...", "..., delaying ...".
_CONSEQUENCE = re.compile(
    r"\b(leading to|leads to|lead to|resulting in|results in|result in|causing|forcing|so that|"
    r"which (would|could|will|may|might)|with the result that|and therefore)\b"
    r"|,\s*(so|delaying|pushing|meaning|missing|leaving|adding|increasing|reducing|affecting|impacting|"
    r"preventing|stopping|blocking|putting|exposing|losing|cutting|breaching|raising|damaging|harming|"
    r"costing|driving|pushing up|eroding|undermining|jeopardi[sz]ing|threatening)\b",
    re.IGNORECASE,
)
_CAUSE_AFTER = re.compile(
    r"\b(if|because|due to|as a result of|owing to|caused by|since|when)\b", re.IGNORECASE
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
    opening = re.match(r"^(if|because|due to|as|since|when|following)\b(.+?),(.+)$", rest, re.IGNORECASE)
    if opening:
        cause, rest = opening.group(2), opening.group(3)
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


def cause_and_effect(text: str) -> tuple[str, str] | None:
    """What would bring the risk about and what would happen, where the wording says."""
    parts = statement(text)
    outcome = parts.effect or parts.event
    return (parts.cause, outcome) if parts.cause and outcome else None


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
        for b in (int(b) for b in nearest if dice[a, b] >= cutoff - HALVES_ALLOWANCE and b > a):
            if _different_names(named[a], named[b]):
                continue
            if _same(float(dice[a, b]), _halves(a, texts, halves), _halves(b, texts, halves), weight, cutoff):
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


def _same(whole: float, pa: Halves, pb: Halves, weight: dict[str, float], cutoff: float) -> bool:
    """The same cause and the same outcome (the effect, or the event where no effect is given),
    and, where both give one, the same event: two risks with one cause and one effect but
    different events between are different risks. Where fewer than two parts can be compared,
    the whole must agree more closely."""
    (cause_a, event_a, effect_a), (cause_b, event_b, effect_b) = pa, pb
    pairs = []
    if cause_a and cause_b:
        pairs.append((cause_a, cause_b))
    outcome_a, outcome_b = effect_a or event_a, effect_b or event_b
    if outcome_a and outcome_b:
        pairs.append((outcome_a, outcome_b))
    if event_a and event_b and effect_a and effect_b:
        pairs.append((event_a, event_b))
    if len(pairs) < 2:
        return whole >= cutoff + WHOLE_EXTRA
    if len(pairs) == 3 and _similarity(*pairs[2], weight) < cutoff + EVENT_EXTRA:
        return False  # one cause and one effect, but what happens between differs
    return all(_similarity(a, b, weight) >= cutoff for a, b in pairs[:2])


EVENT_EXTRA = 0.1  # the event must agree more closely than its cause and effect
WHOLE_EXTRA = 0.3  # how much closer two sentences that cannot be split must be
HALVES_ALLOWANCE = -0.05  # the whole must agree a little more than each half


def _similarity(a: frozenset[str], b: frozenset[str], weight: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    shared = sum(weight.get(c, 0.0) for c in a & b)
    return 2 * shared / (sum(weight.get(c, 0.0) for c in a) + sum(weight.get(c, 0.0) for c in b))
