"""Skills: one function per intent, from an action (intent, slots, part) to a reply.

A first answer fits a phone screen (about 15 lines); the rest of a long answer is reached
through buttons whose action names the part to show.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.reply import Action, Button, Reply, Section
from bot.text import tokens
from knowledge.base import Kind, KnowledgeBase
from knowledge.models import LEVELS, Artefact, Role

FIRST_SCREEN_LINES = 15
MAX_BUTTONS = 5
Skill = Callable[[KnowledgeBase, Action], Reply]

_LEVEL_TITLE = {"expert": "Expert", "practitioner": "Practitioner", "aware": "Aware"}
_DEFAULT_ACTION = {
    "artefact": "challenge_questions",
    "function": "function_info",
    "role": "role_competencies",
}


def _theme_title(theme: str) -> str:
    return theme.replace("_", " ").capitalize()


def _lower_first(name: str) -> str:
    """Lower-case a name for use mid-sentence, leaving acronyms ("RAID log") alone."""
    return name if name[:2].isupper() else name[:1].lower() + name[1:]


def _an(name: str) -> str:
    return ("an " if name[:1].lower() in "aeiou" else "a ") + name


def _button(label: str, intent: str, slots: dict[str, str] | None = None, part: str = "") -> Button:
    return Button(label, Action(intent, dict(slots or {}), part))


def _missing(kind: Kind, kb: KnowledgeBase, intent: str) -> Reply:
    """An answer for an action whose slot is absent or unknown: offer the choices."""
    entries = kb.entries(kind)
    popular = {
        "artefact": ["risk_register", "issue_log", "raid_log", "status_report", "schedule"],
        "role": ["pmo_coordinator", "pmo_analyst", "pmo_manager", "project_support_officer", "pmo_director"],
        "function": ["governance", "reporting", "risk_management", "resource_management", "planning"],
    }[kind]
    buttons = tuple(_button(entries[i].name, intent, {kind: i}) for i in popular if i in entries)
    names = ", ".join(sorted(e.name for e in entries.values()))
    return Reply(
        f"Which {kind}?",
        (Section(text=f"I know about these: {names}."),),
        buttons,
        suggestions=True,
        intent=intent,
    )


# -- challenge questions ------------------------------------------------------------------


def challenge_questions(kb: KnowledgeBase, action: Action) -> Reply:
    art = kb.artefacts.get(action.slots.get("artefact", ""))
    if art is None:
        return _missing("artefact", kb, "challenge_questions")
    slots = {"artefact": art.id}
    part = action.part
    if part.startswith("theme:"):
        return _theme_part(art, part.removeprefix("theme:"), slots)
    if part == "themes":
        return _themes_part(art, slots)
    if part == "good":
        return Reply(
            f"{art.name}: what good looks like",
            (Section(text=art.purpose), Section("What good looks like", bullets=tuple(art.good_looks_like))),
            _artefact_buttons(art, here=part),
            intent="challenge_questions",
            slots=slots,
        )
    if part == "defects":
        return Reply(
            f"{art.name}: common defects",
            (Section(bullets=tuple(art.defects)),),
            _artefact_buttons(art, here=part),
            intent="challenge_questions",
            slots=slots,
        )
    if part == "fields":
        bullets = tuple(
            f"{f.name}{'' if f.required else ' (optional)'}{': ' + f.note if f.note else ''}"
            for f in art.fields
        )
        return Reply(
            f"{art.name}: the columns to expect",
            (Section(bullets=bullets),),
            _artefact_buttons(art, here=part),
            intent="challenge_questions",
            slots=slots,
        )
    if part == "manager":
        sections = tuple(
            Section(_theme_title(g.theme), bullets=tuple(g.questions)) for g in art.manager_questions
        )
        return Reply(
            f"{art.name}: questions for the PMO manager",
            (
                Section(text="About the process, appetite and culture behind the register, not one project."),
                *sections,
            ),
            _artefact_buttons(art, here=part),
            intent="challenge_questions",
            slots=slots,
        )
    return _questions_first_screen(art, slots)


def _questions_first_screen(art: Artefact, slots: dict[str, str]) -> Reply:
    # One general question per theme fits a phone screen; the rest are a button away.
    bullets = tuple(f"{_theme_title(g.theme)}: {_lead_question(g.questions)}" for g in art.questions)
    sections = [Section(text="Questions to put to the project manager, one per theme:", bullets=bullets)]
    if art.id in REVIEWABLE:
        sections.append(
            Section(text="Send me the file itself (CSV or Excel) and I will check it row by row.")
        )
    return Reply(
        f"Checking {_an(_lower_first(art.name))}",
        tuple(sections),
        _artefact_buttons(art, here=""),
        intent="challenge_questions",
        slots=slots,
    )


REVIEWABLE = frozenset({"risk_register", "raid_log"})


def _lead_question(questions: list[str]) -> str:
    """The first question that does not assume a particular row ("This row has no owner ...")."""
    for question in questions:
        if (
            not question.startswith(("This ", "These ", "Row ", "Overall ", "You ", "Three "))
            and "'" not in question
        ):
            return question
    return questions[0]


def _themes_part(art: Artefact, slots: dict[str, str]) -> Reply:
    sections = tuple(
        Section(
            _theme_title(g.theme),
            bullets=tuple(g.questions[:3])
            + ((f"… and {len(g.questions) - 3} more",) if len(g.questions) > 3 else ()),
        )
        for g in art.questions
    )
    buttons = tuple(
        _button(
            f"All {_theme_title(g.theme).lower()} ({len(g.questions)})",
            "challenge_questions",
            slots,
            f"theme:{g.theme}",
        )
        for g in art.questions
    )
    return Reply(
        f"{art.name}: questions by theme",
        sections,
        buttons[:MAX_BUTTONS],
        intent="challenge_questions",
        slots=slots,
    )


def _theme_part(art: Artefact, theme: str, slots: dict[str, str]) -> Reply:
    group = next((g for g in art.questions if g.theme == theme), None)
    if group is None:
        return _questions_first_screen(art, slots)
    others = tuple(
        _button(
            f"{_theme_title(g.theme)} ({len(g.questions)})", "challenge_questions", slots, f"theme:{g.theme}"
        )
        for g in art.questions
        if g.theme != theme
    )
    return Reply(
        f"{art.name}: {_theme_title(theme).lower()} questions",
        (Section(bullets=tuple(group.questions)),),
        others[:MAX_BUTTONS],
        intent="challenge_questions",
        slots=slots,
    )


def _artefact_buttons(art: Artefact, here: str) -> tuple[Button, ...]:
    slots = {"artefact": art.id}
    buttons = [
        _button("All questions by theme", "challenge_questions", slots, "themes"),
        _button("What good looks like", "challenge_questions", slots, "good"),
        _button("Common defects", "challenge_questions", slots, "defects"),
    ]
    if art.manager_questions:
        buttons.append(_button("Questions for the PMO manager", "challenge_questions", slots, "manager"))
    buttons.append(_button("Columns to expect", "challenge_questions", slots, "fields"))
    buttons.append(
        _button(f"About {art.function.replace('_', ' ')}", "function_info", {"function": art.function})
    )
    return tuple(b for b in buttons if b.action.part != here or b.action.intent != "challenge_questions")[
        :MAX_BUTTONS
    ]


# -- functions ----------------------------------------------------------------------------


def function_info(kb: KnowledgeBase, action: Action) -> Reply:
    func = kb.functions.get(action.slots.get("function", ""))
    if func is None:
        return _missing("function", kb, "function_info")
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
            buttons.append(_button(f"All {len(func.services)} services", "function_info", slots, "services"))
    if func.primary_artefact:
        name = kb.name("artefact", func.primary_artefact)
        buttons.append(
            _button(f"Check {_an(name.lower())}", "challenge_questions", {"artefact": func.primary_artefact})
        )
    buttons += [
        _button(f"{kb.name('role', r)} competencies", "role_competencies", {"role": r})
        for r in func.roles[:3]
    ]
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


# -- roles --------------------------------------------------------------------------------


def role_competencies(kb: KnowledgeBase, action: Action) -> Reply:
    role = kb.roles.get(action.slots.get("role", ""))
    if role is None:
        return _missing("role", kb, "role_competencies")
    slots = {"role": role.id}
    if action.part == "details":
        details = tuple(
            Section(
                _LEVEL_TITLE[level],
                bullets=tuple(
                    f"{kb.name('function', c.function)}: {c.note}"
                    for c in role.competencies
                    if c.level == level
                ),
            )
            for level in reversed(LEVELS)
            if any(c.level == level for c in role.competencies)
        )
        if role.behaviours:
            details = (*details, Section("Behaviours", bullets=tuple(role.behaviours)))
        return Reply(
            f"{role.name}: each competency",
            details,
            _role_buttons(kb, role, "details"),
            intent="role_competencies",
            slots=slots,
        )
    first_sentence = role.profile.split(". ")[0].rstrip(".") + "."
    sections = [Section(text=first_sentence)]
    for level in reversed(LEVELS):
        names = [kb.name("function", c.function) for c in role.competencies if c.level == level]
        if names:
            sections.append(Section(f"{_LEVEL_TITLE[level]} level", text=", ".join(names) + "."))
    return Reply(
        f"{role.name}: competencies",
        tuple(sections),
        _role_buttons(kb, role, ""),
        intent="role_competencies",
        slots=slots,
    )


def _role_buttons(kb: KnowledgeBase, role: Role, skip: str) -> tuple[Button, ...]:
    slots = {"role": role.id}
    buttons = []
    if skip != "details":
        buttons.append(_button("What each competency means", "role_competencies", slots, "details"))
    buttons.append(_button("Where to develop next", "development_advice", slots))
    for nxt in role.development.next_roles[:2]:
        buttons.append(_button(f"{kb.name('role', nxt)} competencies", "role_competencies", {"role": nxt}))
    return tuple(buttons)


# -- development advice -------------------------------------------------------------------


def development_advice(kb: KnowledgeBase, action: Action) -> Reply:
    role_id = action.slots.get("role")
    role = kb.roles.get(role_id or "")
    if role is not None:
        return _become(kb, role) if action.part == "become" else _role_development(kb, role)
    facts = kb.facts
    assert facts is not None  # the loader refuses a knowledge base without facts
    if action.part == "growth":
        back = (_button("Where to develop next", "development_advice"),)
        return Reply("How PMOs grow", (Section(text=facts.growth_rule),), back, intent="development_advice")
    everyone = [a for a in facts.core_competencies if not a.for_managers]
    managers = [a for a in facts.core_competencies if a.for_managers]
    sections = [
        Section(
            "Start with the core",
            text=", ".join(kb.name("function", a.function) for a in everyone)
            + ". Nearly every PMO relies on these, so they pay off whatever your role.",
        ),
    ]
    if managers:
        names = ", ".join(kb.name("function", a.function) for a in managers)
        sections.append(Section("If you run a PMO", text=f"Add {names}. {managers[0].why}"))
    for skill in facts.scarce_skills:
        # The fact's own wording carries the figure; the heading says why it matters.
        first = skill.why.split("; ")[0].split(". ")[0].rstrip(".") + "."
        sections.append(Section(f"Then stand out: {kb.name('function', skill.function)}", text=first))
    buttons = (
        *(
            _button(f"Advice for {_an(kb.name('role', r))}", "development_advice", {"role": r})
            for r in ("pmo_coordinator", "pmo_analyst", "pmo_manager", "project_support_officer")
            if r in kb.roles
        ),
        _button("How PMOs grow their services", "development_advice", {}, "growth"),
    )
    return Reply("Where to develop next", tuple(sections), buttons, intent="development_advice")


def _role_development(kb: KnowledgeBase, role: Role) -> Reply:
    """Advice for someone in this role: next steps, the gaps to the next role, the scarce skill."""
    slots = {"role": role.id}
    sections = [Section("Next steps", bullets=tuple(role.development.steps[:3]))]
    nxt = kb.roles.get(role.development.next_roles[0]) if role.development.next_roles else None
    if nxt is not None:
        gaps = _gaps(kb, role, nxt)
        if gaps:
            sections.append(Section(f"To grow towards {nxt.name}, practise", text="; ".join(gaps[:3]) + "."))
    scarce = _scarce_gap(kb, role)
    if scarce:
        sections.append(Section(text=scarce))
    if role.development.credentials:
        sections.append(
            Section(text="Credentials people often take: " + ", ".join(role.development.credentials) + ".")
        )
    buttons = [_button(f"{role.name} competencies", "role_competencies", slots)]
    buttons += [
        _button(f"Becoming {_an(kb.name('role', r))}", "development_advice", {"role": r}, "become")
        for r in role.development.next_roles[:2]
    ]
    buttons.append(_button("General advice", "development_advice"))
    return Reply(
        f"{role.name}: where to develop next",
        tuple(sections),
        tuple(buttons),
        intent="development_advice",
        slots=slots,
    )


def _become(kb: KnowledgeBase, target: Role) -> Reply:
    """Advice for someone who wants to become ``target``: what it expects, and the gap from the
    role that usually leads to it."""
    slots = {"role": target.id}
    expert = [kb.name("function", c.function) for c in target.competencies if c.level == "expert"]
    sections = [Section(text=target.profile.split(". ")[0].rstrip(".") + ".")]
    if expert:
        sections.append(Section("It expects expert level in", text=", ".join(expert) + "."))
    feeder = next((r for r in kb.roles.values() if target.id in r.development.next_roles), None)
    if feeder is not None:
        gaps = _gaps(kb, feeder, target)
        if gaps:
            sections.append(Section(f"Coming from {feeder.name}, practise", text="; ".join(gaps[:4]) + "."))
    if target.development.credentials:
        sections.append(
            Section(text="Credentials people often take: " + ", ".join(target.development.credentials) + ".")
        )
    buttons = [_button(f"{target.name} competencies", "role_competencies", slots)]
    if feeder is not None:
        buttons.append(_button(f"Advice for {_an(feeder.name)}", "development_advice", {"role": feeder.id}))
    buttons.append(_button("General advice", "development_advice"))
    return Reply(
        f"Becoming {_an(target.name)}",
        tuple(sections),
        tuple(buttons),
        intent="development_advice",
        slots=slots,
    )


def _scarce_gap(kb: KnowledgeBase, role: Role) -> str:
    if kb.facts is None:
        return ""
    mine = {c.function: c.level for c in role.competencies}
    for skill in kb.facts.scarce_skills:
        if mine.get(skill.function) != "expert":
            share = round(skill.share_of_practitioners * 100)
            return (
                f"Stand out with {_lower_first(kb.name('function', skill.function))}: only about {share}% "
                "of PMO practitioners do it."
            )
    return ""


def _gaps(kb: KnowledgeBase, role: Role, target: Role) -> list[str]:
    """Functions where ``target`` expects a higher level than ``role``, the widest gaps first."""
    mine = {c.function: LEVELS.index(c.level) for c in role.competencies}
    gaps = []
    for comp in target.competencies:
        have = mine.get(comp.function, -1)
        if LEVELS.index(comp.level) > have:
            gaps.append(
                (
                    LEVELS.index(comp.level) - have,
                    _lower_first(kb.name("function", comp.function)),
                    comp.level,
                )
            )
    gaps.sort(key=lambda g: -g[0])
    return [f"{name} (to {level} level)" for _, name, level in gaps]


# -- the rest -----------------------------------------------------------------------------


def help_reply(kb: KnowledgeBase, action: Action) -> Reply:
    stats = kb.stats()
    sections = (
        Section(text="I coach people who work in a PMO. Ask me in your own words, for example:"),
        Section(
            bullets=(
                "what should I check in this risk register?",
                "what is benefits management?",
                "competencies for a PMO co-ordinator  (or /pmo role analyst)",
                "where should I develop next?",
                "/pmo check raid log  ·  /pmo function governance",
            )
        ),
        Section(
            text=(
                f"I know {stats['functions']} PMO functions, {stats['roles']} roles and "
                f"{stats['artefacts']} artefacts with {stats['challenge_questions']} challenge questions."
            )
        ),
    )
    buttons = (
        _button("Risk register questions", "challenge_questions", {"artefact": "risk_register"}),
        _button("PMO co-ordinator competencies", "role_competencies", {"role": "pmo_coordinator"}),
        _button("Where to develop next", "development_advice"),
    )
    return Reply("What I can do", sections, buttons, intent="help")


_SMALLTALK: tuple[tuple[frozenset[str], str, str], ...] = (
    (
        frozenset({"thank", "thanks", "cheers", "ta", "appreciate", "appreciated", "helped"}),
        "You're welcome",
        "Anything else I can help with?",
    ),
    (
        frozenset({"bye", "goodbye", "later", "night", "ciao", "ttyl"}),
        "Bye for now",
        "I'm here when you need me.",
    ),
    (
        frozenset({"how are you", "how is it going", "how you doing"}),
        "All good here",
        "Thanks for asking. What are you working on?",
    ),
    (
        frozenset({"joke"}),
        "A PMO joke",
        "A risk walks into a register. Nobody owns it, so it is still there.",
    ),
    (
        frozenset({"robot", "human", "made you", "who are you"}),
        "I'm pmo-bot",
        "An open-source PMO coach. Ask me about a register, a role or a PMO function.",
    ),
)


def smalltalk(kb: KnowledgeBase, action: Action) -> Reply:
    words = " " + " ".join(tokens(action.slots.get("text", ""))) + " "
    for cues, title, answer in _SMALLTALK:
        if any(f" {cue} " in words for cue in cues):
            return Reply(title, (Section(text=answer),), _starter_buttons(), intent="smalltalk")
    return Reply(
        "Hello",
        (
            Section(
                text="I'm pmo-bot. Ask me what to check in a register, about a PMO role or function, "
                "or where to develop next."
            ),
        ),
        _starter_buttons(),
        intent="smalltalk",
    )


def _starter_buttons() -> tuple[Button, ...]:
    return (
        _button("What can you do?", "help"),
        _button("Risk register questions", "challenge_questions", {"artefact": "risk_register"}),
    )


def pulse_survey(kb: KnowledgeBase, action: Action) -> Reply:
    return Reply(
        "Pulse survey",
        (
            Section(
                text="No pulse survey is set up for you in this installation yet. "
                "When your PMO turns them on, "
                "you get a short weekly message here and can answer in a few clicks."
            ),
        ),
        intent="pulse_survey",
    )


def digest(kb: KnowledgeBase, action: Action) -> Reply:
    return Reply(
        "Digest",
        (
            Section(
                text="There is no digest yet: digests are made from pulse survey answers once a team's "
                "survey has run and closed."
            ),
        ),
        intent="digest",
    )


def unknown(kb: KnowledgeBase, action: Action, suggestions: Sequence[Action] = ()) -> Reply:
    buttons = tuple(Button(label_for(kb, s), s) for s in suggestions)
    text = (
        "I'm not sure what you mean. I help with PMO work: what to check in a register or report, what a "
        "PMO function covers, the competencies of a role, and where to develop next."
        + (" Did you mean one of these?" if buttons else ' Try "help" for examples.')
    )
    return Reply(
        "Sorry, I didn't catch that",
        (Section(text=text),),
        buttons,
        suggestions=bool(buttons),
        intent="unknown",
    )


def label_for(kb: KnowledgeBase, action: Action) -> str:
    """A short button label for an action, used for "did you mean" suggestions."""
    slots = action.slots
    if "artefact" in slots:
        return f"Questions for {_an(kb.name('artefact', slots['artefact']).lower())}"
    if "function" in slots:
        return f"About {kb.name('function', slots['function']).lower()}"
    if "role" in slots:
        name = kb.name("role", slots["role"])
        return f"Develop as {_an(name)}" if action.intent == "development_advice" else f"{name} competencies"
    return {
        "development_advice": "Where to develop next",
        "pulse_survey": "My pulse survey",
        "digest": "The team digest",
        "help": "What can you do?",
    }.get(action.intent, action.intent.replace("_", " "))


SKILLS: dict[str, Skill] = {
    "challenge_questions": challenge_questions,
    "function_info": function_info,
    "role_competencies": role_competencies,
    "development_advice": development_advice,
    "help": help_reply,
    "smalltalk": smalltalk,
    "pulse_survey": pulse_survey,
    "digest": digest,
    "unknown": unknown,
}
