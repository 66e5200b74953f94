"""Challenge questions for an artefact: one question per theme first, the rest a button away."""

from __future__ import annotations

from bot.reply import Action, Button, Reply, Section
from bot.skills.common import MAX_BUTTONS, an, button, entry_label, lower_first, missing
from knowledge.base import KnowledgeBase
from knowledge.models import Artefact

REVIEWABLE = frozenset({"risk_register", "raid_log"})


def _theme_title(theme: str) -> str:
    return theme.replace("_", " ").capitalize()


def challenge_questions(kb: KnowledgeBase, action: Action) -> Reply:
    art = kb.artefacts.get(action.slots.get("artefact", ""))
    if art is None:
        return missing("artefact", kb, "challenge_questions")
    slots = {"artefact": art.id}
    part = action.part
    if part.startswith("theme:"):
        return _theme_part(kb, art, part.removeprefix("theme:"), slots)
    if part == "themes":
        return _themes_part(art, slots)
    if part == "good":
        return Reply(
            f"{art.name}: what good looks like",
            (Section(text=art.purpose), Section("What good looks like", bullets=tuple(art.good_looks_like))),
            _artefact_buttons(kb, art, here=part),
            intent="challenge_questions",
            slots=slots,
        )
    if part == "defects":
        return Reply(
            f"{art.name}: common defects",
            (Section(bullets=tuple(art.defects)),),
            _artefact_buttons(kb, art, here=part),
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
            _artefact_buttons(kb, art, here=part),
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
            _artefact_buttons(kb, art, here=part),
            intent="challenge_questions",
            slots=slots,
        )
    return _questions_first_screen(kb, art, slots)


def _questions_first_screen(kb: KnowledgeBase, art: Artefact, slots: dict[str, str]) -> Reply:
    # One general question per theme fits a phone screen; the rest are a button away.
    bullets = tuple(f"{_theme_title(g.theme)}: {_lead_question(g.questions)}" for g in art.questions)
    # What the artefact is comes first: "what is a RAID log?" lands here as often as "what should
    # I check in it?", and the questions make more sense once its purpose is said.
    sections = [
        Section(text=_first_sentence(art.purpose, art.name)),
        Section(text="Questions to put to the project manager, one per theme:", bullets=bullets),
    ]
    if art.id in REVIEWABLE:
        sections.append(
            Section(text="Send me the file itself (CSV or Excel) and I will check it row by row.")
        )
    return Reply(
        f"Checking {an(lower_first(art.name))}",
        tuple(sections),
        _artefact_buttons(kb, art, here=""),
        intent="challenge_questions",
        slots=slots,
    )


def _first_sentence(purpose: str, name: str) -> str:
    """ "A RAID log is a single working log of ..." from the purpose's first sentence."""
    first = purpose.split(". ")[0].rstrip(".")
    subject = an(lower_first(name))
    # The purpose starts "A record of ..." or "The approved ...": no acronym comes first.
    return f"{subject[0].upper()}{subject[1:]} is {first[:1].lower()}{first[1:]}."


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
        button(
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


def _theme_part(kb: KnowledgeBase, art: Artefact, theme: str, slots: dict[str, str]) -> Reply:
    group = next((g for g in art.questions if g.theme == theme), None)
    if group is None:
        return _questions_first_screen(kb, art, slots)
    others = tuple(
        button(
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


def _artefact_buttons(kb: KnowledgeBase, art: Artefact, here: str) -> tuple[Button, ...]:
    slots = {"artefact": art.id}
    buttons = [
        button("All questions by theme", "challenge_questions", slots, "themes"),
        button("What good looks like", "challenge_questions", slots, "good"),
        button("Common defects", "challenge_questions", slots, "defects"),
    ]
    if art.manager_questions:
        buttons.append(button("Questions for the PMO manager", "challenge_questions", slots, "manager"))
    buttons.append(button("Columns to expect", "challenge_questions", slots, "fields"))
    buttons.append(
        button(entry_label(kb, "function", art.function), "function_info", {"function": art.function})
    )
    return tuple(b for b in buttons if b.action.part != here or b.action.intent != "challenge_questions")[
        :MAX_BUTTONS
    ]
