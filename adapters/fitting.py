"""Fitting text to a platform's limits: on one line, cut short with an ellipsis, or split in parts.

Slack's Block Kit and Teams' Adaptive Cards both cap each piece of text, and the same rules decide
where to cut it. What differs is passed in: how much of a text fits (Slack counts characters, Teams
the bytes of its JSON) and what a cut must not split (an escaped entity in Slack's mrkdwn, a
neutralised character and the zero-width space after it in a TextBlock).
"""

from __future__ import annotations

from collections.abc import Callable

ELLIPSIS = "…"
# Coarsest first: a paragraph break is the least surprising place for text to continue.
_SEPARATORS = ("\n\n", "\n", " ")

# Where to cut ``text`` at or before a position, so as not to split what must stay whole.
Cut = Callable[[str, int], int]
# How many leading characters of ``text`` fit in one part.
Fit = Callable[[str], int]


def anywhere(text: str, at: int) -> int:
    """A cut for text with nothing that must stay whole."""
    return at


def one_line(text: str) -> str:
    """The text with every run of whitespace, line breaks included, as one space."""
    return " ".join(text.split())


def truncate(text: str, limit: int, cut: Cut = anywhere) -> str:
    """The text, or as much of it as fits in ``limit`` characters with an ellipsis at the end."""
    if len(text) <= limit:
        return text
    return text[: cut(text, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def split(text: str, fit: Fit, cut: Cut = anywhere) -> list[str]:
    """The text in parts that each fit, cut at the coarsest boundary that does.

    The separator at a cut is dropped (each part stands on its own); a word too long for a part is
    cut mid-word, where ``cut`` allows. Blank parts are left out: both platforms refuse or show
    nothing but a gap for them.
    """
    parts: list[str] = []
    rest = text
    while (room := fit(rest)) < len(rest):
        at, skip = _cut_point(rest, max(room, 1), cut)
        parts.append(rest[:at])
        rest = rest[at + skip :].lstrip("\n")
    parts.append(rest)
    return [part for part in parts if part.strip()]


def _cut_point(text: str, limit: int, cut: Cut) -> tuple[int, int]:
    """Where to cut ``text`` within ``limit``, and how many characters of separator to drop there."""
    # A boundary in the first half would leave a stub, so a finer boundary later wins over it.
    for floor in (limit // 2, 1):
        for separator in _SEPARATORS:
            at = text.rfind(separator, 0, limit + len(separator))
            if at >= floor:
                return at, len(separator)
    return cut(text, limit), 0
