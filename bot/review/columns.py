"""Finding the header row and mapping a register's own column names to the fields we check.

Registers name the same thing many ways ("Risk OPI", "Mitigation owner", "Likelihood (%)"). Each
header is matched with rapidfuzz against the names we know for each field; a column goes to the
field it matches best, and each field takes one column (residual ratings aside, see below).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

# field -> names registers use for it (normalised: lower case, single spaces, no punctuation).
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "risk_id": (
        "item",
        "item id",
        "item ref",
        "risk item",
        "ref no",
        "reference no",
        "risk code",
        "code",
        "ref number",
        "id no",
        "item no",
        "risk id no",
        "unique id",
        "risk id",
        "id",
        "ref",
        "reference",
        "risk ref",
        "risk reference",
        "no",
        "risk no",
        "number",
        "risk number",
        "item id",
        "raid id",
        "risk no.",
    ),
    "title": ("title", "risk title", "name", "risk name", "short description", "summary", "headline"),
    "description": (
        "what could happen",
        "what might happen",
        "risk event description",
        "risk and impact",
        "hazard risk",
        "hazard",
        "cause event effect",
        "cause event and effect",
        "risk cause event effect",
        "risk narrative",
        "description of risk",
        "description",
        "risk description",
        "risk",
        "details",
        "risk details",
        "risk event",
        "event",
        "risk statement",
        "statement",
        "risk detail",
        "narrative",
    ),
    "cause": ("cause", "causes", "root cause", "source", "risk cause", "driver"),
    "effect": ("effect", "effects", "consequence", "consequences", "risk effect", "outcome"),
    "category": (
        "category",
        "risk category",
        "type",
        "risk type",
        "area",
        "risk area",
        "theme",
        "classification",
        "risk class",
    ),
    "owner": (
        "owner",
        "risk owner",
        "opi",
        "risk opi",
        "owned by",
        "accountable",
        "responsible",
        "mitigation owner",
        "assigned owner",
        "lead",
        "risk lead",
    ),
    "actionee": ("actionee", "action owner", "assigned to", "action by", "actioned by", "responsible person"),
    "probability": (
        "lkhd",
        "lhood",
        "likelihd",
        "lik",
        "prob.",
        "probability rating 1 5",
        "p score",
        "likelihood score",
        "probability",
        "likelihood",
        "prob",
        "chance",
        "p",
        "l",
        "likelihood rating",
        "probability rating",
        "initial probability",
        "inherent probability",
        "inherent likelihood",
        "likelihood score",
        "probability score",
    ),
    "impact": (
        "sev",
        "sev.",
        "sever",
        "imp",
        "impact score",
        "consequence score",
        "cons",
        "severity score",
        "i score",
        "impact",
        "severity",
        "i",
        "c",  # "C (1-5)" beside "L (1-5)": consequence
        "impact rating",
        "severity rating",
        "consequence rating",
        "initial risk",
        "inherent impact",
        "impact score",
        "initial impact",
        "impact value",
        "cost impact",
        "impact cost",
    ),
    "score": (
        "risk level score",
        "overall risk",
        "overall rating",
        "risk score total",
        "p x i score",
        "priority rating",
        "score",
        "risk score",
        "rating",
        "risk rating",
        "exposure",
        "risk exposure",
        "expected value",
        "ev",
        "emv",
        "expected monetary value",
        "p x i",
        "pxi",
        "p i",
        "inherent score",
        "inherent rating",
        "likely initial risk",
        "risk value",
        "priority score",
        "overall score",
        "total score",
    ),
    "rag": (
        "rag",
        "rag status",
        "rag rating",
        "risk level",
        "level",
        "priority",
        "severity level",
        "criticality",
    ),
    "response_type": (
        "response",
        "response type",
        "strategy",
        "treatment",
        "response strategy",
        "risk response",
        "approach",
    ),
    "mitigation": (
        "control measures",
        "controls in place",
        "existing controls",
        "treatment actions",
        "mitigating actions",
        "mitigation",
        "mitigation strategy",
        "mitigation plan",
        "mitigating actions",
        "mitigation actions",
        "actions",
        "response actions",
        "potential responses",
        "controls",
        "action plan",
        "treatment plan",
        "risk response plan",
        "planned response",
        "response plan",
        "action",
        "countermeasures",
        "countermeasure",
        "mitigation action",
        "next steps",
        "next step",
        "what we re doing about it",
        "what we re doing",
        "what we are doing about it",
        "what is being done",
        "proposed actions",
        "planned actions",
        "management actions",
        "risk treatment",
        "controls actions",
    ),
    "contingency": ("contingency", "contingency plan", "fallback", "fallback plan"),
    # What the risk would cost at worst: money beside the expected value, not its score.
    "worst_case": (
        "worst case exposure",
        "worst case",
        "worst case cost",
        "maximum exposure",
        "max exposure",
    ),
    "action_due": (
        "due by",
        "action by",
        "target",
        "by when",
        "action deadline",
        "action due",
        "due date",
        "due",
        "target date",
        "mitigation due date",
        "deadline",
        "action due date",
        "action date",
        "completion date",
        "target completion",
        "expected resolution",
        "mitigation due",
    ),
    "action_status": (
        "progress",
        "status of action",
        "action state",
        "action status",
        "mitigation status",
        "action progress",
        "response status",
    ),
    "status": ("status", "risk status", "state", "register status", "open closed", "current status"),
    "date_raised": (
        "date raised",
        "date identified",
        "identified date",
        "identified",
        "date logged",
        "logged",
        "created",
        "date created",
        "date opened",
        "opened",
        "date added",
        "raised on",
        "date",
    ),
    "last_reviewed": (
        "reviewed on",
        "date last updated",
        "date last reviewed",
        "last updated on",
        "review date last",
        "last reviewed",
        "review date",
        "last updated",
        "updated",
        "date reviewed",
        "last review",
        "last update",
        "reviewed",
        "last review date",
        "date updated",
        "last modified",
        "review",
    ),
    "proximity": ("proximity", "timing", "timeframe", "time frame", "when", "expected date"),
    "escalated": (
        "raised to",
        "raised to steerco",
        "raised to board",
        "steerco",
        "escalated to steerco",
        "board",
        "escalated to board",
        "escalated to trustees",
        "escalated to sponsor",
        "board escalation",
        "escalated",
        "escalation",
        "esc",
        "escalate",
        "to board",
        "board escalation required",
        "escalated to",
        "escalation status",
        "escalate",
        "escalated y n",
        "escalated?",
    ),
    "residual_probability": (
        "residual probability",
        "residual likelihood",
        "res l",
        "res p",
        "res likelihood",
        "res probability",
        "post mitigation probability",
        "target probability",
        "target likelihood",
    ),
    "residual_impact": (
        "residual impact",
        "residual severity",
        "res i",
        "res impact",
        "res c",
        "residual risk",
        "post mitigation impact",
        "target impact",
    ),
    "residual_score": (
        "residual score",
        "residual rating",
        "likely residual risk",
        "target score",
        "post mitigation score",
        "residual exposure",
        "residual expected value",
        "residual ev",
        "res score",
        "res rating",
        "residual risk score",
        "residual level",
    ),
    "closure_date": ("closure date", "date closed", "closed date", "closed on", "date of closure"),
    "closure_reason": (
        "closure reason",
        "reason for closure",
        "closure comment",
        "closure comments",
        "closure notes",
        "closure rationale",
        "reason closed",
    ),
    "rationale": ("rationale", "justification", "acceptance rationale", "reason for acceptance"),
    "validator": ("validated by", "validator", "validation owner", "who validates", "to be validated by"),
    "validate_by": (
        "validate by",
        "validation date",
        "validation due",
        "validate by date",
        "validated by date",
    ),
    "other_party": (
        "depends on",
        "dependent on",
        "dependency on",
        "other party",
        "external party",
        "provided by",
        "delivered by",
        "providing team",
        "third party",
        "dependency provider",
    ),
    "needed_by": (
        "needed by",
        "required by",
        "need by date",
        "date needed",
        "required date",
        "needed by date",
    ),
    "trigger": ("trigger", "triggers", "early warning", "early warning indicator", "warning signs"),
    "response_cost": ("cost of measures", "cost of response", "mitigation cost", "response cost"),
}

# What it means for the review when a field has no column.
MISSING_MEANS: dict[str, str] = {
    "risk_id": "no id column: findings point at row numbers; ask the PM to give each risk a stable id",
    "description": "no description column: nothing says what each risk is",
    "owner": "no owner column: ask the PM who owns each risk",
    "probability": "no probability or likelihood column: ask how likely each risk is, on an agreed scale",
    "impact": "no impact or severity column: ask what each risk would do to time, cost or quality",
    "mitigation": "no mitigation or response column: ask what is being done about each risk",
    "status": "no status column: open and closed risks cannot be told apart, so all are treated as open",
    "last_reviewed": "no last-reviewed column: ask when each risk was last looked at",
    "action_due": "no action due-date column: ask when each response will be done",
    "escalated": "no escalation column: ask which risks have gone to the board",
    "score": "no score column: scores are taken as probability × impact",
}

# Fields whose names overlap, so that "Likelihood" after "Residual risk" can mean the residual one.
_RESIDUAL_OF = {"probability": "residual_probability", "impact": "residual_impact", "score": "residual_score"}
_RESIDUAL_WORDS = ("residual", "post", "target", "after")

_ALL_NAMES: list[tuple[str, str]] = [(name, fld) for fld, names in FIELD_NAMES.items() for name in names]
_NAME_LIST = [name for name, _ in _ALL_NAMES]
_UNITS = re.compile(r"\(([^)]*)\)")
_NON_WORD = re.compile(r"[^a-z0-9%£$€]+")

MATCH_CUTOFF = 86.0


def normalise_header(value: object) -> str:
    text = str(value or "").lower().replace("\n", " ").replace("#", " no ")
    text = _UNITS.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


_SCALE_HINT = re.compile(r"\b1\s*[-–to]+\s*(3|4|5|10)\b")


def unit_hint(value: object) -> str:
    """What a header says about its values: '%', a currency, a scale such as '1-3', or ''."""
    text = str(value or "").lower()
    scale = _SCALE_HINT.search(text)
    if scale:
        return f"1-{scale.group(1)}"
    if "%" in text or "percent" in text:
        return "%"
    if re.search(r"\bvl\s*[-–]\s*vh\b", text):
        return "VL-VH"
    for symbol, code in (
        ("£", "GBP"),
        ("gbp", "GBP"),
        ("$", "USD"),
        ("usd", "USD"),
        ("€", "EUR"),
        ("eur", "EUR"),
        ("chf", "CHF"),
    ):
        if symbol in text:
            return code
    return ""


@functools.lru_cache(maxsize=2048)
def _match(header: str) -> tuple[str, float] | None:
    if not header:
        return None
    for name, fld in _ALL_NAMES:
        if header == name:
            return fld, 100.0
    found = process.extractOne(header, _NAME_LIST, scorer=fuzz.ratio, score_cutoff=MATCH_CUTOFF)
    if found is not None:
        return _ALL_NAMES[found[2]][1], float(found[1])
    # "Risk owner (name)" or "Owner of risk": a known name as whole words inside a longer header.
    words = f" {header} "
    best: tuple[str, float] | None = None
    for name, fld in _ALL_NAMES:
        if len(name) >= 4 and f" {name} " in words:
            score = 70.0 + 15.0 * len(name) / len(header)
            if best is None or score > best[1]:
                best = (fld, score)
    return best


def header_score(cells: tuple[object, ...]) -> int:
    """How many cells of a row look like register column names."""
    # A cell of more than a few words is data, not a column name: no need to match it.
    return sum(
        1
        for c in cells
        if isinstance(c, str) and len(c) <= HEADER_LENGTH and _match(normalise_header(c)) is not None
    )


HEADER_LENGTH = 60


@dataclass(frozen=True)
class ColumnMap:
    fields: dict[str, int]  # field -> column index
    headers: tuple[str, ...]  # the register's own header text, by column
    units: dict[str, str]  # field -> unit hint from its header
    duplicated: tuple[str, ...]  # header names that appear more than once
    # field -> other columns whose names fit it as well ("Status" beside "Register_Status")
    alternates: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def has(self, fld: str) -> bool:
        return fld in self.fields

    def header_of(self, fld: str) -> str:
        return self.headers[self.fields[fld]] if fld in self.fields else ""


def map_columns(header_cells: tuple[object, ...]) -> ColumnMap:
    headers = tuple(str(c).strip() if c is not None else "" for c in header_cells)
    normal = [normalise_header(h) for h in headers]
    candidates: list[tuple[float, int, str]] = []
    for index, name in enumerate(normal):
        hit = _match(name)
        if hit is not None:
            candidates.append((hit[1], index, hit[0]))
    # Best matches first; among equals, the leftmost column (registers put the main one first).
    candidates.sort(key=lambda c: (-c[0], c[1]))
    fields: dict[str, int] = {}
    taken: set[int] = set()
    alternates: dict[str, list[int]] = {}
    for score, index, fld in candidates:
        if index in taken:
            continue
        residual_context = any(w in normal[index] for w in _RESIDUAL_WORDS) or any(
            any(w in normal[j] for w in _RESIDUAL_WORDS) for j in range(index)
        )
        if fld in _RESIDUAL_OF and (residual_context and fld in fields):
            fld = _RESIDUAL_OF[fld]
        if fld in fields:
            if score >= 100.0:
                alternates.setdefault(fld, []).append(index)
            continue
        fields[fld] = index
        taken.add(index)
    _prefer_description_over_title(fields, normal)
    units = {fld: unit_hint(headers[i]) for fld, i in fields.items() if unit_hint(headers[i])}
    seen: set[str] = set()
    duplicated = []
    for name, raw in zip(normal, headers, strict=True):
        if name and name in seen and raw not in duplicated:
            duplicated.append(raw)
        seen.add(name)
    others = {fld: tuple(columns) for fld, columns in alternates.items()}
    return ColumnMap(fields, headers, units, tuple(duplicated), others)


def _prefer_description_over_title(fields: dict[str, int], normal: list[str]) -> None:
    # A register with only a "Risk" column (no description) uses it as the description.
    if "description" not in fields and "title" in fields:
        fields["description"] = fields.pop("title")
