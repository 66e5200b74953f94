"""Plain-text rendering of a reply, for the CLI and the terminal chat."""

from __future__ import annotations

import textwrap

from bot.reply import Reply

WIDTH = 88


def render(reply: Reply, numbered_buttons: bool = False) -> str:
    lines = [reply.title, "=" * min(len(reply.title), WIDTH)]
    for section in reply.sections:
        if section.heading:
            lines.append("")
            lines.append(section.heading)
        if section.text:
            lines.extend(textwrap.wrap(section.text, WIDTH) or [""])
        for bullet in section.bullets:
            lines.extend(textwrap.wrap(bullet, WIDTH, initial_indent="  • ", subsequent_indent="    "))
    if reply.buttons:
        lines.append("")
        lines.append("Did you mean:" if reply.suggestions else "More:")
        for n, button in enumerate(reply.buttons, start=1):
            lines.append(f"  [{n}] {button.label}" if numbered_buttons else f"  → {button.label}")
    return "\n".join(lines)
