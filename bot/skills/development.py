"""Where to develop next: general advice, advice for someone in a role, and how to become one."""

from __future__ import annotations

from bot.reply import Action, Button, Reply, Section
from bot.skills.common import an, becoming_button, button, entry_label, first_sentence, lower_first
from knowledge.base import KnowledgeBase
from knowledge.models import LEVELS, Role

ADVICE_FOR = ("pmo_coordinator", "pmo_analyst", "pmo_manager", "project_support_officer")


def development_advice(kb: KnowledgeBase, action: Action) -> Reply:
    role = kb.roles.get(action.slots.get("role", ""))
    if role is not None:
        if action.part.startswith("become"):
            # "become:pmo_analyst": the role they come from, where the message named one.
            return _become(kb, role, kb.roles.get(action.part.partition(":")[2]))
        return _role_development(kb, role)
    facts = kb.facts
    assert facts is not None  # the loader refuses a knowledge base without facts
    if action.part == "growth":
        back = (button("Where to develop next", "development_advice"),)
        return Reply("How PMOs grow", (Section(text=facts.growth_rule),), back, intent="development_advice")
    managers = [a for a in facts.core_competencies if a.for_managers]
    sections = [Section("Start with the core", text=_core_sentence(kb))]
    if managers:
        names = ", ".join(kb.name("function", a.function) for a in managers)
        sections.append(Section("If you run a PMO", text=f"Add {names}. {managers[0].why}"))
    for skill in facts.scarce_skills:
        # The fact's own wording carries the figure; the heading says why it matters.
        first = skill.why.split("; ")[0].split(". ")[0].rstrip(".") + "."
        sections.append(Section(f"Then stand out: {kb.name('function', skill.function)}", text=first))
    buttons = (
        *(
            button(f"Advice for {an(kb.name('role', r))}", "development_advice", {"role": r})
            for r in ADVICE_FOR
            if r in kb.roles
        ),
        button("How PMOs grow their services", "development_advice", {}, "growth"),
    )
    return Reply("Where to develop next", tuple(sections), buttons, intent="development_advice")


def _core_sentence(kb: KnowledgeBase) -> str:
    assert kb.facts is not None
    core = [kb.name("function", a.function) for a in kb.facts.core_competencies if not a.for_managers]
    return ", ".join(core) + ". Nearly every PMO relies on these, so they pay off whatever your role."


def _role_development(kb: KnowledgeBase, role: Role) -> Reply:
    """Advice for someone in this role: next steps, the gaps to the next role, what sets you apart."""
    assert kb.facts is not None
    slots = {"role": role.id}
    starter = role.id in kb.facts.starter_roles
    # A starter's advice also names the core, so it keeps to two steps to fit a phone screen.
    sections = [Section("Next steps", bullets=tuple(role.development.steps[: 2 if starter else 3]))]
    if starter:
        sections.append(Section("Build the core first", text=_core_sentence(kb)))
    nxt = kb.roles.get(role.development.next_roles[0]) if role.development.next_roles else None
    if nxt is not None:
        gaps = _gaps(kb, role, nxt)
        if gaps:
            sections.append(Section(f"To grow towards {nxt.name}, practise", text="; ".join(gaps[:3]) + "."))
    elif role.development.beyond:
        sections.append(Section(text="Beyond this role: " + ", ".join(role.development.beyond) + "."))
    scarce = "" if starter else _scarce_gap(kb, role)
    if scarce:
        sections.append(Section(text=scarce))
    sections += _credentials(role)
    buttons = [button(entry_label(kb, "role", role.id), "role_competencies", slots)]
    buttons += [becoming_button(kb, r) for r in role.development.next_roles[:2]]
    buttons.append(button("General advice", "development_advice"))
    return Reply(
        f"{role.name}: where to develop next",
        tuple(sections),
        tuple(buttons),
        intent="development_advice",
        slots=slots,
    )


def _become(kb: KnowledgeBase, target: Role, source: Role | None) -> Reply:
    """Advice for someone who wants to become ``target``: what it expects, and the gap from
    ``source`` (or from the role people usually come from)."""
    slots = {"role": target.id}
    top = next(level for level in reversed(LEVELS) if any(c.level == level for c in target.competencies))
    strongest = [lower_first(kb.name("function", c.function)) for c in target.competencies if c.level == top]
    sections = [
        Section(text=first_sentence(target.profile)),
        Section(f"It expects {top} level in", text=", ".join(strongest) + "."),
    ]
    if source is None:
        source = next((kb.roles[r] for r in target.development.coming_from if r in kb.roles), None)
    if source is not None and source.id != target.id:
        gaps = _gaps(kb, source, target)
        heading = f"Coming from {source.name}, practise"
        sections.append(
            Section(heading, text="; ".join(gaps[:4]) + "." if gaps else "Little: the levels match.")
        )
    sections += _credentials(target)
    buttons: list[Button] = [button(entry_label(kb, "role", target.id), "role_competencies", slots)]
    if source is not None and source.id != target.id:
        buttons.append(button(f"Advice for {an(source.name)}", "development_advice", {"role": source.id}))
    buttons.append(button("General advice", "development_advice"))
    return Reply(
        f"Becoming {an(target.name)}",
        tuple(sections),
        tuple(buttons),
        intent="development_advice",
        slots=slots,
    )


def _credentials(role: Role) -> list[Section]:
    names = role.development.credentials
    return [Section(text="Credentials people often take: " + ", ".join(names) + ".")] if names else []


def _scarce_gap(kb: KnowledgeBase, role: Role) -> str:
    if kb.facts is None:
        return ""
    mine = {c.function: c.level for c in role.competencies}
    for skill in kb.facts.scarce_skills:
        if mine.get(skill.function) not in ("proficient", "expert"):
            share = round(skill.share_of_practitioners * 100)
            return (
                f"Stand out with {lower_first(kb.name('function', skill.function))}: only about {share}% "
                "of PMO practitioners do it."
            )
    return ""


def _gaps(kb: KnowledgeBase, role: Role, target: Role) -> list[str]:
    """Functions where ``target`` expects a higher level than ``role``, the widest gaps first."""
    mine = {c.function: LEVELS.index(c.level) for c in role.competencies}
    gaps = []
    for position, comp in enumerate(target.competencies):
        have = mine.get(comp.function, -1)
        want = LEVELS.index(comp.level)
        if want > have:
            gaps.append((have - want, position, lower_first(kb.name("function", comp.function)), comp.level))
    gaps.sort()
    return [f"{name} (to {level})" for _, _, name, level in gaps]
