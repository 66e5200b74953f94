"""The terminal chat: the same core as Slack and Teams, with buttons as numbers."""

from __future__ import annotations

import sys
from typing import TextIO

from adapters.text import render
from bot.core import Bot
from bot.reply import Button

PROMPT = "you> "
QUIT_WORDS = {"quit", "exit", ":q", "bye!"}


def run_chat(bot: Bot, user: str, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    interactive = stdin.isatty()
    conversation = f"terminal:{user}"
    stdout.write("pmo-bot: ask me about PMO work. Type a number to press a button, 'quit' to leave.\n")
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
        if text.isdigit() and 1 <= int(text) <= len(buttons):
            reply = bot.handle_action(buttons[int(text) - 1].action, conversation)
        else:
            reply = bot.handle_text(text, conversation)
        buttons = reply.buttons
        stdout.write(render(reply, numbered_buttons=True) + "\n\n")
        stdout.flush()
