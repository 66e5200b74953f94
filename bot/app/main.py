"""The ``pmo-bot`` entry point, and the one-shot ``ask`` it answers without the full command line.

``pmo-bot ask TEXT [--user ID]`` is the command a user times: it skips the command-line framework
(parsing, help, the other commands' imports), which is a good part of the half second a one-shot
answer may take. Every other command, and any ``ask`` with other arguments, goes to
:mod:`bot.app.cli`.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.core import Bot


def main() -> None:
    quick = plain_ask(sys.argv[1:])
    if quick is None:
        from bot.app.cli import main as full

        full()
        return
    tolerant_output()
    try:
        sys.stdout.write(answer(*quick) + "\n")
    except ConfigError as exc:
        sys.stderr.write(f"pmo-bot: {exc}\n")
        sys.exit(1)


def tolerant_output() -> None:
    """A console in a narrower encoding (cp1252, latin-1) shows "?" for an arrow or a bullet
    rather than failing on it."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


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
        return Path(value) if value.strip() else None
    from bot.settings import read_settings

    return read_settings().pmo_knowledge_dir


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
    from bot.turn import Turn

    bot = make_bot()
    turn = Turn.local(user)
    conversation = f"cli:{user}"  # the key in the state file
    state = _state_file()
    saved = _read_json(state)
    if isinstance(saved, dict):
        bot.conversations.restore(turn.key, saved.get(conversation), bot.now(), bot.kb.has)
    reply = render(bot.handle_text(text, turn))
    exported = bot.conversations.export(turn.key, bot.now())
    if exported is not None:
        _write_json(state, {**_fresh(saved, bot.now(), skip=conversation), conversation: exported})
    return reply


def _state_file() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "pmo-bot" / "ask-context.json"


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _fresh(saved: object, now: float, skip: str) -> dict[str, object]:
    """Other users' turns still young enough to follow on from: the file does not grow for ever."""
    from bot.core import CONVERSATION_TTL_S

    if not isinstance(saved, dict):
        return {}
    return {
        k: v
        for k, v in saved.items()
        if k != skip
        and isinstance(v, dict)
        and isinstance(v.get("at"), int | float)
        and now - v["at"] <= CONVERSATION_TTL_S
    }


def _write_json(path: Path, data: object) -> None:
    # The context is a convenience: a folder that cannot be written only loses the follow-up.
    # (A temporary file of its own, so that two asks at once cannot mix their halves.)
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temporary, path)
        temporary = None
    except OSError:
        pass
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)


if __name__ == "__main__":
    main()
