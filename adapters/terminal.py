"""The terminal chat: the same core as Slack and Teams, with buttons as numbers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from adapters.text import render
from bot.core import Bot
from bot.reply import Button
from bot.turn import Turn

PROMPT = "you> "
QUIT_WORDS = {"quit", "exit", ":q", "bye!"}


def _register_path(text: str) -> Path | None:
    candidate = text.removeprefix("review ").strip().strip("'\"")
    if Path(candidate).suffix.lower() in (".csv", ".tsv", ".txt", ".xlsx") and Path(candidate).is_file():
        return Path(candidate)
    return None


def run_chat(bot: Bot, user: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    turn = Turn.local(user, platform="terminal")
    stdout.write(
        "pmo-bot: ask me about PMO work, or type the path of a risk register (CSV or Excel) to review it.\n"
        "Type a number to press a button, 'quit' to leave.\n"
    )
    buttons: tuple[Button, ...] = ()
    while True:
        if interactive:
            stdout.write(PROMPT)
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            break
        path = _register_path(text)
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            reply = bot.handle_action(buttons[int(text) - 1].action, turn)
        elif path is not None:
            # The terminal's way of dropping a file into the chat: type (or paste) its path.
            try:
                reply = bot.handle_file(path.read_bytes(), path.name)
            except OSError as exc:
                stdout.write(f"pmo-bot: cannot read {path}: {exc.strerror}\n\n")
                continue
        else:
            reply = bot.handle_text(text, turn)
        buttons = reply.buttons
        stdout.write(render(reply, numbered_buttons=True) + "\n\n")
        stdout.flush()
