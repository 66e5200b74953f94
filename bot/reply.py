"""The platform-neutral reply that skills return and adapters render.

A reply is a title, sections of text and bullets, and buttons. A button carries an
:class:`Action`: the intent, slots and the part of the answer to show, so that a click can go
straight back to the core without being routed again. Questions and a form carry survey
answers; images and tables carry digest charts and review findings; renderers skip what they
cannot show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field


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


@dataclass(frozen=True)
class TextInput:
    key: str
    label: str
    value: str = ""
    placeholder: str = ""
    max_length: int = 1000


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
    inputs: tuple[TextInput, ...] = ()
    open_label: str = ""
    open: Action | None = None


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

    def line_count(self) -> int:
        return 1 + sum(s.line_count() for s in self.sections)
