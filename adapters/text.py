"""Plain-text rendering of a reply, for the CLI and the terminal chat."""

from __future__ import annotations

import textwrap

from bot.reply import Reply, Scorecard, Section

WIDTH = 88
NBSP = "\u00a0"


def _section(section: Section) -> list[str]:
    lines = []
    if section.heading:
        lines.append("")
        lines.append(section.heading)
    if section.text:
        lines.extend(textwrap.wrap(section.text, WIDTH) or [""])
    for bullet in section.bullets:
        lines.extend(textwrap.wrap(bullet, WIDTH, initial_indent="  • ", subsequent_indent="    "))
    return lines


def render(reply: Reply, numbered_buttons: bool = False) -> str:
    lines = [reply.title, "=" * min(len(reply.title), WIDTH)]
    for part in reply.body():
        lines.extend(_section(part) if isinstance(part, Section) else _scorecard(part))
    if reply.buttons:
        lines.append("")
        lines.append("Did you mean:" if reply.suggestions else "More:")
        for n, button in enumerate(reply.buttons, start=1):
            lines.append(f"  [{n}] {button.label}" if numbered_buttons else f"  → {button.label}")
    return "\n".join(lines)


def _scorecard(scorecard: Scorecard) -> list[str]:
    """One item a service: its name with its score and change, then its details on the lines
    under it, wrapped between details and never inside one."""
    lines = [""]
    if scorecard.heading:
        lines.append(scorecard.heading)
    if scorecard.note:
        lines.extend(textwrap.wrap(scorecard.note, WIDTH))
    for row in scorecard.rows:
        figures = " ".join(part for part in (row.score, row.change) if part)
        head = f"{row.name}  {figures}" if figures else row.name
        lines.extend(textwrap.wrap(head, WIDTH, initial_indent="  • ", subsequent_indent="    "))
        if row.details:
            # No-break spaces keep each detail whole while wrapping; they are plain spaces again after.
            details = " · ".join(detail.replace(" ", NBSP) for detail in row.details)
            wrapped = textwrap.wrap(details, WIDTH, initial_indent="    ", subsequent_indent="    ")
            lines.extend(line.replace(NBSP, " ") for line in wrapped)
    return lines
