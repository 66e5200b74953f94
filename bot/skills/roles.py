"""A role's profile: what it does day to day and its competencies on the five APM levels."""

from __future__ import annotations

from bot.reply import Action, Button, Reply, Section
from bot.skills.common import FIRST_SCREEN_LINES, becoming_button, button, first_sentence, lines_of, missing
from knowledge.base import KnowledgeBase
from knowledge.models import LEVELS, Role

LEVEL_TITLE = {level: level.capitalize() for level in LEVELS}
# The first screen names the competencies of the three highest levels a role has; the rest, and
# what each one means, are a button away.
LEVELS_ON_FIRST_SCREEN = 3
DAY_TO_DAY_ON_FIRST_SCREEN = 4


def role_competencies(kb: KnowledgeBase, action: Action) -> Reply:
    role = kb.roles.get(action.slots.get("role", ""))
    if role is None:
        return missing("role", kb, "role_competencies")
    slots = {"role": role.id}
    if action.part == "details":
        return Reply(
            f"{role.name}: each competency",
            _details(kb, role),
            _role_buttons(kb, role, "details"),
            intent="role_competencies",
            slots=slots,
        )
    levels = [level for level in reversed(LEVELS) if any(c.level == level for c in role.competencies)]
    bullets = []
    for level in levels[:LEVELS_ON_FIRST_SCREEN]:
        names = [kb.name("function", c.function).lower() for c in role.competencies if c.level == level]
        bullets.append(f"{LEVEL_TITLE[level]}: " + ", ".join(names) + ".")
    profile = first_sentence(role.profile)
    # At least one task of the week; then the levels, then more tasks, while the screen has room
    # (a title and its rule, and a heading and a blank line before each list: six lines of frame).
    tasks = list(role.day_to_day[:1])
    room = FIRST_SCREEN_LINES + 3 - 6 - lines_of(profile) - sum(lines_of(t) for t in tasks)
    while bullets and sum(lines_of(b) for b in bullets) > room:
        bullets.pop()
    room -= sum(lines_of(b) for b in bullets)
    for task in role.day_to_day[1:DAY_TO_DAY_ON_FIRST_SCREEN]:
        room -= lines_of(task)
        if room < 0:
            break
        tasks.append(task)
    sections = [Section(text=profile)]
    if tasks:
        sections.append(Section("Day to day", bullets=tuple(tasks)))
    sections.append(Section("Competencies (APM levels)", bullets=tuple(bullets)))
    return Reply(
        f"{role.name}: what the role does",
        tuple(sections),
        _role_buttons(kb, role, ""),
        intent="role_competencies",
        slots=slots,
    )


def _details(kb: KnowledgeBase, role: Role) -> tuple[Section, ...]:
    details = tuple(
        Section(
            LEVEL_TITLE[level],
            bullets=tuple(
                f"{kb.name('function', c.function)}: {c.note}" for c in role.competencies if c.level == level
            ),
        )
        for level in reversed(LEVELS)
        if any(c.level == level for c in role.competencies)
    )
    if role.behaviours:
        details = (*details, Section("Behaviours", bullets=tuple(role.behaviours)))
    return details


def _role_buttons(kb: KnowledgeBase, role: Role, skip: str) -> tuple[Button, ...]:
    slots = {"role": role.id}
    buttons = []
    if skip != "details":
        buttons.append(button("Every competency and level", "role_competencies", slots, "details"))
    buttons.append(button("Where to develop next", "development_advice", slots))
    buttons += [becoming_button(kb, nxt) for nxt in role.development.next_roles[:2]]
    return tuple(buttons)
