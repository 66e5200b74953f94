"""What a PMO function covers: its definition, services, who does it and its artefacts."""

from __future__ import annotations

from bot.reply import Action, Button, Reply, Section
from bot.skills.common import an, button, entry_label, lower_first, missing
from knowledge.base import KnowledgeBase


def function_info(kb: KnowledgeBase, action: Action) -> Reply:
    func = kb.functions.get(action.slots.get("function", ""))
    if func is None:
        return missing("function", kb, "function_info")
    slots = {"function": func.id}
    role_names = ", ".join(kb.name("role", r) for r in func.roles)
    art_names = ", ".join(kb.name("artefact", a) for a in func.artefacts) or "none in particular"
    buttons: list[Button] = []
    if action.part == "services":
        sections: tuple[Section, ...] = (Section("All its services", bullets=tuple(func.services)),)
    else:
        shown = func.services[:4]
        sections = (
            Section(text=func.definition),
            Section("Services", bullets=tuple(shown)),
            Section(text=f"Usually done by: {role_names}."),
            Section(text=f"Artefacts: {art_names}."),
        )
        if len(func.services) > len(shown):
            buttons.append(button(f"All {len(func.services)} services", "function_info", slots, "services"))
    if func.primary_artefact:
        name = kb.name("artefact", func.primary_artefact)
        buttons.append(
            button(
                f"Check {an(lower_first(name))}", "challenge_questions", {"artefact": func.primary_artefact}
            )
        )
    buttons += [button(entry_label(kb, "role", r), "role_competencies", {"role": r}) for r in func.roles[:3]]
    scarce = _scarce_note(kb, func.id)
    if scarce and action.part != "services":
        sections = (*sections, Section(text=scarce))
    return Reply(func.name, sections, tuple(buttons), intent="function_info", slots=slots)


def _scarce_note(kb: KnowledgeBase, function_id: str) -> str:
    if kb.facts is None:
        return ""
    for skill in kb.facts.scarce_skills:
        if skill.function == function_id:
            share = round(skill.share_of_practitioners * 100)
            return f"Only about {share}% of PMO practitioners do this: it sets you apart."
    return ""
