"""The register checks. Each finds rows (or the register as a whole) that a co-ordinator should
challenge, and says what to ask the project manager.

Check ids are those of the interface contract, plus ``broken_row`` for a row that stray
separators have broken apart.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

from rapidfuzz import fuzz, process

from bot.review.columns import ColumnMap
from bot.review.meaning import MAX_ROWS, same_meaning_pairs
from bot.review.register import RAG_OF, Register, Risk, date_of, is_done, plain_words, says_no
from bot.review.values import Cell

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class ReviewSettings:
    stale_after_days: int = 30
    owner_share: float = 0.6  # one owner holding more than this share of open risks
    owner_min_open: int = 5
    duplicate_similarity: float = 92.0
    same_meaning: float = 0.4  # share of weight two reworded risks must share (bot.review.meaning)
    escalate_at: float | None = None  # overrides the threshold read from the register


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    row: int | None
    risk_id: str | None
    message: str
    question: str
    related: str | None = None  # the other risk of a duplicate pair

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "check": self.check,
            "risk_id": self.risk_id,
            "row": self.row,
            "severity": self.severity,
            "message": self.message,
            "question": self.question,
        }
        if self.related is not None:
            out["related_risk_id"] = self.related
        return out


SEVERITY: dict[str, Severity] = {
    "broken_row": "error",
    "missing_owner": "error",
    "missing_probability": "warning",
    "missing_impact": "warning",
    "invalid_value": "error",
    "score_mismatch": "error",
    "missing_response": "error",
    "stale_review": "warning",
    "past_due_action": "warning",
    "closed_with_open_actions": "error",
    "issue_not_risk": "warning",
    "vague_description": "info",
    "duplicate": "warning",
    "owner_concentration": "warning",
    "high_risk_not_escalated": "error",
    "residual_not_lower": "warning",
    "closed_without_reason": "warning",
    "uniform_ratings": "warning",
    "repeated_filler": "warning",
    "unvalidated_assumption": "warning",
    "incomplete_dependency": "warning",
}

_PLACEHOLDER_OWNER = re.compile(
    r"^(tbc|tbd|tba|n/?a|na|\?+|-+|none|unknown|unassigned|to be confirmed|"
    r"to be (decided|agreed|assigned)|not assigned|nobody|no owner|owner)$",
    re.IGNORECASE,
)
_ALREADY_HAPPENED = re.compile(
    # "may have missed" is a guess, not a report
    r"(?<!may )(?<!might )(?<!could )(?<!would )(?<!should )(?<!must )(?<!will )"
    r"\b(has|have|had) (already )?(been |now )?(occurred|happened|materiali[sz]ed|slipped|failed|"
    r"missed|left|resigned|gone|exceeded|overrun|broken|stopped|been (delayed|cancelled|lost|breached|"
    r"exceeded|missed|rejected|withdrawn))\b"
    r"|\brisk (has )?materiali[sz]ed\b"
    r"|\b(has|have) (not|n't) (been )?(delivered|arrived|received|started)\b",
    re.IGNORECASE,
)
# Present states and past events read as facts only when nothing in the sentence is uncertain:
# "if the supplier is delayed ..." is a risk; "the server room flooded last week" is an issue.
_STATE = re.compile(
    r"\b(is|are|was|were) (now |currently |already )?(late|delayed|overdue|down|blocked|missing|"
    r"unavailable|behind|over budget|over-budget|on hold|broken|closed|shut|out of service|out of action)\b"
    r"|\bcurrently (late|delayed|behind|blocked|over)",
    re.IGNORECASE,
)
_RECENTLY = re.compile(
    r"\b(last (week|month|night|year|quarter|friday|monday)|yesterday|this (morning|week)"
    r"|\d+ (days|weeks|months) ago"
    r"|on \d{1,2}(st|nd|rd|th)? (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
    r"|on \d{1,2}[/.-]\d{1,2}([/.-]\d{2,4})?"
    r"|at (its |the )?\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4})\b",
    re.IGNORECASE,
)
_PAST_VERB = r"\b(\w+ed|went|was|were|had|lost|left|broke|fell|began|came|ran|took|made|found)\b"
_PAST_EVENT = re.compile(
    # "trains are cancelled on 28 December" is a present passive: what would happen, not what did
    r"(?<!\bis )(?<!\bare )(?<!\bbe )"
    + _PAST_VERB
    + r"[^.;]{0,80}"
    + _RECENTLY.pattern
    # "the rehearsal on 14 Oct failed"
    + r"|"
    + _RECENTLY.pattern
    + r"\s+"
    + _PAST_VERB,
    re.IGNORECASE,
)


class _Happening:
    """A present state ("is late") or an event told with when it happened ("left last week").
    The second pattern is slow on long text, so it runs only where a time phrase is present."""

    @staticmethod
    def search(text: str) -> bool:
        state = _STATE.search(text) and _ACTUAL.search(text)
        return bool(state or (_RECENTLY.search(text) and _PAST_EVENT.search(text)))


_HAPPENING = _Happening()
# A present state is a fact only with a word that ties it to now or to what has been: "consent is
# delayed by the conservation officer, holding up demolition" is how many registers word a risk;
# "the racking is late and will not be finished" and "the site is currently closed" are reports.
_ACTUAL = re.compile(
    r"\b(now|currently|already|at present|presently|still|today|will not|won't|was|were|found|lost|"
    r"left|broke|fell|went|came|ran|took|made|began|(has|have|had) (now |already |just )?(been )?\w+ed)\b",
    re.IGNORECASE,
)

# "Already" says a thing has happened only when nothing in the sentence is still uncertain: "the
# supplier is already stretched, so it may deliver late" is a risk with a present cause.
_ALREADY = re.compile(r"\balready\b", re.IGNORECASE)
_UNCERTAIN = re.compile(
    r"\b(may|might|could|would|will|risk that|there is a risk|risk of|if|potential|possib\w*|likely)\b",
    re.IGNORECASE,
)
# "Following the delayed survey, there is a risk that...": a past event told as the cause of a risk.
_AS_CAUSE = re.compile(
    r"^\W*(following|because( of)?|as|since|due to|after|given( that)?|owing to|now that|with)\b",
    re.IGNORECASE,
)
# A headline that reports a finding: "Contaminated soil discovered at the north pile cap".
# Only verbs of finding: "Export cable damaged during pull-in" is as often a risk's event told as a
# headline; "Contaminated soil discovered at the pile cap" reports what someone found.
_HEADLINE = re.compile(
    r"^[\w'’ -]{3,60}?\b(discovered|found|identified|detected|confirmed|uncovered|reported)\s+"
    r"(at|in|on|during|by|after|under|within|across|near|beneath|below|behind)\b",
    re.IGNORECASE,
)
# "has walked off site", "have pulled out": a perfect tense with no doubt in the sentence.
_PERFECT = re.compile(
    r"\b(has|have) (now |just |already )?(walked off|pulled out|gone (bust|into)|quit|resigned|ceased|"
    r"collapsed|run out|broken down|gone down|shut down|closed down|been (served|issued|found|discovered|"
    r"refused|suspended|terminated|halted|damaged|stolen|flooded|breached))\b",
    re.IGNORECASE,
)
_OCCURRED_STATUS = re.compile(
    r"^(occurred|materiali[sz]ed|happened|realised|realized|issue)\b", re.IGNORECASE
)
_VAGUE = re.compile(
    r"\b(various|some (issues?|problems?|risks?|things?)|things (may|might|could) go wrong|general risks?|"
    r"misc(ellaneous)?|tbc|tbd|stuff|problems? may (arise|occur)|may be an issue|issues? may arise|"
    r"something (may|might|could) (happen|go wrong))\b",
    re.IGNORECASE,
)
_VAGUE_WORDS = frozenset(
    "various some things general misc miscellaneous tbc tbd stuff problem problems issue issues "
    "something".split()
)
_OPEN_ACTION = re.compile(
    r"^(open|in progress|in-progress|not started|ongoing|overdue|pending|planned|"
    r"started|underway|outstanding|late|on hold|wip|to do|todo)\b",
    re.IGNORECASE,
)
_STOPWORDS = frozenset(
    "a an the of to in on for and or is are be may might could will would with by at as "
    "that this there from it its risk risks".split()
)

SMALL_BLOCK = 12
BLOCK_WORDS = 3  # each row joins the blocks of the pairs of its three rarest words

Check = Callable[[Register, dt.date, ReviewSettings], Iterator[Finding]]


def _finding(check: str, risk: Risk | None, message: str, question: str) -> Finding:
    return Finding(
        check, SEVERITY[check], risk.row if risk else None, risk.risk_id if risk else None, message, question
    )


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _name(risk: Risk) -> str:
    return f"{risk.label} ('{_short(risk.text, 50)}')" if risk.text else risk.label


# -- data ----------------------------------------------------------------------------------


def broken_rows(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    for b in reg.broken:
        where = b.risk_id or f"line {b.row}"
        yield Finding(
            "broken_row",
            "error",
            b.row,
            b.risk_id,
            f"{where} has {b.fields} fields where the header has {b.expected}: a separator inside a cell "
            "has split it, so its columns cannot be trusted and it was not checked further.",
            f"Can you re-save {where} with the text quoted (or the commas removed) so its columns line up?",
        )


def missing_owner(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("owner"):
        return
    for risk in reg.open_rows:
        if risk.kind in ("assumption", "decision"):
            continue  # an assumption's missing validator is its own check
        owner = risk.value("owner")
        if not owner or _PLACEHOLDER_OWNER.match(owner):
            if risk.kind == "dependency":
                continue  # who delivers it is the dependency check's question; a team as owner is ours
            shown = f" (it says '{owner}')" if owner else ""
            yield _finding(
                "missing_owner",
                risk,
                f"{_name(risk)} has no named owner{shown}.",
                f"Who owns {risk.label}, and do they know they own it?",
            )
        elif several_owners(owner):
            yield _finding(
                "missing_owner",
                risk,
                f"{_name(risk)} has several owners in one cell ('{_short(owner, 40)}'): when "
                "everyone owns it, no one does.",
                f"Which one person is accountable for {risk.label}? The others can hold its actions.",
            )
        elif is_a_group(owner):
            yield _finding(
                "missing_owner",
                risk,
                f"{_name(risk)} is owned by a group ('{_short(owner, 40)}'), not a person.",
                f"Who in {owner} answers for {risk.label}, by name?",
            )


# Words that name a team, a department or a supplier rather than one accountable person.
_GROUP_WORDS = frozenset(
    "team teams dept department departments pmo office group unit division directorate committee board "
    "procurement finance it hr legal estates facilities vendor vendors supplier suppliers contractor "
    "contractors everyone all various business operations ops workstream squad staff management "
    "infrastructure qa uat production marketing sales engineering commercial compliance payroll "
    "logistics maintenance catering housekeeping security communications comms services h&s hse r&d".split()
)
_PERSON_ROLE = re.compile(
    r"\b(lead|leader|manager|mgr|head|director|officer|owner|chair|chairman|chairperson|engineer|analyst|"
    r"co-?ordinator|architect|sponsor|specialist|administrator|consultant|controller|adviser|advisor|"
    r"planner|pm|cfo|cto|ceo|cio|coo|sro|principal|supervisor|accountant|secretary|representative|rep|"
    r"champion|partner|executive|clerk|surveyor|solicitor|counsel|scientist|designer|developer|tester|"
    r"steward|agent|foreman|inspector|radiologist|nurse|matron|doctor|clinician|admin|sme|eng|sre)s?\b",
    re.IGNORECASE,
)
# "&" between words joins two owners; inside one ("H&S", "R&D") it is part of a name.
_OWNER_SPLIT = re.compile(r"\s*(?:/|;|(?<=\s)&|&(?=\s)|\+|\band\b|,|\s[-–—]\s)\s*", re.IGNORECASE)
_TITLES = frozenset("dr mr mrs ms miss prof".split())
_ROLE_PREFIX = re.compile(r"^(chief|deputy|assistant|senior|vice|head|acting|interim)\b", re.IGNORECASE)


def _words_of(text: str) -> list[str]:
    return [w for w in re.split(r"[\s.()]+", text) if w]


def looks_like_a_name(part: str) -> bool:
    """'Jane Smith', 'D. Marsh', 'Dr Amara Nwosu': two or more capitalised words, none a role or a team."""
    words = [w for w in _words_of(part) if w.lower() not in _TITLES]
    if len(words) < 2 or _PERSON_ROLE.search(part):
        return False
    return all(w[0].isupper() and w.lower() not in _GROUP_WORDS for w in words) and not all(
        w.isupper() and len(w) > 1 for w in words
    )


def _is_group_part(part: str) -> bool:
    words = _words_of(part.strip())
    return bool(words) and words[-1].lower() in _GROUP_WORDS and not _PERSON_ROLE.search(part)


@functools.lru_cache(maxsize=4096)
def is_a_group(owner: str) -> bool:
    """'IT team', 'PMO', 'Procurement', 'Vendor' rather than a person or a one-person role; not
    'Jane Smith - IT' (a person and her department)."""
    roles = list(_PERSON_ROLE.finditer(owner))
    if roles and all(_plural_role(m) for m in roles):
        return True  # "Shop managers", "Site supervisors": several people by their role
    if not owner.strip() or roles:
        return False
    if any(looks_like_a_name(p) for p in re.split(r"[,(]|\s[-–—]\s", owner)):
        return False
    return _is_group_part(owner.strip().rstrip("."))


def _plural_role(match: re.Match[str]) -> bool:
    word = match.group(0).lower()
    return word.endswith("s") and not match.group(1).lower().endswith("s")


@functools.lru_cache(maxsize=4096)
def several_owners(owner: str) -> bool:
    """'J. Patel / K. Osei', 'PM, QA Lead', 'Vendor / QA'; not 'Patel, Jay' (one person, surname
    first), 'Sarah Jones, Head of IT' (a person and her role) or 'Head of Legal & Compliance'."""
    parts = [p for p in _OWNER_SPLIT.split(owner.strip()) if p and len(p.strip(". ")) >= 2]
    if len(parts) < 2:
        return False
    if re.search(r"\s/|/\s|;|\+", owner) or re.search(r"\w{2,}/\w{2,}", owner):
        return True  # "Vendor / QA", "DevOps/InfoSec": a slash joins two owners
    names = [p for p in parts if looks_like_a_name(p)]
    roles = len(_PERSON_ROLE.findall(owner))
    fragments = all(len(p.split()) == 1 or _ROLE_PREFIX.match(p) for p in parts[:-1])
    if roles == 1 and not names and _PERSON_ROLE.search(parts[-1]) and fragments:
        return False  # "Sales and Marketing Director", "Health, Safety & Environment Manager"
    of_both = re.search(r"\b(head|director|chief|manager|lead|officer)\s+(of|for)\b", owner, re.IGNORECASE)
    if of_both and roles == 1 and not names and not re.search(r"[/;+]", owner):
        return False  # "Head of Estates and Facilities": one role over two areas
    if len(parts) == 2 and len(names) == 1:
        return False  # "John Smith, PM", "M. Khan, Estates": a person and what they do
    parties = [p for p in parts if p in names or _PERSON_ROLE.search(p) or _is_group_part(p)]
    return len(parties) >= 2


def _missing(fld: str, check: str, what: str, question: str) -> Check:
    def run(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
        if not reg.columns.has(fld):
            return
        for risk in reg.rows_of("risk"):
            cell = risk.cells.get(fld)
            if cell is not None and cell.empty:
                yield _finding(check, risk, f"{_name(risk)} has no {what}.", question.format(risk=risk.label))

    return run


def invalid_values(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    for risk in reg.risks:
        for fld in ("probability", "impact", "score") if risk.kind == "risk" else ():
            scale = reg.scales.get(fld)
            cell = risk.cells.get(fld)
            if scale is None or cell is None or cell.empty or scale.kind == "none":
                continue
            if fld == "score":
                if not _score_off_grid(reg, cell):
                    continue
            elif scale.level(cell) is not None:
                continue
            header = reg.columns.header_of(fld)
            shown = _short(str(risk.raw.get(fld)), 40)
            yield _finding(
                "invalid_value",
                risk,
                f"{risk.label}: {header} '{shown}' is not a value on this register's scale "
                f"({scale.describe()}).",
                f"What {header.lower()} does {risk.label} really have, on the scale the rest "
                "of the register uses?",
            )
        for fld, what in (
            ("date_raised", "date raised"),
            ("last_reviewed", "last-reviewed date"),
            ("action_due", "action due date"),
        ):
            if reg.columns.has(fld) and date_of(reg, risk, fld) is False:
                yield _finding(
                    "invalid_value",
                    risk,
                    f"{risk.label}: the {what} '{_short(str(risk.raw.get(fld)), 30)}' is not a date.",
                    f"What is the real {what} for {risk.label}?",
                )


def _score_off_grid(reg: Register, cell: Cell) -> bool:
    """A score that no probability × impact on the register's grid could give."""
    p, i = reg.scales.get("probability"), reg.scales.get("impact")
    if reg.score_kind != "product" or p is None or i is None:
        return False
    if cell.kind != "number":
        return cell.kind == "text"
    return not (0 < cell.value <= p.peak * i.peak)


def score_mismatch(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    flagged: set[int] = set()
    for finding in _product_mismatch(reg):
        flagged.add(finding.row or 0)
        yield finding
    for finding in _band_mismatch(reg):
        if (finding.row or 0) not in flagged:  # one finding a row, however many things disagree
            yield finding


def _band_mismatch(reg: Register) -> Iterator[Finding]:
    """A RAG label that disagrees with the register's own bands (a 20 labelled Green)."""
    if not reg.columns.has("rag"):
        return
    header = reg.columns.header_of("rag")
    for risk in reg.rows_of("risk"):
        rag = RAG_OF.get(risk.value("rag").lower())
        score = risk.score if risk.score is not None else risk.computed
        if rag is None or score is None:
            continue
        if reg.bands:
            band = next((b for b in reg.bands if b[0] <= score <= b[1]), None)
            if band is None or band[2] == rag:
                continue
            expected, source = band[2], "the bands stated at the top of the register"
        elif rag == "green" and reg.escalation_score is not None and score >= reg.escalation_score:
            expected, source = "red", "its escalation threshold"
        elif rag == "red" and reg.medium_score is not None and score < reg.medium_score:
            expected, source = "green or amber", "its medium threshold"
        else:
            continue
        yield _finding(
            "score_mismatch",
            risk,
            f"{risk.label}: {header} says {risk.value('rag')} but its score of {score:g} is {expected} "
            f"by {source}.",
            f"Is {risk.label} really {risk.value('rag')}? Its score says {expected}: which is right?",
        )


def _product_mismatch(reg: Register) -> Iterator[Finding]:
    if not reg.columns.has("score") or reg.score_kind == "none":
        return
    for risk in reg.rows_of("risk"):
        if risk.score is None or risk.computed is None or risk.probability is None or risk.impact is None:
            continue
        if reg.score_kind == "product":
            if abs(risk.score - risk.computed) < 1e-9:
                continue
            detail = f"{risk.probability:g} × {risk.impact:g} = {risk.computed:g}"
        else:
            # A percentage shown rounded (2.5% as "3%") moves the product by up to half a point.
            slack = 0.005 * abs(risk.impact) + 1.0
            if abs(risk.score - risk.computed) <= slack:
                continue
            detail = f"{risk.probability:g}% of {risk.impact:,.0f} = {risk.computed:,.0f}"
        header = reg.columns.header_of("score")
        yield _finding(
            "score_mismatch",
            risk,
            f"{risk.label}: {header} is {risk.score:,.10g} but {detail}.",
            f"Which is right for {risk.label}: the {header.lower()} or the ratings behind it?",
        )


# -- management ----------------------------------------------------------------------------


# A response that is no action: watching is not managing.
_NOT_AN_ACTION = re.compile(
    r"^(monitor(ing|ed)?( (closely|regularly|weekly|monthly|it|this|the (risk|situation)|and review|"
    r"and report|ongoing))*|keep (an eye on|watching|monitoring)( it| this| the risk| [\w' -]{1,40})?|"
    r"watch(ing)?( it| and wait)?|"
    r"ongoing|on-going|under review|to be reviewed|review(ed)? (regularly|periodically)|continue to monitor|"
    r"wait and see|pending|tbc|tbd|tba|to be (confirmed|determined|agreed|decided)|none|n/?a|as above|"
    r"see above|noted|ok|nothing|no action|no action (needed|required)|business as usual|bau)[.!]*$",
    re.IGNORECASE,
)
_ACCEPT_ONLY = re.compile(r"^(accept(ed)?|tolerate[d]?|retain(ed)?|accept the risk)[.!]*$", re.IGNORECASE)
_ACCEPTS = re.compile(r"^(accept|tolerat|retain)", re.IGNORECASE)
# "Accept", "Accept - a 5% move is £55k, inside contingency": an accepting response, and what follows
# the word is its reason.
_ACCEPT_LEAD = re.compile(
    r"^(accept(ed)?|tolerated?|retain(ed)?)( the risk)?\s*(?:[-–:;,(.]|$)", re.IGNORECASE
)


def _reason_after_accept(text: str) -> bool:
    """The reason written in the strategy cell itself, after the word: four words or more."""
    lead = _ACCEPT_LEAD.match(text)
    return lead is not None and len(text[lead.end() :].split()) >= 4


def response_gap(reg: Register, risk: Risk) -> str:
    """Why the risk's response is no response: '' when it is one."""
    text = " ".join(risk.value("mitigation").split())
    kind = risk.value("response_type")
    if not text or _PLACEHOLDER_OWNER.match(text):
        if _ACCEPTS.match(kind) and (risk.value("rationale") or _reason_after_accept(kind)):
            return ""
        return "has no response recorded" if not _ACCEPTS.match(kind) else "is accepted with no reason given"
    if _ACCEPTS.match(kind) and not _ACCEPT_ONLY.match(text):
        return ""  # accepted, with what will be done about it written down: watching is the plan
    if _NOT_AN_ACTION.match(text):
        return f"has '{_short(text, 30)}' as its response, which is watching, not an action"
    if _ACCEPT_ONLY.match(text) and not risk.value("rationale"):
        return "is accepted with no reason given"
    return ""


def missing_response(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("mitigation"):
        return
    for risk in reg.open_rows:
        if risk.kind == "issue":
            text = risk.value("mitigation")
            if not text or _PLACEHOLDER_OWNER.match(text):
                yield _finding(
                    "missing_response",
                    risk,
                    f"{_name(risk)} is an open issue with no action recorded.",
                    f"What is being done to resolve {risk.label}, by whom and by when?",
                )
            continue
        if risk.kind != "risk" or reg.medium_score is None:
            continue
        score = risk.effective_score
        if score is None or score < reg.medium_score:
            continue
        gap = response_gap(reg, risk)
        if not gap:
            continue
        question = (
            f"Why is {risk.label} accepted at {score:,.10g}, who agreed it, and what would make you act?"
            if "accepted" in gap
            else f"What is being done about {risk.label}, by whom and by when?"
        )
        yield _finding("missing_response", risk, f"{_name(risk)} scores {score:,.10g} but {gap}.", question)


def stale_review(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("last_reviewed"):
        return
    for risk in reg.open_rows:
        if risk.kind not in ("risk", "assumption"):
            continue
        reviewed = date_of(reg, risk, "last_reviewed")
        if isinstance(reviewed, dt.date) and (as_of - reviewed).days > cfg.stale_after_days:
            days = (as_of - reviewed).days
            yield _finding(
                "stale_review",
                risk,
                f"{risk.label} was last reviewed on {reviewed:%d %b %Y}, {days} days ago.",
                f"Is {risk.label} still live, and are its ratings still right after {days} days?",
            )


def past_due_action(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("action_due"):
        return
    for risk in reg.open_rows:
        if risk.kind in ("assumption", "decision"):
            continue
        overdue = []
        actions = risk.actions()
        for number, action in enumerate(actions, start=1):
            due = reg.date_in(action.get("action_due"))
            if not isinstance(due, dt.date) or due >= as_of:
                continue
            if reg.columns.has("action_status") and is_done(str(action.get("action_status") or "")):
                continue
            overdue.append((number, due))
        if not overdue:
            continue
        if len(actions) == 1:
            message = f"{risk.label}: its action was due on {overdue[0][1]:%d %b %Y} and is not done."
        else:
            ordinal = ("first", "second", "third", "fourth")
            shown = " and ".join(
                f"the {ordinal[n - 1] if n <= 4 else f'{n}th'} (due {d:%d %b %Y})" for n, d in overdue
            )
            verb = "is" if len(overdue) == 1 else "are"
            message = f"{risk.label} has {len(actions)} actions; {shown} {verb} not done."
        yield _finding(
            "past_due_action",
            risk,
            message,
            f"The action on {risk.label} is overdue: what is the new date, and does the score change?",
        )


def closed_with_open_actions(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("action_status"):
        return
    for risk in reg.risks:
        if risk.is_open:
            continue
        # Each action counts, those on rows merged under the risk's own row too.
        states = (" ".join(str(a.get("action_status") or "").split()) for a in risk.actions())
        still = [state for state in states if _OPEN_ACTION.match(state)]
        if still:
            yield _finding(
                "closed_with_open_actions",
                risk,
                f"{risk.label} is closed but its action is still '{still[0]}'.",
                f"{risk.label} is closed with an action still open: which is right?",
            )


def issue_not_risk(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    for risk in reg.open_risks:
        status = risk.value("status")
        # The event can be told in the title, the description, or the cause and effect columns.
        text = " ".join(risk.value(f) for f in ("title", "description", "cause", "effect") if risk.value(f))
        if (status and _OCCURRED_STATUS.match(status)) or reads_as_happened(text, risk):
            yield _finding(
                "issue_not_risk",
                risk,
                f"{_name(risk)} reads as something that has already happened: an issue, not a risk.",
                f"Has {risk.label} already happened? If so, can it move to the issue log, with a link?",
            )


_FINITE = re.compile(
    r"\b(is|are|was|were|will|may|might|can|cannot|could|would|do|does|did|not|has|have)\b", re.IGNORECASE
)
# Every pattern above needs one of these words: a sentence without any is not looked at further.
_TOLD_WORDS = frozenset(
    "was were has have had materialised materialized already currently yesterday ago last this discovered "
    "found identified detected confirmed damaged stolen cancelled canceled withdrawn rejected collapsed "
    "flooded breached halted suspended terminated".split()
)
# A state ("is late") needs one of these, and then the state pattern itself to match.
_STATE_WORDS = frozenset(
    "late delayed overdue down blocked missing unavailable behind broken over-budget closed shut".split()
)
_ON_A_DATE = re.compile(r"\bon \d")
_AT_A_DATE = re.compile(r"\bat (its |the )?\d{1,2}[/.-]\d")


def _plain_words(text: str, risk: Risk | None = None) -> frozenset[str]:
    return risk.words if risk is not None and text == risk.text else plain_words(text)


_DOUBT = re.compile(
    r"\b(may|might|could|would|risk that|there is a risk|risk of|if|potential|possibl\w*|likely)\b", re.I
)
_HABIT = re.compile(
    r"\b(frequently|often|repeatedly|regularly|usually|sometimes|occasionally|every|always|last \d+|"
    r"last (two|three|four|five|several|few))\b",
    re.IGNORECASE,
)
_CONDITION = re.compile(r"\b(when|until|unless|whether|once|before|after|during)\b", re.IGNORECASE)


def reads_as_happened(text: str, risk: Risk | None = None) -> bool:
    """Whether a risk's words tell of something that has happened, rather than might."""
    labelled = _EVENT_LABEL.search(text)
    if labelled:
        # "Cause: ... Event: ... Effect: ...": the cause may well be a fact, and the effect is
        # what would follow; whether the risk has happened is told by its event alone.
        text, risk = _NEXT_LABEL.split(text[labelled.end() :], maxsplit=1)[0], None
    low = text.lower()
    dated = (" on " in low and _ON_A_DATE.search(low)) or (" at " in low and _AT_A_DATE.search(low))
    phrases = "over budget" in low or "on hold" in low
    words = _plain_words(text, risk)
    # Most risks have none of the words a past event is told in, and no state such as "is late"
    # either: quick to see.
    told = words & _TOLD_WORDS or dated or phrases
    if not told and (not (words & _STATE_WORDS) or not _STATE.search(text)):
        return False
    first = re.split(r"[.;]\s", text, maxsplit=1)[0]
    # "Could not read the tags when tested on 12 May" is what happened: "could" of a dated past.
    past_ability = _COULD_NOT.search(text) and _RECENTLY.search(text) and _PAST_EVENT.search(text)
    unsure = _MONTH_MAY.sub(" ", text)  # "tested on 12 May" has no doubt in it
    unsure = _COULD_NOT.sub(" ", unsure) if past_ability else unsure
    certain = not _UNCERTAIN.search(unsure)
    # "FAT has already slipped once; a late delivery would delay commissioning": a past event
    # followed by what may come of it is the cause of a risk, not the risk.
    doubt = _DOUBT.search(unsure)
    # "The gearbox seized in the load test and the light was out for six hours": a past tense of
    # "to be", told as certain, before any ", reducing ..." that says what would follow.
    if not doubt and _WAS.search(re.split(r",\s*\w+ing\b", text, maxsplit=1)[0]):
        return True
    for clause in re.split(r"[,;:]|\s[-–]\s", text):
        if (_AS_CAUSE.match(clause) and not certain) or doubt:
            continue  # the past event is why the risk exists, not the risk
        if _told_as_fact(_ALREADY_HAPPENED, clause) or _told_as_fact(_PERFECT_ANY, clause):
            return True
    # "The racking is late and will not be finished": a present fact, told as certain. Not when
    # the sentence goes on to what may follow ("the system is down frequently, which could
    # disrupt cut-over"): then the state is the cause, and the risk is what may follow it.
    if not doubt and not _HABIT.search(text) and _ACTUAL.search(text):
        for clause in re.split(r"[,;:]|[.)]\s|\s[-–]\s|\b(?:and|but|so|which|because)\b", text):
            found = _STATE.search(clause)
            if _AS_CAUSE.match(clause) or _CONDITION.match(clause.strip()):
                break
            if found and _CONDITION.search(clause[: found.start()]):
                break  # "the trains stop when the network is down"; but "blocked until fixed" is a fact
            if found:
                return True
    if not certain:
        return False
    match = _HEADLINE.search(first)
    # "Defects found in UAT are not fixed in time" has a verb of its own: the participle describes;
    # "items are damaged during demolition" is a present passive, what would happen.
    headline = (
        match is not None
        and not _FINITE.search(first[match.end() :])
        and not _PASSIVE_BEFORE.search(first[: match.start(1)])
    )
    # "Down for maintenance every Sunday" is how things are, the cause of a risk, not an event.
    state = _HAPPENING.search(text) and not _HABIT.search(text) and not _IF.search(text)
    return bool(_ALREADY.search(text) or state or headline or _PERFECT.search(text))


_PASSIVE_BEFORE = re.compile(r"\b(is|are|be|being|not|never|yet to be)( not)?\s+$", re.IGNORECASE)
_COULD_NOT = re.compile(r"\bcould(?: not|n't)\b", re.IGNORECASE)
_MONTH_MAY = re.compile(
    r"\b\d{1,2}(?:st|nd|rd|th)? May\b|\bMay \d{1,4}\b"
    r"|\b(?:in|by|from|until|till|since|of|during|before|after|early|late|mid|mid-|end of|start of) May\b",
    re.IGNORECASE,
)
_WAS = re.compile(r"\b(was|were)\b", re.IGNORECASE)
_EVENT_LABEL = re.compile(r"\bevent\s*:", re.IGNORECASE)
_NEXT_LABEL = re.compile(r"\b(?:effect|impact|consequence|cause)\s*:", re.IGNORECASE)
# A perfect tense told as fact, of any verb: "the landowner has refused", "the partner has
# replaced our architect", "the area has been sealed off". Not "has to", not a negation ("has not
# been tested" is a gap, the cause of a risk), not a participle used as an adjective ("the course
# has limited places"), not in a condition ("once the contractor has left").
_PERFECT_ANY = re.compile(
    r"\b(has|have) (now |just |already |recently |since |also )?(been )?"
    r"([a-z]+ed|found|lost|left|gone|taken|withdrawn|broken|fallen|cut|spent|sent|told|begun|shut|"
    r"won|paid|sold|quit|run)\b",
    re.IGNORECASE,
)
_ADJECTIVE_PARTICIPLES = frozenset(
    "limited dedicated skilled detailed experienced advanced qualified restricted specialised "
    "specialized integrated automated mixed varied aged outdated needed required".split()
)


def _told_as_fact(pattern: re.Pattern[str], clause: str) -> bool:
    match = pattern.search(clause)
    if match is None or (pattern is _PERFECT_ANY and match.group(4).lower() in _ADJECTIVE_PARTICIPLES):
        return False
    before = clause[: match.start()]
    # "spreads into the roof void, as has happened at other sites": a comparison, not a report
    return not _IF.search(before) and not before.rstrip().lower().endswith(" as")


_IF = re.compile(r"\b(if|when|until|unless|whether|once|before|after)\b", re.IGNORECASE)


def vague_description(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    for risk in reg.risks:
        text = risk.text
        if not text:
            continue
        words = re.findall(r"[A-Za-z][A-Za-z'-]*", text) if len(text.split()) <= 6 else text.split()
        if len(words) <= 3 and _spelt_out(risk.value("cause")) and _spelt_out(risk.value("effect")):
            continue  # a short title, with the risk spelt out in its cause and effect columns
        if len(words) <= 3 or (risk.words & _VAGUE_WORDS and _VAGUE.search(text)):
            yield _finding(
                "vague_description",
                risk,
                f"{risk.label}: '{_short(text, 50)}' names a topic, not a risk anyone can act on.",
                f"What exactly could happen in {risk.label}, what would cause it, and what would "
                "it do to the project?",
            )


def _spelt_out(text: str) -> bool:
    return len(text.split()) > 3 and not _VAGUE.search(text)


def duplicates(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    risks = [r for r in reg.risks if len(r.text.split()) >= 3]
    keys = [" ".join(sorted(r.words - _STOPWORDS)) for r in risks]
    pairs = similar_pairs(keys, cfg.duplicate_similarity)
    # Above MAX_ROWS only near-identical wording is compared (see same_meaning_pairs).
    statements = [_statement(r) for r in risks] if len(risks) <= MAX_ROWS else None
    reworded = same_meaning_pairs(statements, cfg.same_meaning) if statements is not None else None
    if reworded is None:
        reg.notes.append(
            f"reworded duplicates not looked for in {len(risks):,} rows (near-identical wording was)"
        )
    reworded = (reworded or set()) - pairs
    partner: dict[int, tuple[int, bool]] = {}
    for (i, j), again in [*((p, False) for p in sorted(pairs)), *((p, True) for p in sorted(reworded))]:
        if risks[i].kind != risks[j].kind:
            continue
        partner.setdefault(i, (j, again))
        partner.setdefault(j, (i, again))
    for i in sorted(partner):
        (j, again), risk = partner[i], risks[i]
        other = risks[j]
        how = "says the same as" if again else "repeats"
        finding = _finding(
            "duplicate",
            risk,
            f"{risk.label} {how} {other.label}: '{_short(risk.text, 50)}'"
            + (f" and '{_short(other.text, 50)}'." if again else "."),
            f"Are {risk.label} and {other.label} the same risk? If so, which one stays?",
        )
        yield dataclasses.replace(finding, related=other.risk_id or other.label)


def _statement(risk: Risk) -> str:
    """The risk's own words: its description, or its cause and effect where those are apart."""
    cause, effect = risk.value("cause"), risk.value("effect")
    if cause and effect:
        return f"{cause} may lead to {effect}"
    return risk.text


def similar_pairs(keys: list[str], cutoff: float, block_limit: int = 1500) -> set[tuple[int, int]]:
    """Pairs of near-identical texts, compared with rapidfuzz ``cdist`` within blocks.

    Comparing every row with every other is 100 million comparisons at 10,000 rows. Near
    duplicates share nearly all their words, so each row goes into the blocks of every two of its
    three rarest words: two rows that differ in one of those still meet in a block, and blocks of
    two words are small even where each word is common.
    """
    import numpy as np  # here, not at the top: most reviews are small and never need it

    split = [key.split() for key in keys]  # each key's words are distinct already
    frequency: Counter[str] = Counter(itertools.chain.from_iterable(split))
    # A word found in one row alone cannot pair it with another, so it makes no block.
    shared = sorted((w for w, f in frequency.items() if f > 1), key=frequency.__getitem__)
    rank = {w: n for n, w in enumerate(shared)}
    blocks: defaultdict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, words in enumerate(split):
        rarest = sorted([w for w in words if w in rank], key=rank.__getitem__)[:BLOCK_WORDS]
        if len(rarest) == 3:
            first, second, third = rarest
            blocks[(first, second)].append(index)
            blocks[(first, third)].append(index)
            blocks[(second, third)].append(index)
        else:
            blocks[tuple(rarest)].append(index)
    pairs: set[tuple[int, int]] = set()
    seen: set[tuple[int, ...]] = set()
    for members in blocks.values():
        if len(members) < 2 or tuple(members) in seen:
            continue
        seen.add(tuple(members))
        if len(members) <= SMALL_BLOCK:
            # A handful of rows: comparing them one by one is quicker than building a matrix.
            for a, b in itertools.combinations(members, 2):
                if fuzz.ratio(keys[a], keys[b], score_cutoff=cutoff):
                    pairs.add((a, b))
            continue
        for start in range(0, len(members), block_limit):
            chunk = members[start : start + block_limit]
            texts = [keys[i] for i in chunk]
            # Threads cost more than they save on a small block.
            workers = -1 if len(chunk) > 200 else 1
            scores = process.cdist(
                texts, texts, scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.uint8, workers=workers
            )
            # Each row needs one partner to be reported: a template copied into thousands of rows
            # would otherwise make millions of pairs.
            later = np.triu(scores, k=1) > 0
            for row in np.flatnonzero(later.any(axis=1)).tolist():
                pairs.add((chunk[row], chunk[int(np.argmax(later[row]))]))
    return pairs


def owner_concentration(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("owner"):
        return
    owners = Counter(
        " ".join(r.value("owner").lower().split())
        for r in reg.open_risks
        if r.value("owner") and not _PLACEHOLDER_OWNER.match(r.value("owner"))
    )
    total = len(reg.open_risks)
    if total < cfg.owner_min_open or not owners:
        return
    owner, count = owners.most_common(1)[0]
    if count / total > cfg.owner_share:
        shown = next(
            r.value("owner") for r in reg.open_risks if " ".join(r.value("owner").lower().split()) == owner
        )
        yield Finding(
            "owner_concentration",
            "warning",
            None,
            None,
            f"{shown} owns {count} of the {total} open risks ({count / total:.0%}).",
            f"{shown} owns {count / total:.0%} of the open risks: which belong to the sponsor, a "
            "supplier or another manager?",
        )


_SERIOUS = re.compile(r"^(high|very high|critical|severe|extreme|major|red|p1)$", re.IGNORECASE)


def high_risk_not_escalated(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    if not reg.columns.has("escalated"):
        yield from _above_threshold_unknown(reg)
        return
    for issue in reg.open_rows:
        severity = issue.value("rag") or issue.value("impact")
        impact = reg.scales.get("impact")
        level = impact.level(issue.cells["impact"]) if impact and "impact" in issue.cells else None
        # An issue is serious when its priority says so in words, or its impact is at the top of
        # the register's scale (4 or 5 of 5).
        serious = _SERIOUS.match(severity) or (
            impact is not None and level is not None and impact.kind == "ordinal" and level >= impact.top - 1
        )
        if issue.kind == "issue" and serious and says_no(issue.value("escalated")):
            yield _finding(
                "high_risk_not_escalated",
                issue,
                f"{_name(issue)} is a serious issue ({severity}) and is not escalated.",
                f"{issue.label} is a serious issue: who above the project knows, and what have "
                "they been asked to decide?",
            )
    if reg.escalation_score is None:
        return
    for risk in reg.open_risks:
        score = risk.effective_score
        if score is None or score < reg.escalation_score:
            continue
        if says_no(risk.value("escalated")):
            yield _finding(
                "high_risk_not_escalated",
                risk,
                f"{_name(risk)} scores {score:g}, at or above the escalation threshold of "
                f"{reg.escalation_score:g} ({reg.escalation_source}), and is not escalated.",
                f"{risk.label} is above the escalation threshold: when will the board hear of it, "
                "and who decides what to do?",
            )


def _above_threshold_unknown(reg: Register) -> Iterator[Finding]:
    """With no escalation column, name the risks at or above the threshold and ask how the board
    hears of them: one finding for the register."""
    if reg.escalation_score is None:
        return
    high = [
        r
        for r in reg.open_risks
        if r.effective_score is not None and r.effective_score >= reg.escalation_score
    ]
    if not high:
        return
    names = ", ".join(r.label for r in high[:8]) + (f" and {len(high) - 8} more" if len(high) > 8 else "")
    yield Finding(
        "high_risk_not_escalated",
        "warning",
        None,
        None,
        f"{_count(len(high), 'risk')} at or above the escalation threshold of {reg.escalation_score:g} "
        f"({reg.escalation_source}): {names}. The register has no column saying whether they were escalated.",
        f"How does the board hear of {names}, and who decides what to do about them?",
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _residual(reg: Register, risk: Risk) -> float | None:
    cell = risk.cells.get("residual_score")
    if cell is not None and cell.kind in ("number", "money"):
        return cell.value
    p, i = reg.scales.get("probability"), reg.scales.get("impact")
    rp, ri = risk.cells.get("residual_probability"), risk.cells.get("residual_impact")
    if reg.score_kind == "product" and p and i and rp and ri:
        a, b = p.level(rp), i.level(ri)
        return a * b if a is not None and b is not None else None
    return None


def residual_not_lower(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    """A response that is meant to reduce a risk but leaves its residual rating where it was."""
    if not (reg.columns.has("residual_score") or reg.columns.has("residual_probability")):
        return
    for risk in reg.open_risks:
        current, residual = risk.score if risk.score is not None else risk.computed, _residual(reg, risk)
        if current is None or residual is None or residual < current:
            continue
        if _ACCEPTS.match(risk.value("response_type")) or _ACCEPT_LEAD.match(risk.value("mitigation")):
            continue  # an accepted risk keeps its rating
        if not risk.value("mitigation") and not risk.value("response_type"):
            continue  # no response at all is the other check's finding
        word = "the same as" if residual == current else "above"
        yield _finding(
            "residual_not_lower",
            risk,
            f"{risk.label}: its residual rating ({residual:,.10g}) is {word} its current one "
            f"({current:,.10g}), so the response is expected to achieve nothing.",
            f"What will the response on {risk.label} change? If nothing, is it the right response?",
        )


def closed_without_reason(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    cols = reg.columns
    if not (cols.has("closure_date") or cols.has("closure_reason")):
        return
    for risk in reg.risks:
        if risk.is_open or risk.value("closure_date") or risk.value("closure_reason"):
            continue
        if len(risk.value("status").split()) > 2:
            continue  # "Closed - switchgear delivered and installed": the reason is in the status
        yield _finding(
            "closed_without_reason",
            risk,
            f"{_name(risk)} is closed with no closure date or reason.",
            f"When and why was {risk.label} closed, and who agreed it?",
        )


UNIFORM_MIN = 8


def uniform_ratings(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    """Every open risk rated the same: the ratings were not thought about one by one."""
    risks = reg.open_risks
    if len(risks) < UNIFORM_MIN:
        return
    for fld in ("rag", "score", "probability"):
        if not reg.columns.has(fld):
            continue
        if fld == "probability":
            values = _distinct(f"{r.value('probability')}×{r.value('impact')}".lower() for r in risks)
        else:
            values = _distinct(" ".join(r.value(fld).lower().split()) for r in risks)
        if len(values) == 1 and "" not in values and next(iter(values)) != "×":
            shown = risks[0].value(fld) if fld != "probability" else next(iter(values))
            yield Finding(
                "uniform_ratings",
                "warning",
                None,
                None,
                f"All {len(risks)} open risks are rated the same ({shown}): the ratings say nothing about "
                "which matter most.",
                "Which of these risks would hurt most, and which are most likely? Can each be rated "
                "on its own?",
            )
            return


def _distinct(values: Iterator[str]) -> set[str]:
    """The distinct values, up to the second: enough to tell whether all are the same."""
    seen: set[str] = set()
    for value in values:
        seen.add(value)
        if len(seen) > 1:
            break
    return seen


FILLER_MIN_ROWS = 5
FILLER_SHARE = 0.15


def repeated_filler(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    """One stock sentence pasted into many rows' responses ("To be managed in line with the plan")."""
    if not reg.columns.has("mitigation"):
        return
    rows = reg.open_rows
    texts = Counter(" ".join(r.value("mitigation").lower().split()).rstrip(".") for r in rows)
    for text, count in texts.most_common(3):
        if len(text.split()) < 3 or _NOT_AN_ACTION.match(text) or _ACCEPT_ONLY.match(text):
            continue
        if count >= FILLER_MIN_ROWS and count >= FILLER_SHARE * len(rows):
            shown = next(
                r for r in rows if " ".join(r.value("mitigation").lower().split()).rstrip(".") == text
            )
            ids = [
                r.label for r in rows if " ".join(r.value("mitigation").lower().split()).rstrip(".") == text
            ]
            listed = ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")
            yield Finding(
                "repeated_filler",
                "warning",
                None,
                None,
                f"'{_short(shown.value('mitigation'), 60)}' is the response of {count} risks ({listed}): "
                "the same words everywhere say nothing about any one of them.",
                f"For {ids[0]} and the others with the same words: what exactly will be done, by whom "
                "and by when?",
            )


def _dates_of(cols: ColumnMap, own: tuple[str, ...]) -> list[str]:
    """The date columns that say by when: the row type's own ("Needed by"), else the action's."""
    return [f for f in own if cols.has(f)] or [f for f in ("action_due",) if cols.has(f)]


def unvalidated_assumption(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    cols = reg.columns
    who = "validator" if cols.has("validator") else "owner" if cols.has("owner") else None
    when = _dates_of(cols, ("validate_by", "needed_by"))
    for row in reg.open_rows:
        if row.kind != "assumption":
            continue
        gaps = []
        if who and not _given(row.value(who)):
            gaps.append("no one named to check it")
        if when and not any(_given(row.value(f)) for f in when):
            gaps.append("no date to check it by")
        if gaps:
            yield _finding(
                "unvalidated_assumption",
                row,
                f"{_name(row)} is an assumption with {' and '.join(gaps)}.",
                f"Who will confirm {row.label} holds, by when, and what happens to the plan if it does not?",
            )


def _given(text: str) -> bool:
    """Filled in with something, not a placeholder: a date of "TBC" is no date."""
    return bool(text) and not _PLACEHOLDER_OWNER.match(text)


def incomplete_dependency(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> Iterator[Finding]:
    cols = reg.columns
    when = _dates_of(cols, ("needed_by", "validate_by"))
    for row in reg.open_rows:
        if row.kind != "dependency":
            continue
        gaps = []
        if cols.has("other_party") and not _given(row.value("other_party")):
            gaps.append("no one named to deliver it")
        if when and not any(_given(row.value(f)) for f in when):
            gaps.append("no date it is needed by")
        if gaps:
            yield _finding(
                "incomplete_dependency",
                row,
                f"{_name(row)} is a dependency with {' and '.join(gaps)}.",
                f"Who delivers {row.label}, by what date does the project need it, and who is chasing it?",
            )


CHECKS: tuple[tuple[str, Check], ...] = (
    ("broken_row", broken_rows),
    ("missing_owner", missing_owner),
    (
        "missing_probability",
        _missing(
            "probability",
            "missing_probability",
            "probability or likelihood rating",
            "How likely is {risk} to happen, on the register's scale?",
        ),
    ),
    (
        "missing_impact",
        _missing(
            "impact",
            "missing_impact",
            "impact or severity rating",
            "How bad would {risk} be if it happened, in time, cost or quality?",
        ),
    ),
    ("invalid_value", invalid_values),
    ("score_mismatch", score_mismatch),
    ("missing_response", missing_response),
    ("stale_review", stale_review),
    ("past_due_action", past_due_action),
    ("closed_with_open_actions", closed_with_open_actions),
    ("issue_not_risk", issue_not_risk),
    ("vague_description", vague_description),
    ("duplicate", duplicates),
    ("owner_concentration", owner_concentration),
    ("high_risk_not_escalated", high_risk_not_escalated),
    ("residual_not_lower", residual_not_lower),
    ("closed_without_reason", closed_without_reason),
    ("uniform_ratings", uniform_ratings),
    ("repeated_filler", repeated_filler),
    ("unvalidated_assumption", unvalidated_assumption),
    ("incomplete_dependency", incomplete_dependency),
)


def run_checks(reg: Register, as_of: dt.date, cfg: ReviewSettings) -> list[Finding]:
    if cfg.escalate_at is not None:
        reg.escalation_score, reg.escalation_source = cfg.escalate_at, "the threshold you set"
    findings = [f for _, check in CHECKS for f in check(reg, as_of, cfg)]
    findings.sort(key=lambda f: (f.row if f.row is not None else -1, SEVERITY_ORDER[f.severity]))
    return findings
