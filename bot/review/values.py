"""Reading the values in a register's cells: ratings on the register's own scale, money, dates.

Scales are inferred from the values present, never assumed: a column of 1-3 is a three-point
scale, H/M/L is three levels, VH..VL five, "20%" a probability, "£250,000" an amount.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

ScaleKind = Literal["ordinal", "label", "percent", "money", "none"]

_PERCENT = re.compile(r"^([-+]?\d+(?:[.,]\d+)?)\s*%$")
# A probability band written as a range: "75% to 100%", "25-50%", "0 – 25 %".
_PERCENT_RANGE = re.compile(r"^(\d+(?:\.\d+)?)\s*%?\s*(?:to|-|–|—)\s*(\d+(?:\.\d+)?)\s*%$", re.IGNORECASE)
_MONEY = re.compile(
    r"^(?P<neg>-)?\s*(?P<pre>£|\$|€|chf|gbp|usd|eur)?\s*(?P<neg2>-)?\s*(?P<num>\d[\d,\s']*(?:\.\d+)?)\s*"
    r"(?P<mult>k|m|bn|million|thousand)?\s*(?P<post>£|\$|€|chf|gbp|usd|eur)?$",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^[-+]?\d+(?:\.\d+)?$")

# Word ratings and the level each means on a three- and a five-level scale.
_LABELS_3 = {"low": 1, "l": 1, "medium": 2, "med": 2, "m": 2, "moderate": 2, "high": 3, "h": 3}
_LABELS_5 = {
    "very low": 1,
    "vl": 1,
    "rare": 1,
    "negligible": 1,
    "insignificant": 1,
    "very unlikely": 1,
    "low": 2,
    "l": 2,
    "unlikely": 2,
    "minor": 2,
    "medium": 3,
    "med": 3,
    "m": 3,
    "moderate": 3,
    "possible": 3,
    "high": 4,
    "h": 4,
    "likely": 4,
    "major": 4,
    "significant": 4,
    "very high": 5,
    "vh": 5,
    "almost certain": 5,
    "certain": 5,
    "severe": 5,
    "catastrophic": 5,
    "critical": 5,
    "extreme": 5,
}
_FIVE_ONLY = set(_LABELS_5) - set(_LABELS_3)
_VL_TO_VH = {"very low", "vl", "low", "l", "medium", "med", "m", "high", "h", "very high", "vh"}


@dataclass(frozen=True)
class Cell:
    """One parsed cell: its kind and value, or why it is not a value."""

    kind: Literal["empty", "number", "percent", "money", "label", "text"]
    value: float = 0.0
    label: str = ""

    @property
    def empty(self) -> bool:
        return self.kind == "empty"


def norm_label(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


def parse_cell(raw: object) -> Cell:
    if isinstance(raw, str):
        return _parse_text_cell(raw)
    if raw is None:
        return Cell("empty")
    if isinstance(raw, bool):
        return Cell("text", label=str(raw))
    if isinstance(raw, int | float):
        return Cell("number", float(raw))
    return _parse_text_cell(str(raw))


@lru_cache(maxsize=4096)
def _parse_text_cell(raw: str) -> Cell:
    # Registers repeat the same few ratings thousands of times; each is read once.
    text = raw.strip()
    if not text or text in ("-", "–", "n/a", "N/A", "na", "NA", "tbc", "TBC", "tbd", "TBD", "?"):
        return Cell("empty")
    if _NUMBER.match(text):
        return Cell("number", float(text))
    match = _PERCENT.match(text)
    if match:
        return Cell("percent", float(match.group(1).replace(",", ".")))
    match = _PERCENT_RANGE.match(text)
    if match:
        low, high = float(match.group(1)), float(match.group(2))
        if 0 <= low < high <= 100:
            return Cell("percent", (low + high) / 2, label=f"{low:g}-{high:g}")
    match = _MONEY.match(text)
    if match and (
        match.group("pre") or match.group("post") or match.group("mult") or "," in match.group("num")
    ):
        number = float(re.sub(r"[,\s']", "", match.group("num")))
        mult = (match.group("mult") or "").lower()
        number *= {"k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9}.get(mult, 1.0)
        if match.group("neg") or match.group("neg2"):
            number = -number
        return Cell("money", number)
    span = _SPAN_WORDS.split(text)
    if len(span) == 2:
        # "$16,000 to $24,000": an amount given as a range, read at its middle, as a range of
        # probabilities is
        first, last = (_parse_text_cell(part) for part in span)
        if first.kind == last.kind == "money" and first.value < last.value:
            return Cell("money", (first.value + last.value) / 2, label=f"{first.value:g}-{last.value:g}")
    label = norm_label(text)
    if label in _LABELS_5 or label in _LABELS_3:
        return Cell("label", label=label)
    return Cell("text", label=text)


_SPAN_WORDS = re.compile(r"\s+(?:to|-|–|—)\s+", re.IGNORECASE)


@dataclass
class Scale:
    """How one column's values are to be read."""

    kind: ScaleKind
    top: float = 0.0  # highest level of an ordinal or label scale; 100 for percentages
    five_labels: bool = False
    note: str = ""
    # What each level is worth in the register's own scores, where it is not 1, 2, 3…: a register
    # scoring Low=2, Medium=3, High=4 has (2, 3, 4).
    values: tuple[float, ...] = ()
    # Words this register does not use for their level: "Severe" once among a column that says
    # "Catastrophic" for the same level everywhere else.
    off_scale: frozenset[str] = frozenset()
    # A register's own words and what each scores ("Remote" 1 ... "Highly likely" 4), fitted to
    # its scores where its words are none of the usual ones.
    own: dict[str, float] = field(default_factory=dict)

    @property
    def peak(self) -> float:
        """The highest value a rating on this scale is worth."""
        return self.worth(self.top)

    def worth(self, level: float) -> float:
        """A level's value in the register's scores."""
        if self.values and level == int(level) and 1 <= level <= len(self.values):
            return self.values[int(level) - 1]
        return level

    def level(self, cell: Cell) -> float | None:
        """The cell's value on this scale, or None when it is not a value of the scale."""
        if self.own:
            return self.own.get(norm_label(cell.label)) if cell.kind in ("label", "text") else None
        if self.kind == "ordinal" and cell.kind == "number":
            return cell.value if 1 <= cell.value <= self.top and cell.value == int(cell.value) else None
        if self.kind == "label" and cell.kind == "label":
            if self.note.endswith("only") and cell.label not in _VL_TO_VH:
                return None  # "Extreme" is no value on a register that states its scale as VL-VH
            if cell.label in self.off_scale:
                return None
            table = _LABELS_5 if self.five_labels else _LABELS_3
            level = table.get(cell.label)
            return self.worth(float(level)) if level is not None else None
        if self.kind == "label" and cell.kind == "number":
            whole = 1 <= cell.value <= self.top and cell.value == int(cell.value)
            return self.worth(cell.value) if whole else None
        if self.kind == "percent":
            if cell.kind == "percent":
                return cell.value if 0 <= cell.value <= 100 else None
            if cell.kind == "number":
                value = cell.value * 100 if self.note.startswith("fractions") else cell.value
                return value if 0 <= value <= 100 else None
        if self.kind == "money" and cell.kind in ("money", "number"):
            return cell.value
        return None

    def describe(self) -> str:
        if self.note == "score":
            return "scores"
        if self.kind == "ordinal":
            return f"a 1–{self.top:g} scale"
        if self.kind == "label":
            words = "Very low–Very high words (5 levels)" if self.five_labels else "High/Medium/Low words"
            if self.values:
                words += " scored " + ", ".join(f"{v:g}" for v in self.values)
            return words
        if self.kind == "percent":
            return "percentages"
        if self.kind == "money":
            return "amounts of money"
        return "no recognisable scale"


# Short forms of one word, which are no second word for its level.
_SAME_WORD = {"l": "low", "m": "medium", "med": "medium", "h": "high", "vl": "very low", "vh": "very high"}


def _off_scale(labels: list[str], table: dict[str, int]) -> frozenset[str]:
    """A word used once or twice for a level that the register otherwise names with another word
    in most of its rows."""
    counts = Counter(_SAME_WORD.get(label, label) for label in labels if label in table)
    off = set()
    for word, count in counts.items():
        rivals = [n for other, n in counts.items() if other != word and table[other] == table[word]]
        if rivals and count <= 2 and max(rivals) >= 3 * count:
            off.add(word)
    return frozenset(off | {short for short, long in _SAME_WORD.items() if long in off})


def infer_scale(cells: list[Cell], unit: str = "") -> Scale:
    values = [c for c in cells if not c.empty]
    if not values:
        return Scale("none")
    kinds = Counter(c.kind for c in values)
    if kinds["percent"] >= len(values) / 2 or (unit == "%" and kinds["number"] >= len(values) / 2):
        return Scale("percent", 100.0)
    if kinds["money"] >= len(values) / 2 or (
        unit.isupper() and unit != "VL-VH" and kinds["number"] >= len(values) / 2
    ):
        return Scale("money")
    if unit == "VL-VH":
        return Scale("label", 5.0, five_labels=True, note="very low to very high only")
    if kinds["label"] >= len(values) / 2:
        labels = [c.label for c in values if c.kind == "label"]
        fives = sum(1 for label in labels if label in _FIVE_ONLY)
        # A lone "Extreme" among High/Medium/Low is an off-scale value, not a five-level scale.
        five = fives >= max(2, len(labels) / 10)
        off = _off_scale(labels, _LABELS_5 if five else _LABELS_3)
        return Scale("label", 5.0 if five else 3.0, five_labels=five, off_scale=off)
    numbers = [c.value for c in values if c.kind == "number"]
    if unit.startswith("1-") and numbers and kinds["number"] >= len(values) / 2:
        return Scale("ordinal", float(unit[2:]), note="stated in the column name")
    if numbers and kinds["number"] >= len(values) / 2:
        if all(0 <= n <= 1 for n in numbers) and any(0 < n < 1 for n in numbers):
            return Scale("percent", 100.0, note="fractions of 1")
        top = max(numbers)
        outliers = max(1, len(numbers) // 20)
        if top <= 3 or (len(numbers) >= 10 and sum(1 for n in numbers if n > 3) <= outliers):
            return Scale("ordinal", 3.0)
        fours = sum(1 for n in numbers if n == 4)
        if top == 4 and len(numbers) >= 20 and fours >= len(numbers) / 10:
            # Plenty of 4s and not a single 5: a four-point scale.
            return Scale("ordinal", 4.0)
        if top <= 5 or sum(1 for n in numbers if n > 5) <= outliers:
            # A value or two past 5 is an error on a five-point scale, not a bigger scale.
            return Scale("ordinal", 5.0)
        if top <= 10 or sum(1 for n in numbers if n > 10) <= outliers:
            return Scale("ordinal", 10.0)
        return Scale("money")
    return Scale("none")


# -- dates ----------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t].*)?$", re.IGNORECASE)
_SLASHED = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})$")
_WORDY_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d %Y", "%B %d %Y", "%d-%b-%Y", "%d-%b-%y", "%b %Y", "%B %Y")
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class DateReading:
    """Which order ambiguous dates like 03/04/2026 are read in, and why."""

    day_first: bool = True
    note: str = ""
    evidence: dict[str, int] = field(default_factory=dict)


def infer_date_order(raw_values: list[object]) -> DateReading:
    day_first = month_first = ambiguous = 0
    for raw in raw_values:
        if not isinstance(raw, str):
            continue
        match = _SLASHED.match(raw.strip())
        if not match:
            continue
        a, b = int(match.group(1)), int(match.group(2))
        if a > 12 >= b:
            day_first += 1
        elif b > 12 >= a:
            month_first += 1
        elif a != b:
            ambiguous += 1
    evidence = {"day_first": day_first, "month_first": month_first, "ambiguous": ambiguous}
    if month_first and not day_first:
        return DateReading(
            False, "dates read as month/day (US), as some could only be read that way", evidence
        )
    if day_first and month_first:
        return DateReading(True, "dates mix day/month and month/day; read as day/month (UK)", evidence)
    if ambiguous and not day_first:
        return DateReading(True, "dates like 03/04 could be either order; read as day/month (UK)", evidence)
    return DateReading(True, "", evidence)


def parse_date(raw: object, reading: DateReading) -> dt.date | Literal[False] | None:
    """A date, None for an empty cell, or False for a cell that is not a date."""
    if raw is None:
        return None
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        if 20000 <= raw <= 80000:  # an Excel serial day number (44869 is 2022-11-04)
            return EXCEL_EPOCH + dt.timedelta(days=int(raw))
        return False
    return _parse_date_text(str(raw), reading.day_first)


@lru_cache(maxsize=8192)
def _parse_date_text(raw: str, day_first: bool) -> dt.date | Literal[False] | None:
    text = raw.strip()
    if not text or text.lower() in ("-", "n/a", "na", "tbc", "tbd", "none", "?"):
        return None
    if _NUMBER.match(text):
        return parse_date(float(text), DateReading(day_first))
    try:
        match = _ISO.match(text)
        if match:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        match = _SLASHED.match(text)
        if match:
            a, b, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
            year += 2000 if year < 100 else 0
            day, month = (a, b) if day_first else (b, a)
            if month > 12:  # the other order is the only possible one
                day, month = month, day
            return dt.date(year, month, day)
    except ValueError:
        return False
    for fmt in _WORDY_FORMATS:
        try:
            return dt.datetime.strptime(text.replace(",", ""), fmt).date()
        except ValueError:
            continue
    return False
