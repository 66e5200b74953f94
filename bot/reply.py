"""The platform-neutral reply that skills return and adapters render.

A reply is a title, sections of text and bullets, and buttons. A button carries an
:class:`Action`: the intent, slots and the part of the answer to show, so that a click can go
straight back to the core without being routed again. Images, choices and tables have room here
for later features (digest charts, survey answers, review findings); renderers skip what they
cannot show.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


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

    def line_count(self) -> int:
        return 1 + sum(s.line_count() for s in self.sections)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
