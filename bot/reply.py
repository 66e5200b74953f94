"""The platform-neutral reply that skills return and adapters render.

A reply is a title, sections of text and bullets, and buttons. A button carries an
:class:`Action`: the intent, slots and the part of the answer to show, so that a click can go
straight back to the core without being routed again. Questions and a form carry survey
answers; images, scorecards and tables carry digest charts, digest scores and review
findings; renderers skip what they cannot show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Action:
    intent: str
    slots: dict[str, str] = field(default_factory=dict)
    part: str = ""  # which part of a long answer to show ("" = the first screen)

    def encode(self) -> str:
        """A compact string for a button's value (Slack allows 2,000 characters)."""
        return json.dumps({"i": self.intent, "s": self.slots, "p": self.part}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> Action | None:
        """The action a button value names, or None when the value is not one of ours."""
        try:
            data = json.loads(value)
        except (ValueError, TypeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("i"), str):
            return None
        slots = data.get("s") or {}
        part = data.get("p") or ""
        if not isinstance(slots, dict) or not isinstance(part, str):
            return None
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in slots.items()):
            return None
        return cls(data["i"], dict(slots), part)


@dataclass(frozen=True)
class Button:
    label: str
    action: Action


@dataclass(frozen=True)
class Section:
    heading: str = ""
    text: str = ""
    bullets: tuple[str, ...] = ()

    def line_count(self) -> int:
        return int(bool(self.heading)) + int(bool(self.text)) + len(self.bullets)


@dataclass(frozen=True)
class Image:
    url: str
    alt: str


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class ScoreRow:
    """One rated item of a :class:`Scorecard`: its name, then its figures as short strings.

    ``score`` and ``change`` are empty where no score is shown (withheld): renderers then leave
    their place out rather than show it empty. ``details`` are short phrases ("trend ▂▄▆",
    "12 rated", "2 didn't use"), shown on a line of their own, in order.
    """

    name: str
    score: str = ""
    change: str = ""  # "▲0.4", "▼0.2", "=0.0", or "" when there is nothing to compare with
    details: tuple[str, ...] = ()

    @property
    def direction(self) -> str:
        """ "up", "down" or "" (no change, or none known): for colour, never the only signal."""
        return "up" if self.change.startswith("▲") else "down" if self.change.startswith("▼") else ""


@dataclass(frozen=True)
class Scorecard:
    """Scores of several items (a digest's services), one entry an item, for narrow screens.

    Unlike a :class:`Table` it has no columns to keep side by side: each item is its name (which
    wraps) with its score and change beside it, and its details under it, so that nothing has to
    break mid-word on a phone or in a 446 px Teams card.
    """

    heading: str
    rows: tuple[ScoreRow, ...]
    note: str = ""  # one line under the heading: what the figures mean


@dataclass(frozen=True)
class Choice:
    label: str
    value: str


@dataclass(frozen=True)
class Question:
    """A question answered by picking one choice (a survey rating).

    Where a platform records each pick at once (Slack buttons), a pick sends ``pick`` with the
    slots ``q`` (this question's key) and ``v`` (the choice's value) added: see :meth:`pick_action`.
    Where a platform submits a whole card (Teams), the choice arrives under :attr:`input_id` in the
    slots of the form's submit action.
    """

    key: str
    text: str
    choices: tuple[Choice, ...]
    pick: Action
    selected: str | None = None

    @property
    def input_id(self) -> str:
        return f"q:{self.key}"

    def pick_action(self, choice: Choice) -> Action:
        return Action(self.pick.intent, {**self.pick.slots, "q": self.key, "v": choice.value}, self.pick.part)


InputKind = Literal["text", "line", "people", "channel", "number"]


@dataclass(frozen=True)
class TextInput:
    """Text typed in a form. ``kind`` lets a platform offer a better control where it has one
    (Slack: a people picker for "people", a channel picker for "channel", a number box for
    "number"); the value arrives as text either way, people as ids separated by commas."""

    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    max_length: int = 1000
    kind: InputKind = "text"
    optional: bool = True
    hint: str = ""
    decimals: bool = False  # a "number" that may have a fraction (hours)


def number_of(text: str) -> int | float | None:
    """A number input's text as a number (whole where it is whole), or None when it is none."""
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return int(value) if value.is_integer() else value


def number_text(value: float) -> str:
    """A number as a number input shows it: "72", not "72.0"."""
    return str(int(value)) if float(value).is_integer() else str(value)


@dataclass(frozen=True)
class Pick:
    """One or several of given choices, in a form; the values arrive joined by commas."""

    key: str
    label: str
    choices: tuple[Choice, ...]
    selected: tuple[str, ...] = ()
    multiple: bool = False
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """Inputs answered together. ``submit`` is sent with every question's choice (by
    ``Question.input_id``) and every input's text (by ``TextInput.key``) added to its slots.

    Teams shows the inputs in the card with a submit button. Slack records question picks one by
    one, and shows the text inputs in a modal opened by a button (``open_label``) that sends
    ``open``: the adapter opens the modal from the reply that action returns.
    """

    title: str
    submit_label: str
    submit: Action
    inputs: tuple[TextInput | Pick, ...] = ()
    open_label: str = ""
    open: Action | None = None
    # A form on its own rather than part of a message (team set-up): Slack opens it as a modal
    # straight from the command. ``errors`` (input key, reason) come back with a refused submit.
    standalone: bool = False
    note: str = ""
    errors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reply:
    title: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    # True when the buttons are "did you mean" guesses rather than follow-ups.
    suggestions: bool = False
    images: tuple[Image, ...] = ()
    tables: tuple[Table, ...] = ()
    intent: str = ""
    slots: dict[str, str] = field(default_factory=dict)
    questions: tuple[Question, ...] = ()
    form: Form | None = None
    # True when the reply answers a click by replacing the message clicked (a survey showing what
    # was recorded); otherwise replies are new messages.
    replace: bool = False
    # Shown after the first ``scores_after`` sections (None: after them all), before any table.
    scorecards: tuple[Scorecard, ...] = ()
    scores_after: int | None = None

    def body(self) -> tuple[Section | Scorecard, ...]:
        """The sections with the scorecards among them, in the order they are shown."""
        cut = len(self.sections) if self.scores_after is None else self.scores_after
        return (*self.sections[:cut], *self.scorecards, *self.sections[cut:])

    def line_count(self) -> int:
        return 1 + sum(s.line_count() for s in self.sections)
