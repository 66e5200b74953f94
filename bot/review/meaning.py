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
from collections import Counter, defaultdict

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


_CONSEQUENCE = re.compile(
    r",?\s*\b(leading to|leads to|lead to|resulting in|results in|result in|causing|forcing|delaying|"
    r"pushing|meaning|so that|so|which (would|could|will|may|might)|with the result that|and therefore)\b",
    re.IGNORECASE,
)
_CAUSE_AFTER = re.compile(
    r"\b(if|because|due to|as a result of|owing to|caused by|since|when)\b", re.IGNORECASE
)
_MODAL = re.compile(r"\b(may|might|could|would|will|can)\b", re.IGNORECASE)


def cause_and_effect(text: str) -> tuple[str, str] | None:
    """A risk sentence split into what would bring it about and what it would do, when the wording
    says: "…, leading to…" and "…, causing…" put the effect last; "design could slip if engineers
    leave" puts it first; "loss of staff may delay design" splits at the "may"."""
    text = " ".join(text.split())
    opening = re.match(r"^(if|because|due to|as|since|when|following)\b(.+?),(.+)$", text, re.IGNORECASE)
    if opening:
        return opening.group(2), opening.group(3)
    match = _CONSEQUENCE.search(text)
    if match and match.start() > 15:
        return text[: match.start()], text[match.start() :]
    match = _CAUSE_AFTER.search(text)
    if match and match.start() > 10:
        return text[match.end() :], text[: match.start()]
    match = _MODAL.search(text)
    if match and match.start() > 10:
        return text[: match.start()], text[match.end() :]
    return None


def same_meaning_pairs(texts: list[str], cutoff: float, block_limit: int = 400) -> set[tuple[int, int]]:
    """Pairs of rows whose shared concepts carry at least ``cutoff`` of both rows' weight.

    Rows are compared only within the blocks of their three rarest concepts, so a register of
    10,000 rows does not compare every pair."""
    bags = [concepts(t) for t in texts]
    halves = [cause_and_effect(t) for t in texts]
    parts = [(concepts(h[0]), concepts(h[1])) if h else None for h in halves]
    frequency: Counter[str] = Counter(c for bag in bags for c in bag)
    total = len(bags)
    weight = {c: math.log((total + 1) / (n + 0.5)) for c, n in frequency.items()}
    blocks: defaultdict[str, list[int]] = defaultdict(list)
    for index, bag in enumerate(bags):
        shared = sorted((c for c in bag if frequency[c] > 1), key=lambda c: (frequency[c], c))
        for concept in shared[:3]:
            blocks[concept].append(index)
    pairs: set[tuple[int, int]] = set()
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > block_limit:
            continue
        for a_pos, a in enumerate(members):
            for b in members[a_pos + 1 :]:
                key = (a, b) if a < b else (b, a)
                if key in seen:
                    continue
                seen.add(key)
                if _same(bags[a], bags[b], parts[a], parts[b], weight, cutoff):
                    pairs.add(key)
    return pairs


Halves = tuple[frozenset[str], frozenset[str]] | None


def _same(
    a: frozenset[str], b: frozenset[str], pa: Halves, pb: Halves, weight: dict[str, float], cutoff: float
) -> bool:
    """The same risk: the same cause and the same effect, however worded. Where either sentence
    cannot be split into the two, the whole must agree more closely."""
    whole = _similarity(a, b, weight, 3)
    if pa is None or pb is None:
        return whole >= cutoff + WHOLE_EXTRA
    if whole < cutoff - HALVES_ALLOWANCE:
        return False
    return min(_similarity(pa[0], pb[0], weight, 1), _similarity(pa[1], pb[1], weight, 1)) >= cutoff


WHOLE_EXTRA = 0.3  # how much closer two sentences that cannot be split must be
HALVES_ALLOWANCE = -0.05  # the whole must agree a little more than each half


def _similarity(a: frozenset[str], b: frozenset[str], weight: dict[str, float], least: int) -> float:
    if len(a) < least or len(b) < least:
        return 0.0
    shared = sum(weight[c] for c in a & b)
    return 2 * shared / (sum(weight[c] for c in a) + sum(weight[c] for c in b))
