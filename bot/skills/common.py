"""What every skill shares: screen limits, buttons, and naming entries in a sentence."""

from __future__ import annotations

from collections.abc import Callable

from bot.reply import Action, Button, Reply, Section
from knowledge.base import Kind, KnowledgeBase

FIRST_SCREEN_LINES = 15
MAX_BUTTONS = 5
# Characters of a line as the narrowest renderer (the CLI, 88 columns) wraps it, a little under.
LINE_CHARS = 80
Skill = Callable[[KnowledgeBase, Action], Reply]

KIND_INTENT: dict[Kind, str] = {
    "artefact": "challenge_questions",
    "function": "function_info",
    "role": "role_competencies",
    "topic": "knowledge",
}


_KINDS: dict[str, Kind] = {k: k for k in KIND_INTENT}


def lower_first(name: str) -> str:
    """Lower-case a name for use mid-sentence, leaving acronyms ("RAID log") alone."""
    return name if name[:2].isupper() or name[:1].isdigit() else name[:1].lower() + name[1:]


def an(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def button(label: str, intent: str, slots: dict[str, str] | None = None, part: str = "") -> Button:
    return Button(label, Action(intent, dict(slots or {}), part))


def entry_label(kb: KnowledgeBase, kind: Kind, entry_id: str) -> str:
    """The label of a button that opens an entry's own answer."""
    name = kb.name(kind, entry_id)
    if kind == "artefact":
        return f"Questions for {an(lower_first(name))}"
    if kind == "function":
        return f"About {lower_first(name)}"
    if kind == "role":
        return f"{name}: the role"
    return name


def entry_button(kb: KnowledgeBase, ref: str) -> Button | None:
    """A button for a "kind:id" reference, or None when the entry is unknown."""
    kind, _, entry_id = ref.partition(":")
    typed = _KINDS.get(kind)
    if typed is None or entry_id not in kb.entries(typed):
        return None
    return button(entry_label(kb, typed, entry_id), KIND_INTENT[typed], {typed: entry_id})


def lines_of(text: str) -> int:
    """Roughly how many lines a paragraph takes once wrapped."""
    return max(1, -(-len(text) // LINE_CHARS))


def first_sentence(text: str) -> str:
    return text.split(". ")[0].rstrip(".") + "."


def missing(kind: Kind, kb: KnowledgeBase, intent: str) -> Reply:
    """An answer for an action whose slot is absent or unknown: offer the choices."""
    entries = kb.entries(kind)
    popular = {
        "artefact": ["risk_register", "issue_log", "raid_log", "status_report", "schedule"],
        "role": ["pmo_coordinator", "pmo_analyst", "pmo_manager", "project_support_officer", "pmo_director"],
        "function": ["governance", "reporting", "risk_management", "resource_management", "planning"],
        "topic": ["risk_vs_issue", "residual_risk", "raci", "critical_path", "p3m3"],
    }[kind]
    buttons = tuple(button(entries[i].name, intent, {kind: i}) for i in popular if i in entries)
    if kind == "topic":
        text = f"I know {len(entries)} PMO topics: ask me about one in your own words."
    else:
        text = "I know about these: " + ", ".join(sorted(e.name for e in entries.values())) + "."
    return Reply(f"Which {kind}?", (Section(text=text),), buttons, suggestions=True, intent=intent)
