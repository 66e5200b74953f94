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

# The intent that answers a bare entry of each kind (the intent table's ``default_for``, which a
# test keeps equal), and the label of a button that opens it (also the intents' ``slot_label``):
# {name}, {a_name}, {lower} and {a_lower} are the entry's name as in :func:`fill_label`.
KIND_INTENT: dict[Kind, str] = {
    "artefact": "challenge_questions",
    "function": "function_info",
    "role": "role_competencies",
    "topic": "knowledge",
}
ENTRY_LABEL: dict[Kind, str] = {
    "artefact": "Questions for {a_lower}",
    "function": "About {lower}",
    "role": "{name}: the role",
    "topic": "{name}",
}


def lower_first(name: str) -> str:
    """Lower-case a name for use mid-sentence, leaving acronyms ("RAID log") alone."""
    return name if name[:2].isupper() or name[:1].isdigit() else name[:1].lower() + name[1:]


def an(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def button(label: str, intent: str, slots: dict[str, str] | None = None, part: str = "") -> Button:
    return Button(label, Action(intent, dict(slots or {}), part))


def fill_label(template: str, name: str) -> str:
    lower = lower_first(name)
    return template.format(name=name, a_name=an(name), lower=lower, a_lower=an(lower))


def entry_label(kb: KnowledgeBase, kind: Kind, entry_id: str) -> str:
    """The label of a button that opens an entry's own answer."""
    return fill_label(ENTRY_LABEL[kind], kb.name(kind, entry_id))


def entry_button(kb: KnowledgeBase, ref: str) -> Button | None:
    """A button for a "kind:id" reference, or None when the entry is unknown."""
    kind, _, entry_id = ref.partition(":")
    if not kb.has(kind, entry_id):
        return None
    typed: Kind = kind  # type: ignore[assignment]  # (kb.has checked it is one of KINDS)
    return button(entry_label(kb, typed, entry_id), KIND_INTENT[typed], {typed: entry_id})


def becoming_button(kb: KnowledgeBase, role_id: str) -> Button:
    return button(
        f"Becoming {an(kb.name('role', role_id))}", "development_advice", {"role": role_id}, "become"
    )


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
