"""Knowledge entries (concepts, situations, careers, the pulse survey...) and comparisons."""

from __future__ import annotations

from bot.reply import Action, Button, Reply, Section
from bot.skills.common import (
    FIRST_SCREEN_LINES,
    KIND_INTENT,
    MAX_BUTTONS,
    button,
    entry_button,
    first_sentence,
    lines_of,
    lower_first,
    missing,
)
from knowledge.base import KINDS, Kind, KnowledgeBase
from knowledge.models import LEVELS, Topic


def knowledge(kb: KnowledgeBase, action: Action) -> Reply:
    topic = kb.topics.get(action.slots.get("topic", ""))
    if topic is None:
        return missing("topic", kb, "knowledge")
    slots = {"topic": topic.id}
    if action.part == "more":
        return Reply(
            f"{topic.name}: in full",
            tuple(_body(topic, budget=None)),
            _topic_buttons(kb, topic, more=False),
            intent="knowledge",
            slots=slots,
        )
    sections = _body(topic, budget=FIRST_SCREEN_LINES - 1)
    cut = sum(len(s.bullets) for s in sections) < len(topic.points) + len(topic.ask) + len(topic.facts) or (
        bool(topic.why) and not any(s.text.startswith("Why it matters") for s in sections)
    )
    return Reply(
        topic.name, tuple(sections), _topic_buttons(kb, topic, more=cut), intent="knowledge", slots=slots
    )


def _body(topic: Topic, budget: int | None) -> list[Section]:
    """The answer, its example, then points, questions and facts while the screen has room."""
    sections = [Section(text=topic.answer)]
    if topic.example:
        example = (
            topic.example
            if topic.example.lower().startswith("for example")
            else f"For example: {topic.example}"
        )
        sections.append(Section(text=example))
    used = sum(lines_of(s.text) for s in sections)
    parts: list[tuple[str, tuple[str, ...]]] = []
    if topic.ask:
        parts.append(("Ask the project manager", tuple(topic.ask)))
    if topic.points:
        parts.append(("", tuple(topic.points)))
    if topic.facts:
        parts.append(("", tuple(f"{label}: {value}" for label, value in topic.facts.items())))
    for heading, bullets in parts:
        room = budget - used - bool(heading) if budget is not None else len(bullets)
        shown: list[str] = []
        for bullet in bullets:
            cost = lines_of(bullet)
            if budget is not None and cost > room:
                break
            shown.append(bullet)
            room -= cost
            used += cost
        if shown:
            sections.append(Section(heading, bullets=tuple(shown)))
            used += bool(heading)
        if len(shown) < len(bullets):
            return sections
    if topic.why and (budget is None or used + lines_of(topic.why) <= budget):
        sections.append(Section(text=f"Why it matters: {topic.why}"))
    return sections


def _topic_buttons(kb: KnowledgeBase, topic: Topic, more: bool) -> tuple[Button, ...]:
    buttons: list[Button] = []
    if more:
        buttons.append(button("Read it in full", "knowledge", {"topic": topic.id}, "more"))
    refs = list(topic.related)
    if topic.artefact and f"artefact:{topic.artefact}" not in refs:
        refs.insert(0, f"artefact:{topic.artefact}")
    for ref in refs:
        made = entry_button(kb, ref)
        if made is not None:
            buttons.append(made)
    return tuple(buttons[:MAX_BUTTONS])


# -- comparisons ----------------------------------------------------------------------------


def compare(kb: KnowledgeBase, action: Action) -> Reply:
    """Two entries of one kind side by side: slots ``{kind: first, "with": second}``."""
    kind, first = next(((k, v) for k, v in action.slots.items() if k != "with"), ("", ""))
    second = action.slots.get("with", "")
    if kind not in KINDS:
        return missing("topic", kb, "knowledge")
    typed: Kind = kind
    table = kb.entries(typed)
    if first not in table or second not in table or first == second:
        # Each choice opens that entry: a "compare" button without its second entry would only
        # ask the same question again.
        return missing(typed, kb, KIND_INTENT[typed])
    a, b = table[first], table[second]
    if typed == "topic":
        sections = _compare_topics(a, b)
    elif typed == "role":
        sections = _compare_roles(kb, a.id, b.id)
    else:
        sections = [
            Section(a.name, text=first_sentence(getattr(a, "definition", "") or getattr(a, "purpose", ""))),
            Section(b.name, text=first_sentence(getattr(b, "definition", "") or getattr(b, "purpose", ""))),
        ]
    buttons = tuple(
        made
        for made in (entry_button(kb, f"{typed}:{first}"), entry_button(kb, f"{typed}:{second}"))
        if made is not None
    )
    if typed == "role":
        buttons += (
            button(f"From {a.name} to {b.name}", "development_advice", {"role": second}, f"become:{first}"),
        )
    return Reply(
        f"{a.name} and {b.name}",
        tuple(sections),
        buttons,
        intent="compare",
        slots={typed: first, "with": second},
    )


def _compare_topics(a: Topic, b: Topic) -> list[Section]:
    labels = [label for label in a.facts if label in b.facts]
    if not labels:
        return [
            Section(a.name, text=first_sentence(a.answer)),
            Section(b.name, text=first_sentence(b.answer)),
        ]
    # Each fact side by side while the screen has room; both entries in full are a button away.
    sections: list[Section] = []
    room = FIRST_SCREEN_LINES + 1
    for label in labels:
        bullets = (f"{a.name}: {a.facts[label]}", f"{b.name}: {b.facts[label]}")
        cost = 2 + sum(lines_of(x) for x in bullets)
        if cost > room:
            break
        sections.append(Section(label, bullets=bullets))
        room -= cost
    return sections


def _compare_roles(kb: KnowledgeBase, first: str, second: str) -> list[Section]:
    a, b = kb.roles[first], kb.roles[second]
    sections = [
        Section(a.name, text=first_sentence(a.profile)),
        Section(b.name, text=first_sentence(b.profile)),
    ]
    mine = {c.function: c.level for c in a.competencies}
    theirs = {c.function: c.level for c in b.competencies}
    differ = []
    for function in dict.fromkeys([*theirs, *mine]):
        left, right = mine.get(function), theirs.get(function)
        if left != right:
            gap = abs((LEVELS.index(left) if left else -1) - (LEVELS.index(right) if right else -1))
            differ.append(
                (-gap, kb.name("function", function), left or "not expected", right or "not expected")
            )
    differ.sort()
    if differ:
        sections.append(
            Section(
                f"Where the levels differ ({lower_first(a.name)} / {lower_first(b.name)})",
                bullets=tuple(f"{name}: {left} / {right}" for _, name, left, right in differ[:5]),
            )
        )
    return sections
