"""The ``pmo-bot`` entry point, and the one-shot ``ask`` it answers without the full command line.

``pmo-bot ask TEXT [--user ID]`` is the command a user times: it skips the command-line framework
(parsing, help, the other commands' imports), which is a good part of the half second a one-shot
answer may take. Every other command, and any ``ask`` with other arguments, goes to
:mod:`bot.cli`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.core import Bot


def main() -> None:
    quick = plain_ask(sys.argv[1:])
    if quick is None:
        from bot.cli import main as full

        full()
        return
    try:
        sys.stdout.write(answer(*quick) + "\n")
    except ConfigError as exc:
        sys.stderr.write(f"pmo-bot: {exc}\n")
        sys.exit(1)


def plain_ask(argv: list[str]) -> tuple[str, str] | None:
    """(text, user) for exactly ``ask TEXT`` or ``ask TEXT --user ID``; anything else is None."""
    if len(argv) not in (2, 4) or argv[0] != "ask" or argv[1].startswith("-"):
        return None
    if len(argv) == 4:
        if argv[2] != "--user" or argv[3].startswith("-"):
            return None
        return argv[1], argv[3]
    return argv[1], "cli"


def knowledge_dir() -> Path | None:
    """PMO_KNOWLEDGE_DIR from the environment or .env; ConfigError in one line if unusable."""
    if not Path(".env").exists():
        # Nothing to parse: the environment alone says it, without loading pydantic-settings
        # (a tenth of a second of the answer's half second).
        # (Names are not case-sensitive there either.)
        value = next((v for k, v in os.environ.items() if k.upper() == "PMO_KNOWLEDGE_DIR"), "")
        return Path(value) if value else None
    from pydantic import ValidationError

    from bot.settings import Settings

    try:
        return Settings().pmo_knowledge_dir
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"bad setting {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # A .env file that is not UTF-8 text, or cannot be read.
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise ConfigError(f"cannot read the settings (.env or environment): {detail}") from None


def make_bot() -> Bot:
    """The bot over the knowledge base the settings name; ConfigError if that cannot be loaded."""
    from bot.core import Bot
    from knowledge.base import KnowledgeBaseError

    try:
        return Bot.from_settings(knowledge_dir())
    except KnowledgeBaseError as exc:
        raise ConfigError(str(exc)) from None


def answer(text: str, user: str) -> str:
    """One turn as plain text. A follow-up ("and for a manager?") within 30 minutes follows on
    from the same user's previous ``ask``: each user's last turn is kept in the state folder."""
    from adapters.text import render

    bot = make_bot()
    conversation = f"cli:{user}"
    state = _state_file()
    saved = _read_json(state)
    if isinstance(saved, dict):
        bot.conversations.restore(conversation, saved.get(conversation), bot.now())
    reply = render(bot.handle_text(text, conversation=conversation))
    exported = bot.conversations.export(conversation, bot.now())
    if exported is not None:
        kept = {k: v for k, v in saved.items() if k != conversation} if isinstance(saved, dict) else {}
        _write_json(state, {**kept, conversation: exported})
    return reply


def _state_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "pmo-bot" / "ask-context.json"


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _write_json(path: Path, data: object) -> None:
    # The context is a convenience: a folder that cannot be written only loses the follow-up.
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data), encoding="utf-8")
        temporary.replace(path)
    except OSError:
        pass


if __name__ == "__main__":
    main()
