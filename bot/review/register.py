"""A register as the checks see it: the sheet and header chosen, columns mapped, scales inferred,
and each row turned into a :class:`Risk` with its values read on the register's own scales."""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from bot.errors import ReviewError
from bot.review.columns import ColumnMap, header_score, map_columns
from bot.review.reader import Row, Sheet, read_sheets
from bot.review.values import (
    Cell,
    DateReading,
    Scale,
    infer_date_order,
    infer_scale,
    norm_label,
    parse_cell,
    parse_date,
)

HEADER_SEARCH_ROWS = 30
MIN_HEADER_MATCHES = 2

# The lowest score that counts as medium, and the default escalation threshold, by scale size.
MEDIUM_SCORE = {3: 4.0, 4: 6.0, 5: 8.0, 10: 30.0}  # 3x3: Medium x Medium upwards
ESCALATION_SCORE = {3: 9.0, 4: 12.0, 5: 15.0, 10: 60.0}

_CLOSED = re.compile(
    r"^(closed?|complete[d]?|done|resolved|retired|expired|passed|withdrawn|cancell?ed|finished|"
    r"occurred.*issue|transferred to issue.*|no longer (a )?risk|archived|inactive)\b",
    re.IGNORECASE,
)
_DONE = re.compile(
    r"^(complete[d]?|done|closed?|finished|delivered|implemented|achieved|mitigated|resolved|in place|"
    r"actioned|yes|y)\b",
    re.IGNORECASE,
)
_NO = re.compile(r"^(no|n|false|not escalated|none|not yet|nil|0|-)$", re.IGNORECASE)
# "Escalate to SteerCo when score >= 16": a threshold needs a comparison, so that "escalation
# route per PMO standard 3" is not read as one.
_STATED_THRESHOLD = re.compile(
    r"escalat\w*[^.\n]{0,60}?"
    r"(?:(?:>=|≥|=>|>|at or above|above|over|of at least|at least|score of|rating of)\s*(\d{1,3})"
    r"|\bat\s+(\d{1,3})\s*(?:or (?:above|more|higher|over)|\+))"
    # "Escalation: any open risk with an expected value of £50,000 or more goes to the board"
    r"|escalat\w*[^.\n]{0,80}?\b(?:of|at|reaching)\s+[£$€]?(\d{1,3}(?:,\d{3})+|\d+)\s*"
    r"(?:or (?:above|more|higher|over)|\+)"
    # "any open risk scoring 12 or above must be escalated"
    r"|\b(?:scor\w*|rated|rating)\s+(\d{1,3})\s*(?:or (?:above|more|higher|over)|\+|and above)"
    r"[^.\n]{0,40}?escalat",
    re.IGNORECASE,
)
# The grid cells where medium starts and where escalation starts, by scale size.
_GRID_CELLS = {3: ((2, 2), (3, 3)), 4: ((2, 3), (3, 4)), 5: ((2, 4), (3, 5))}
_RED_BANDS = {"red", "critical", "very high", "extreme", "severe"}


@dataclass
class Risk:
    row: int
    risk_id: str | None
    raw: dict[str, object]
    text: str = ""
    is_open: bool = True
    probability: float | None = None
    impact: float | None = None
    score: float | None = None  # the register's own score, read on its scale
    computed: float | None = None  # probability × impact (or expected value) as we compute it
    cells: dict[str, Cell] = field(default_factory=dict)
    kind: str = "risk"  # in a typed RAID log: risk, issue, assumption, dependency, action or decision
    # Further actions on rows below it (an Excel risk whose cells are merged over two rows).
    more_actions: list[dict[str, object]] = field(default_factory=list)

    def value(self, fld: str) -> str:
        raw = self.raw.get(fld)
        if isinstance(raw, str):
            return raw  # stripped when the row was read
        return "" if raw is None else str(raw).strip()

    @property
    def label(self) -> str:
        if self.risk_id is None:
            return f"row {self.row}"
        # "What exactly could happen in 18" reads oddly; "in risk 18" does not.
        return f"{self.kind} {self.risk_id}" if self.risk_id.isdigit() else self.risk_id

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """The lower-case words of the risk's text, worked out once for every check that asks."""
        return plain_words(self.text)

    def actions(self) -> list[dict[str, object]]:
        """Every action of the risk: its own row's, then those of rows merged under it."""
        return [self.raw, *self.more_actions]

    @property
    def effective_score(self) -> float | None:
        return self.computed if self.computed is not None else self.score


@dataclass
class BrokenRow:
    row: int
    risk_id: str | None
    fields: int
    expected: int


@dataclass
class Register:
    filename: str
    sheet: str | None
    header_row: int
    columns: ColumnMap
    risks: list[Risk]
    broken: list[BrokenRow]
    scales: dict[str, Scale]
    dates: DateReading
    notes: list[str]
    title_text: str = ""
    book_text: str = ""  # the text of the workbook's other sheets, where a scoring guide may be
    score_kind: Literal["product", "expected_value", "none"] = "none"
    medium_score: float | None = None
    escalation_score: float | None = None
    escalation_source: str = ""
    bands: list[tuple[float, float, str]] = field(default_factory=list)  # RAG bands stated in the title
    typed: bool = False  # a RAID log whose rows say what they are

    @property
    def open_risks(self) -> list[Risk]:
        return [r for r in self.risks if r.is_open and r.kind == "risk"]

    @property
    def open_rows(self) -> list[Risk]:
        return [r for r in self.risks if r.is_open]

    def date_in(self, raw: object) -> dt.date | Literal[False] | None:
        return parse_date(raw, self.dates)

    def rows_of(self, kind: str) -> list[Risk]:
        return [r for r in self.risks if r.kind == kind]


def _pick_sheet(sheets: list[Sheet], wanted: str | None, filename: str) -> tuple[Sheet, int]:
    if wanted is not None:
        named = [s for s in sheets if (s.name or "").lower() == wanted.lower()]
        if not named:
            names = ", ".join(s.name or "?" for s in sheets)
            raise ReviewError(f"{filename} has no sheet named '{wanted}' (it has: {names}).")
        sheets = named
    best: tuple[float, int, Sheet, int] | None = None
    for order, sheet in enumerate(sheets):
        for index, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            score = float(header_score(row.cells))
            if score < MIN_HEADER_MATCHES:
                continue
            # A RAID workbook keeps risks on a sheet called Risks; prefer it to Issues or Actions.
            name = (sheet.name or "").lower()
            score += 3.0 if "risk" in name else 0.0
            score -= (
                2.0
                if any(w in name for w in ("issue", "assumption", "dependenc", "action", "decision"))
                else 0
            )
            if best is None or score > best[0]:
                best = (score, -order, sheet, index)
    if best is None:
        raise ReviewError(
            f"{filename} does not look like a risk register: no row of column names such as "
            "'Risk', 'Owner', 'Probability' or 'Impact' was found."
        )
    return best[2], best[3]


def build(data: bytes, filename: str, sheet: str | None, as_of: dt.date) -> Register:
    sheets = read_sheets(data, filename)
    chosen, header_index = _pick_sheet(sheets, sheet, filename)
    rows = chosen.load()
    header_index = _below_a_group_row(rows, header_index)
    header = rows[header_index]
    body = rows[header_index + 1 :]
    columns = map_columns(_with_group_row(rows, header_index))
    _response_text_is_mitigation(columns, body)
    _ratings_named_as_text(columns, body)
    _rag_by_values(columns, body)
    _numbers_named_as_level(columns, body)
    _ids_without_a_name(columns, body)
    _dates_that_are_not(columns, body)
    _dates_named_as_people(columns, body)
    _description_by_length(columns, body)
    _title_beside_description(columns, body)
    _labels_are_not_causes(columns, body)
    width = len(header.cells)
    while width and not columns.headers[width - 1]:
        width -= 1  # trailing empty header cells are not columns
    _status_by_values(columns, body)
    types = _raid_types(columns, body)
    title_text = " ".join(str(c) for r in rows[:header_index] for c in r.cells if c)
    # A workbook often keeps its scoring guide on a sheet of its own ("Scoring", "Key").
    others = [r for other in sheets if other is not chosen for r in other.rows]
    book_text = " ".join(c for r in others for c in r.cells if isinstance(c, str))
    risks: list[Risk] = []
    broken: list[BrokenRow] = []
    id_only: list[int] = []
    continued: list[int] = []
    orphans: list[int] = []
    last_row = -1
    usual = Counter(len(row.cells) for row in body).most_common(1)[0][0] if body else 0
    for row in body:
        filled = len(row.cells)
        while filled and (row.cells[filled - 1] is None or str(row.cells[filled - 1]).strip() == ""):
            filled -= 1
        risk = _risk(row, columns)
        # A CSV row with more fields than its header was split by an unquoted comma, even where
        # the extra field is empty ("Piling rig access, north boundary,...,Open,,"), unless the
        # file's rows are all that long (an export that pads every row).
        if chosen.name is None and (filled > width or width < len(row.cells) > usual):
            fields = filled if filled > width else len(row.cells)
            broken.append(BrokenRow(row.number, risk.risk_id, fields, width))
            continue
        if not risk.text and not risk.risk_id and not any(risk.raw.values()):
            continue
        if _repeats_header(row, header):
            continue
        if not _has_content(risk, columns):
            if risk.risk_id is not None and not _has_action(risk):
                id_only.append(row.number)  # a template numbered ahead and never filled in
                continue
            if risk.risk_id is None and _has_action(risk):
                if risks and row.number == last_row + 1:
                    # The row right under a risk whose id, text and ratings are merged over both
                    # rows: a second action of that risk.
                    risks[-1].more_actions.append(risk.raw)
                    continued.append(row.number)
                    last_row = row.number
                else:
                    orphans.append(row.number)  # an action with no risk right above it
                continue
        if types is not None:
            risk.kind = _RAID_KIND.get(_type_word(risk.raw.get("_type")), "risk")
        risks.append(risk)
        last_row = row.number
    if not risks and not broken:
        raise ReviewError(f"{filename} has column names but no risks under them.")
    notes = list(chosen.notes)
    if types is not None:
        kinds = Counter(r.kind for r in risks)
        notes.append(
            f"a RAID log typed by its '{columns.headers[types]}' column: "
            + ", ".join(_count(n, k) for k, n in kinds.most_common())
            + "; each type gets the checks that fit it"
        )
    if id_only:
        notes.append(
            f"{_count(len(id_only), 'row')} holding only an id (an unfilled template) not counted as risks"
        )
    if orphans:
        shown = ", ".join(str(n) for n in orphans[:5]) + (" …" if len(orphans) > 5 else "")
        notes.append(
            f"{_count(len(orphans), 'row')} ({shown}) holding only an action, with no risk right "
            "above, not read"
        )
    if continued:
        notes.append(
            f"{_count(len(continued), 'row')} with no id of its own read as a further action "
            "of the risk above"
        )
    if chosen.name is not None:
        notes.append(f"sheet '{chosen.name}', column names on row {header.number}")
    elif header_index:
        notes.append(f"column names on line {header.number}, below a title block")
    register = Register(
        filename,
        chosen.name,
        header.number,
        columns,
        risks,
        broken,
        {},
        DateReading(),
        notes,
        title_text,
    )
    register.typed = types is not None
    register.book_text = book_text
    register.bands = stated_bands(title_text) or stated_bands(book_text)
    _read_values(register, as_of)
    return register


_COLOUR = r"(?P<colour>green|amber|yellow|red|low|medium|high)"
# A number as a title block writes it: "15", "£5,000", "19,999".
_NUM = r"[£$€]?\s?(?P<{}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
_SPAN = _NUM.format("low") + r"\s*(?:-|–|—|to)\s*" + _NUM.format("high")
_BAND_FORMS = (
    re.compile(_SPAN + r"\s*(?:=|:|is|are)?\s*\(?" + _COLOUR + r"\b", re.IGNORECASE),
    re.compile(r"\b" + _COLOUR + r"\s*(?:=|:|is|\()?\s*" + _SPAN, re.IGNORECASE),
)
_OPEN_BAND = (
    re.compile(_NUM.format("low") + r"\s*\+\s*(?:=|:|is)?\s*\(?" + _COLOUR + r"\b", re.IGNORECASE),
    re.compile(
        r"\b"
        + _COLOUR
        + r"\s*(?:=|:|\()?\s*(?P<over>>=|≥|=>|>|above|over|more than|from|at least)\s*"
        + _NUM.format("low"),
        re.IGNORECASE,
    ),
    re.compile(
        r"\b"
        + _COLOUR
        + r"\s*(?:=|:|\()?\s*"
        + _NUM.format("low")
        + r"\s*(?:\+|and above|or above|or more|and over)",
        re.IGNORECASE,
    ),
)
# "Green under £5,000": everything below the number.
_UNDER_BAND = re.compile(
    r"\b" + _COLOUR + r"\s*(?:=|:|\()?\s*(?:<|under|below|less than)\s*" + _NUM.format("high"), re.IGNORECASE
)
# What a RAG cell may say. Bands in a title block are read from colour words only: "Low (1-2),
# Medium (3), High (4-5)" there is the scale of each rating, not bands of the score.
RAG_OF = {"green": "green", "g": "green", "low": "green", "amber": "amber", "a": "amber", "yellow": "amber",
          "medium": "amber", "red": "red", "r": "red", "high": "red"}  # fmt: skip
_BAND_ORDER = {"green": 0, "amber": 1, "red": 2}


def stated_bands(title: str) -> list[tuple[float, float, str]]:
    """RAG bands a register states above its header ("1-4 Green, 5-12 Amber, 15-25 Red"): at
    least two, rising from green to red without overlapping, or none."""
    bands: dict[str, tuple[float, float, str]] = {}

    def number(match: re.Match[str], name: str) -> float:
        return float(match.group(name).replace(",", ""))

    def banded(match: re.Match[str]) -> bool:
        # Low/Medium/High with a rating ("Low (1-2), High (4-5)") is the scale of a rating; with
        # money ("Low < £10,000; High >= £50,000") it is bands of the expected value.
        colour = match.group("colour").lower()
        return colour not in ("low", "medium", "high") or bool(re.search(r"[£$€]|\d,\d{3}", match.group(0)))

    for form in _BAND_FORMS:
        for m in filter(banded, form.finditer(title)):
            low, high = sorted((number(m, "low"), number(m, "high")))
            rag = RAG_OF[m.group("colour").lower()]
            bands.setdefault(rag, (low, high, rag))
    for form in _OPEN_BAND:
        for m in filter(banded, form.finditer(title)):
            rag = RAG_OF[m.group("colour").lower()]
            low = number(m, "low")
            # "High over £20,000" starts just above the number that ends "Medium ... to £20,000"
            exclusive = (m.groupdict().get("over") or "").lower() in (">", "above", "over", "more than")
            if exclusive:
                low = math.nextafter(low, math.inf)
            bands.setdefault(rag, (low, float("inf"), rag))
    for m in filter(banded, _UNDER_BAND.finditer(title)):
        rag = RAG_OF[m.group("colour").lower()]
        # Just under the number: "under 5,000" ends where the next band, "5,000 to ...", starts.
        bands.setdefault(rag, (0.0, math.nextafter(number(m, "high"), 0.0), rag))
    found = sorted(bands.values())
    rising = [_BAND_ORDER[b[2]] for b in found] == sorted(_BAND_ORDER[b[2]] for b in found)
    apart = all(a[1] < b[0] for a, b in itertools.pairwise(found))
    return found if len(found) >= 2 and rising and apart else []


_WORD_BREAKS = ",.;:()\"'’/!?[]"


def plain_words(text: str) -> frozenset[str]:
    text = text.lower()
    for mark in _WORD_BREAKS:
        if mark in text:
            text = text.replace(mark, " ")
    return frozenset(text.split())


def _count(n: int, noun: str) -> str:
    if n == 1:
        return f"{n} {noun}"
    return f"{n} {noun[:-1]}ies" if noun.endswith("y") else f"{n} {noun}s"


# Fields that say what a risk is; a row with none of them is not a risk of its own.
_CONTENT = ("description", "title", "cause", "effect", "owner", "probability", "impact", "score", "category")
_ACTION = ("mitigation", "action_due", "action_status", "actionee")


def _has_content(risk: Risk, columns: ColumnMap) -> bool:
    return any(_filled(risk.raw.get(f)) for f in _CONTENT if columns.has(f))


def _has_action(risk: Risk) -> bool:
    return any(_filled(risk.raw.get(f)) for f in _ACTION)


def _filled(value: object) -> bool:
    return value is not None and str(value).strip() not in ("", "0")


_RAID_KIND = {
    "risk": "risk",
    "risks": "risk",
    "r": "risk",
    "threat": "risk",
    "opportunity": "risk",
    "issue": "issue",
    "issues": "issue",
    "i": "issue",
    "assumption": "assumption",
    "assumptions": "assumption",
    "a": "assumption",
    "dependency": "dependency",
    "dependencies": "dependency",
    "d": "dependency",
    "action": "action",
    "actions": "action",
    "decision": "decision",
    "decisions": "decision",
}


def _type_word(value: object) -> str:
    return " ".join(str(value or "").lower().replace("-", " ").split())


def _raid_types(columns: ColumnMap, rows: list[Row]) -> int | None:
    """The column that says whether each row is a risk, an issue, an assumption or a dependency.

    A column qualifies when nearly all its values are such types and it holds more than risks; one
    letter codes (R, I, A, D) count only in a column named as a type or category."""
    named = {columns.fields[f] for f in ("category",) if columns.has(f)}
    named.update(columns.alternates.get("category", ()))
    width = min(len(columns.headers), max((len(r.cells) for r in rows), default=0))  # see _ids_without_a_name
    for index in sorted(range(width), key=lambda i: i not in named):
        # A glance at the first values rules most columns out before reading them all.
        glance = [r.cells[index] for r in rows[:60] if index < len(r.cells) and _filled(r.cells[index])]
        if len(glance) < 3 or sum(1 for v in glance if _type_word(v) in _RAID_KIND) < 0.8 * len(glance):
            continue
        values = [
            _type_word(r.cells[index]) for r in rows if index < len(r.cells) and _filled(r.cells[index])
        ]
        allowed = _RAID_KIND if index in named else {k: v for k, v in _RAID_KIND.items() if len(k) > 1}
        kinds = [allowed.get(v) for v in values]
        if sum(1 for k in kinds if k) >= 0.9 * len(values) and {k for k in kinds if k} - {"risk"}:
            if columns.fields.get("category") == index:
                del columns.fields["category"]
            columns.fields["_type"] = index
            return index
    return None


_STATUS_WORDS = re.compile(
    r"^(open|opened|live|active|current|closed?|retired|archived|inactive|resolved|cancell?ed|withdrawn)$",
    re.IGNORECASE,
)


def _status_by_values(columns: ColumnMap, rows: list[Row]) -> None:
    """Of two status columns ("Status": Active/Mitigated/Watch and "Register_Status": Open/Closed),
    the one that says whether a risk is open or closed."""
    if not columns.has("status") or not columns.alternates.get("status"):
        return

    def fit(index: int) -> float:
        values = [
            str(r.cells[index]).strip() for r in rows if index < len(r.cells) and _filled(r.cells[index])
        ]
        return sum(1 for v in values if _STATUS_WORDS.match(v)) / len(values) if values else 0.0

    best = max((columns.fields["status"], *columns.alternates["status"]), key=fit)
    if fit(best) > fit(columns.fields["status"]):
        columns.fields["status"] = best


def _response_text_is_mitigation(columns: ColumnMap, rows: list[Row]) -> None:
    """A "Response" column of sentences holds the actions, not a response type like "Reduce"."""
    if columns.has("mitigation") or not columns.has("response_type"):
        return
    index = columns.fields["response_type"]
    cells = [str(r.cells[index]) for r in rows if index < len(r.cells) and r.cells[index]]
    if cells and sum(1 for c in cells if len(c.split()) > 3) >= len(cells) / 2:
        columns.fields["mitigation"] = columns.fields.pop("response_type")


def _ratings_named_as_text(columns: ColumnMap, rows: list[Row]) -> None:
    """A "Consequence" column of 1-5 ratings is the impact, not a written consequence."""
    for text_field, rating_field in (("effect", "impact"), ("cause", "probability")):
        if not columns.has(text_field) or columns.has(rating_field):
            continue
        index = columns.fields[text_field]
        cells = [parse_cell(r.cells[index]) for r in rows if index < len(r.cells)]
        filled = [c for c in cells if not c.empty]
        ratings = [c for c in filled if c.kind in ("number", "label", "percent", "money")]
        if filled and len(ratings) >= 0.6 * len(filled):
            columns.fields[rating_field] = columns.fields.pop(text_field)


_RAG_HEADER = re.compile(r"rating|rag|level|priority|colou?r|severity|band|grade", re.IGNORECASE)


def _rag_by_values(columns: ColumnMap, rows: list[Row]) -> None:
    """A "Rating" column of High/Medium/Low beside the expected value that is the score: the
    register's own label for each risk."""
    if columns.has("rag") or not rows:
        return
    taken = set(columns.fields.values())
    for index, header in enumerate(columns.headers):
        if index in taken or not _RAG_HEADER.search(header):
            continue
        cells = [r.cells[index] for r in rows if index < len(r.cells) and r.cells[index]]
        values = [str(c).strip().lower() for c in cells]
        labels = sum(1 for v in values if v in RAG_OF and len(v) > 1)
        if len(values) >= 0.5 * len(rows) and labels >= 0.8 * len(values):
            columns.fields["rag"] = index
            return


def _below_a_group_row(rows: list[Row], index: int) -> int:
    """In a two-row header ("Assessment" above "Likelihood | Impact | Score") the column names are
    the lower row: move down when the next row names at least as many columns."""
    if index + 1 >= len(rows):
        return index
    upper, lower = header_score(rows[index].cells), header_score(rows[index + 1].cells)
    if lower >= max(MIN_HEADER_MATCHES, upper // 2):
        return index + 1
    return index


def _dates_that_are_not(columns: ColumnMap, rows: list[Row]) -> None:
    """A "Raised to SteerCo" column of Yes/No is an escalation flag, not the date raised."""
    for fld in ("date_raised", "last_reviewed", "action_due"):
        if not columns.has(fld):
            continue
        index = columns.fields[fld]
        values = [
            str(r.cells[index]).strip().lower() for r in rows if index < len(r.cells) and r.cells[index]
        ]
        flags = [v for v in values if v in _FLAG_WORDS]
        if values and len(flags) >= 0.6 * len(values):
            column = columns.fields.pop(fld)
            if not columns.has("escalated"):
                columns.fields["escalated"] = column


def _dates_named_as_people(columns: ColumnMap, rows: list[Row]) -> None:
    """An "Action By" column of dates is when, not who."""
    reading = DateReading()
    for fld in ("actionee", "owner"):
        if not columns.has(fld) or columns.has("action_due"):
            continue
        index = columns.fields[fld]
        values = [r.cells[index] for r in rows if index < len(r.cells) and r.cells[index] not in (None, "")]
        dates = [v for v in values if parse_date(v, reading) not in (None, False)]
        if values and len(dates) >= 0.6 * len(values):
            columns.fields["action_due"] = columns.fields.pop(fld)


def _description_by_length(columns: ColumnMap, rows: list[Row]) -> None:
    """With no column named as the description, the column of the longest sentences is it."""
    if columns.has("description") or not rows:
        return
    taken = set(columns.fields.values())
    best, best_words = -1, 5.0
    width = min(len(columns.headers), max(len(r.cells) for r in rows))  # see _ids_without_a_name
    for index in range(width):
        if index in taken:
            continue
        texts = [
            str(r.cells[index]) for r in rows if index < len(r.cells) and isinstance(r.cells[index], str)
        ]
        if len(texts) < 0.5 * len(rows):
            continue
        words = sum(len(t.split()) for t in texts) / len(texts)
        if words > best_words:
            best, best_words = index, words
    if best >= 0:
        columns.fields["description"] = best


def _labels_are_not_causes(columns: ColumnMap, rows: list[Row]) -> None:
    """A "Source" column saying which register a row came from ("Council workshop") in every row
    is a label, not a cause: causes differ from risk to risk."""
    for fld in ("cause", "effect"):
        if not columns.has(fld) or len(rows) < 6:
            continue
        index = columns.fields[fld]
        cells = [r.cells[index] for r in rows if index < len(r.cells) and r.cells[index]]
        values = {str(c).strip().lower() for c in cells}
        if values and len(values) <= max(3, len(rows) // 5):
            del columns.fields[fld]


def _mean_words(rows: list[Row], index: int) -> float:
    texts = [str(r.cells[index]) for r in rows if index < len(r.cells) and isinstance(r.cells[index], str)]
    return sum(len(t.split()) for t in texts) / len(texts) if len(texts) >= 0.5 * len(rows) else 0.0


def _title_beside_description(columns: ColumnMap, rows: list[Row]) -> None:
    """ "Risk" holding "Cofferdam leakage" beside a column of whole sentences: the short one is the
    risk's title, the sentences its description."""
    if not rows or not columns.has("description") or columns.has("title"):
        return
    current = columns.fields["description"]
    short = _mean_words(rows, current)
    if short > 5:
        return
    taken = set(columns.fields.values())
    width = min(len(columns.headers), max(len(r.cells) for r in rows))  # see _ids_without_a_name
    longest = max((i for i in range(width) if i not in taken), key=lambda i: _mean_words(rows, i), default=-1)
    if longest >= 0 and _mean_words(rows, longest) >= max(8.0, 2 * short):
        columns.fields["title"], columns.fields["description"] = current, longest


_FLAG_WORDS = frozenset({"y", "n", "yes", "no", "true", "false", "escalated", "not escalated", "-", "n/a"})


def _with_group_row(rows: list[Row], header_index: int) -> tuple[object, ...]:
    """The header's cells, with blanks filled from the row above: in a two-row header a merged
    cell such as "Risk ID" keeps its text in the upper row only."""
    cells = list(rows[header_index].cells)
    if header_index == 0 or rows[header_index - 1].number != rows[header_index].number - 1:
        return tuple(cells)
    above = rows[header_index - 1].cells
    for i, cell in enumerate(cells):
        if (cell is None or not str(cell).strip()) and i < len(above) and above[i]:
            cells[i] = above[i]
    return tuple(cells)


def _values(columns: ColumnMap, fld: str, rows: list[Row]) -> list[Cell]:
    index = columns.fields[fld]
    return [c for c in (parse_cell(r.cells[index]) for r in rows if index < len(r.cells)) if not c.empty]


def _numbers_named_as_level(columns: ColumnMap, rows: list[Row]) -> None:
    """A "Risk Level (1-16)" column of numbers is the score, not a RAG word."""
    if columns.has("rag") and not columns.has("score"):
        cells = _values(columns, "rag", rows)
        if cells and sum(1 for c in cells if c.kind == "number") >= 0.8 * len(cells):
            columns.fields["score"] = columns.fields.pop("rag")


_ID_LIKE = re.compile(r"^[A-Za-z]{0,6}[-_/. ]?[A-Za-z]{0,3}[-_/. ]?\d{1,6}[A-Za-z]?$")


def _ids_without_a_name(columns: ColumnMap, rows: list[Row]) -> None:
    """Find the id column by its values when no header names it: short codes, all different."""
    if columns.has("risk_id") or not rows:
        return
    taken = set(columns.fields.values())
    # Only the header's columns: a cell beyond it is in no column (in a CSV, a row broken by a
    # stray separator), and a field mapped there would have no header to name it by.
    width = min(len(columns.headers), max(len(r.cells) for r in rows))
    for index in range(width):
        if index in taken:
            continue
        values = [
            str(r.cells[index]).strip() for r in rows if index < len(r.cells) and r.cells[index] is not None
        ]
        values = [v for v in values if v]
        unique = len(values) >= 0.9 * len(rows) and len(set(values)) == len(values)
        if unique and sum(1 for v in values if _ID_LIKE.match(v)) >= 0.9 * len(values):
            columns.fields["risk_id"] = index
            return


def _risk(row: Row, columns: ColumnMap) -> Risk:
    cells = row.cells
    width = len(cells)
    raw: dict[str, object] = {}
    for fld, index in columns.fields.items():
        value = cells[index] if index < width else None
        raw[fld] = value.strip() if isinstance(value, str) else value
    rid = raw.get("risk_id")
    risk_id = None if rid is None or rid == "" else _id_text(rid)
    risk = Risk(row.number, risk_id, raw)
    description = risk.value("description")
    title = risk.value("title")
    risk.text = description or title
    return risk


def _id_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _repeats_header(row: Row, header: Row) -> bool:
    # Registers glued together from several files repeat their header row.
    cells, names = row.cells, header.cells
    probes = [i for i in (0, 1, len(names) - 1) if 0 <= i < min(len(cells), len(names)) and names[i]]
    if probes and not any(cells[i] == names[i] for i in probes):
        return False  # quick: a repeated header matches at its first, second or last name
    same = sum(1 for a, b in zip(cells, names, strict=False) if a and a == b)
    return same >= max(2, len([c for c in names if c]) // 2)


def _read_values(register: Register, as_of: dt.date) -> None:
    cols = register.columns
    for risk in register.risks:
        for fld in (
            "probability",
            "impact",
            "score",
            "residual_probability",
            "residual_impact",
            "residual_score",
        ):
            if cols.has(fld):
                risk.cells[fld] = parse_cell(risk.raw.get(fld))
        status = risk.value("status")
        risk.is_open = not (status and _CLOSED.match(status))
    scales: dict[str, Scale] = {}
    for fld in ("probability", "impact", "score"):
        if cols.has(fld):
            scales[fld] = infer_scale([r.cells[fld] for r in register.risks], cols.units.get(fld, ""))
    # A score is whatever its ratings multiply to, not a scale of its own; only a currency in its
    # header, or ratings that are not ordinal, make it an amount.
    score = scales.get("score")
    ratings_ordinal = all(s.kind in ("ordinal", "label") for f, s in scales.items() if f != "score")
    plain_header = cols.units.get("score", "") in ("", "%")
    if score is not None and score.kind in ("ordinal", "money") and ratings_ordinal and plain_header:
        scales["score"] = Scale("ordinal", 0.0, note="score")
    _money_is_not_a_score(register, scales)
    _share_ordinal_top(scales, register.risks)
    _top_by_rag(scales, register.risks)
    _top_as_stated(scales, register)
    _fit_scores(scales, register.risks)
    _fit_word_values(scales, register.risks)
    _fit_own_words(scales, register.risks)
    register.scales = scales
    date_values = [
        r.raw.get(f) for r in register.risks for f in ("date_raised", "last_reviewed", "action_due")
    ]
    register.dates = infer_date_order(date_values)
    if register.dates.note:
        register.notes.append(register.dates.note)
    _read_scores(register)
    _thresholds(register)
    for fld, scale in scales.items():
        register.notes.append(f"{cols.header_of(fld)} read as {scale.describe()}")


def _money_is_not_a_score(register: Register, scales: dict[str, Scale]) -> None:
    """A money column ("Cost_Exposure_USD") beside 1-5 ratings is what the risk could cost, not
    its score: leave it out of the score checks."""
    cols = register.columns
    score = scales.get("score")
    p, i = scales.get("probability"), scales.get("impact")
    if score is None or score.kind != "money" or not cols.units.get("score", "").isupper():
        return
    if p and i and p.kind in ("ordinal", "label") and i.kind in ("ordinal", "label"):
        register.notes.append(f"{cols.header_of('score')} read as money at stake, not as the risk's score")
        cols.fields["exposure"] = cols.fields.pop("score")
        del scales["score"]
        for risk in register.risks:
            risk.cells.pop("score", None)


# Values a register may give its three or five words: 1, 2, 3 by default; 2, 3, 4; 1, 3, 5; 1, 2, 4...
_WORD_VALUES = {
    3: ((1.0, 2.0, 3.0), (2.0, 3.0, 4.0), (1.0, 3.0, 5.0), (1.0, 2.0, 4.0), (1.0, 3.0, 9.0), (3.0, 4.0, 5.0)),
    5: (
        (1.0, 2.0, 3.0, 4.0, 5.0),
        (2.0, 3.0, 4.0, 5.0, 6.0),
        (1.0, 2.0, 4.0, 8.0, 16.0),
        (1.0, 3.0, 5.0, 7.0, 9.0),
    ),
}


def _fit_word_values(scales: dict[str, Scale], risks: list[Risk]) -> None:
    """Words are fitted to the register's own scores, as numbers are: if every Medium × High scores
    12 and every High × High 16, the register counts Low=2, Medium=3, High=4."""
    p, i = scales.get("probability"), scales.get("impact")
    if not (p and i and p.kind == i.kind == "label" and "score" in scales and p.top == i.top):
        return
    rows = []
    for r in risks:
        a, b, s = r.cells.get("probability"), r.cells.get("impact"), r.cells.get("score")
        if not (a and b and s and s.kind == "number"):
            continue
        la, lb = p.level(a), i.level(b)
        if la is not None and lb is not None:
            rows.append((int(la), int(lb), s.value))
    if len(rows) < 4:
        return

    def explained(values: tuple[float, ...]) -> int:
        return sum(1 for a, b, s in rows if abs(values[a - 1] * values[b - 1] - s) < 1e-9)

    options = _WORD_VALUES.get(int(p.top), ())
    if not options:
        return
    best = max(options, key=explained)
    if best != options[0] and explained(best) > explained(options[0]) and explained(best) >= 0.6 * len(rows):
        p.values = i.values = best


_Rated = tuple[str, str, float]  # a row's likelihood word, impact word and score


def _fit_own_words(scales: dict[str, Scale], risks: list[Risk]) -> None:
    """Words of the register's own ("Remote, Possible, Probable, Highly likely") fitted to its
    scores: each word takes the value that makes the most rows' ratings multiply to their score."""
    p, i = scales.get("probability"), scales.get("impact")
    worded = ("label", "none")
    if not (p and i and "score" in scales) or p.kind not in worded or i.kind not in worded:
        return
    rows: list[_Rated] = []
    current = unknown = 0
    for r in risks:
        a, b, s = r.cells.get("probability"), r.cells.get("impact"), r.cells.get("score")
        if not (a and b and s and s.kind == "number") or {a.kind, b.kind} - {"label", "text"}:
            continue
        rows.append((norm_label(a.label), norm_label(b.label), s.value))
        la, lb = p.level(a), i.level(b)  # already worth what the register scores them
        current += la is not None and lb is not None and la * lb == s.value
        unknown += a.kind == "text" or b.kind == "text"
    words_p, words_i = {r[0] for r in rows}, {r[1] for r in rows}
    if len(rows) < 6 or not unknown or current >= 0.6 * len(rows):
        return  # the usual words, read well enough already
    if not (3 <= len(words_p) <= 6 and 3 <= len(words_i) <= 6):
        return
    # Each word starts at its place among the scores it comes with, then takes the value that
    # explains most rows given the other column's values, a few times over.
    value_p, value_i = _rank_by_scores(rows, 0), _rank_by_scores(rows, 1)
    for _ in range(4):
        value_i = {w: _best_value(rows, w, 1, value_p) for w in words_i}
        value_p = {w: _best_value(rows, w, 0, value_i) for w in words_p}
    explained = sum(1 for a, b, s in rows if value_p[a] * value_i[b] == s)
    if explained >= 0.8 * len(rows):
        top = max(*value_p.values(), *value_i.values())
        for side, (scale, values) in enumerate(((p, value_p), (i, value_i))):
            uses = Counter(r[side] for r in rows)
            # "Catastrophic" once, scored as the "Critical" of every other row: off the scale.
            kept = {
                w: v
                for w, v in values.items()
                if not any(o != w and values[o] == v and uses[o] >= max(3, 3 * uses[w]) for o in values)
            }
            scale.kind, scale.own, scale.top, scale.values = "label", kept, top, ()


def _rank_by_scores(rows: list[_Rated], side: int) -> dict[str, float]:
    scores: dict[str, list[float]] = {}
    for row in rows:
        scores.setdefault(str(row[side]), []).append(row[2])
    order = sorted(scores, key=lambda w: sum(scores[w]) / len(scores[w]))
    return {w: float(n) for n, w in enumerate(order, start=1)}


def _best_value(rows: list[_Rated], word: str, side: int, other: dict[str, float]) -> float:
    def hits(value: float) -> int:
        return sum(1 for r in rows if r[side] == word and value * other[str(r[1 - side])] == r[2])

    return max((1.0, 2.0, 3.0, 4.0, 5.0), key=hits)


def _fit_scores(scales: dict[str, Scale], risks: list[Risk]) -> None:
    """A register whose ratings are mostly low is still a 5x5 if its scores reach 15."""
    p, i = scales.get("probability"), scales.get("impact")
    if not (p and i and p.kind == i.kind == "ordinal" and not (p.note or i.note) and "score" in scales):
        return
    scores = [
        r.cells["score"].value for r in risks if r.cells.get("score") and r.cells["score"].kind == "number"
    ]
    top = max(scores, default=0.0)
    if p.top < 5 and p.top * p.top < top <= 25:
        p.top = i.top = 5.0


def _share_ordinal_top(scales: dict[str, Scale], risks: list[Risk]) -> None:
    # Probability and impact share one grid: a 5x5 register whose probabilities never reach 5
    # is still a 5x5, and one stray 4 among a 3x3's values is an error, not a bigger grid.
    p, i = scales.get("probability"), scales.get("impact")
    if not (p and i and p.kind == i.kind and p.kind in ("ordinal", "label")):
        return
    if p.kind == "ordinal" and not (p.note or i.note):
        both = [r.cells[f] for r in risks for f in ("probability", "impact")]
        p.top = i.top = infer_scale(both).top
    else:
        p.top = i.top = max(p.top, i.top)
    p.five_labels = i.five_labels = p.five_labels or i.five_labels


def _top_by_rag(scales: dict[str, Scale], risks: list[Risk]) -> None:
    """On a 3x3, 3 x 3 is the top of the grid and red. Where a register labels its 3 x 3 rows
    amber or green, 3 is its middle: a 5x5 rated mostly at 3, whose stray 4 is no error."""
    p, i = scales.get("probability"), scales.get("impact")
    if not (p and i and p.kind == i.kind == "ordinal" and p.top == i.top == 3.0):
        return
    labels = [
        RAG_OF.get(r.value("rag").lower())
        for r in risks
        if r.cells.get("probability")
        and r.cells.get("impact")
        and r.cells["probability"].value == 3
        and r.cells["impact"].value == 3
    ]
    labels = [label for label in labels if label]
    if len(labels) >= 3 and sum(1 for label in labels if label != "red") > len(labels) / 2:
        p.top = i.top = 5.0


_HEADER_THRESHOLD = re.compile(
    r"(?:>=|≥|=>|>|over|above|at least)\s*[£$€]?\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*(k|m)?\b",
    re.IGNORECASE,
)
_SCORE_RANGE = re.compile(r"\(\s*1\s*(?:-|–|to)\s*(9|16|25)\s*\)|\b(\d)\s*[x×]\s*\2\b", re.IGNORECASE)


def _top_as_stated(scales: dict[str, Scale], register: Register) -> None:
    """A grid the register states ("Score = P x I (1-16)", "4x4", bands ending at "Red 12-16")
    settles its size: a lone 5 on a stated 4x4 is an error, not a fifth level."""
    p, i = scales.get("probability"), scales.get("impact")
    if not (p and i and p.kind == i.kind == "ordinal") or p.note or i.note:
        return
    text = f"{register.title_text} {register.book_text}"
    stated = _SCORE_RANGE.search(text)
    size = None
    if stated:
        size = math.isqrt(int(stated.group(1))) if stated.group(1) else int(stated.group(2))
    tops = [b[1] for b in register.bands if b[1] != float("inf")]
    if size is None and tops and max(tops) in (9.0, 16.0, 25.0):
        size = math.isqrt(int(max(tops)))
    if size in (3, 4, 5) and size < p.top:
        p.top = i.top = float(size)


def _read_scores(register: Register) -> None:
    scales = register.scales
    p_scale, i_scale, s_scale = scales.get("probability"), scales.get("impact"), scales.get("score")
    if p_scale and i_scale and p_scale.kind in ("ordinal", "label") and i_scale.kind in ("ordinal", "label"):
        register.score_kind = "product"
    elif p_scale and i_scale and p_scale.kind == "percent" and i_scale.kind == "money":
        register.score_kind = "expected_value"
    for risk in register.risks:
        if p_scale and "probability" in risk.cells:
            risk.probability = p_scale.level(risk.cells["probability"])
        if i_scale and "impact" in risk.cells:
            risk.impact = i_scale.level(risk.cells["impact"])
        if s_scale and "score" in risk.cells:
            cell = risk.cells["score"]
            risk.score = cell.value if cell.kind in ("number", "money") else None
        if risk.probability is not None and risk.impact is not None:
            if register.score_kind == "product":
                risk.computed = risk.probability * risk.impact
            elif register.score_kind == "expected_value":
                risk.computed = risk.probability / 100.0 * risk.impact
    if register.score_kind == "expected_value":
        _fit_band_point(register)


def _band_point(cell: Cell, point: int) -> float | None:
    """The low end, middle or high end (point 0, 1, 2) of a band like "25% to 50%"."""
    if cell.kind != "percent" or "-" not in cell.label:
        return None
    low, high = (float(x) for x in cell.label.split("-"))
    return (low, (low + high) / 2, high)[point]


def _fit_band_point(register: Register) -> None:
    """Probabilities written as bands: the expected value may be worked from the band's middle
    (the usual way) or from either end; take the one the register's own figures follow."""
    banded = [
        r
        for r in register.risks
        if r.score is not None and r.impact is not None and _band_point(r.cells["probability"], 1) is not None
    ]
    if not banded:
        return

    def agrees(point: int) -> int:
        total = 0
        for r in banded:
            value = _band_point(r.cells["probability"], point)
            if value is not None and r.score is not None and r.impact is not None:
                total += abs(value / 100.0 * r.impact - r.score) <= 0.005 * abs(r.impact) + 1.0
        return total

    point = max((1, 0, 2), key=agrees)
    if point != 1:
        register.notes.append(
            f"expected values follow the {('low', '', 'high')[point]} end of each probability band"
        )
    for r in banded:
        value = _band_point(r.cells["probability"], point)
        if value is not None and r.impact is not None:
            r.probability = value
            r.computed = value / 100.0 * r.impact


def _thresholds(register: Register) -> None:
    p_scale = register.scales.get("probability")
    if register.score_kind == "product" and p_scale is not None:
        top = int(p_scale.top)
        register.medium_score = MEDIUM_SCORE.get(top, 0.32 * top * top)
        register.escalation_score = ESCALATION_SCORE.get(top, 0.6 * top * top)
        register.escalation_source = f"the default for a {top}×{top} register"
        if p_scale.values:
            # The same cells of the grid, at what this register's words are worth.
            low, high = _GRID_CELLS.get(top, ((2, 2), (3, 3)))
            register.medium_score = p_scale.worth(low[0]) * p_scale.worth(low[1])
            register.escalation_score = p_scale.worth(high[0]) * p_scale.worth(high[1])
    elif register.score_kind == "expected_value":
        values = sorted(r.computed for r in register.risks if r.computed is not None)
        if values:
            register.medium_score = values[len(values) // 2]
    amber = next((b for b in register.bands if b[2] == "amber"), None)
    if register.score_kind == "expected_value" and amber is not None and amber[0] > 100:
        register.medium_score = amber[0]  # "Medium $50,000 to $249,999": medium starts there
    header = register.columns.header_of("escalated")
    in_header = _HEADER_THRESHOLD.search(header)
    if in_header:
        # "Escalate to Steering (EV >= $50k)": the rule written into the column's own name
        multiple = {"k": 1e3, "m": 1e6}.get((in_header.group(2) or "").lower(), 1.0)
        register.escalation_score = float(in_header.group(1).replace(",", "")) * multiple
        register.escalation_source = f"the rule in the column name '{header}'"
        return
    places = ((register.title_text, "at the top of the register"), (register.book_text, "in the workbook"))
    for text, where in places:
        stated = _STATED_THRESHOLD.search(text)
        if stated:
            register.escalation_score = float(next(g for g in stated.groups() if g).replace(",", ""))
            register.escalation_source = f"the threshold stated {where}"
            return
    red = next((b for b in register.bands if b[2] == "red"), None)
    # Bands above 100 are money ("Red £20,000 and above"), which only an expected value is in.
    in_money = register.score_kind == "expected_value" and red is not None and red[0] > 100
    fits = register.score_kind == "product" or in_money
    if red is not None and fits:
        register.escalation_score = red[0]
        where = "at the top of the register" if stated_bands(register.title_text) else "in the workbook"
        register.escalation_source = f"the red band stated {where}"
        return
    band = _red_band_floor(register)
    if band is not None:
        register.escalation_score = band
        register.escalation_source = "the register's own red band"


def _red_band_floor(register: Register) -> float | None:
    if not register.columns.has("rag"):
        return None
    scores = [
        r.effective_score
        for r in register.risks
        if r.value("rag").lower() in _RED_BANDS and r.effective_score is not None
    ]
    others = sorted(
        r.effective_score
        for r in register.risks
        if r.value("rag").lower() not in _RED_BANDS and r.value("rag") and r.effective_score is not None
    )
    # A red label on a low score is a mislabelled row, not where red starts: ignore reds at or
    # below the middle of the other rows.
    if others:
        scores = [s for s in scores if s > others[len(others) // 2]]
    if len(scores) < 2:
        return None
    floor = min(scores)
    return floor if not math.isnan(floor) else None


def is_done(action_status: str) -> bool:
    return bool(_DONE.match(action_status.strip()))


def says_no(text: str) -> bool:
    return not text.strip() or bool(_NO.match(text.strip()))


def date_of(register: Register, risk: Risk, fld: str) -> dt.date | Literal[False] | None:
    return parse_date(risk.raw.get(fld), register.dates)
