"""Answers: every skill on every entity, the first screen, and every button it offers."""

from __future__ import annotations

from dataclasses import replace

import pytest

from adapters.text import render
from bot.core import Bot
from bot.intents import BY_NAME, DEFAULT_INTENT
from bot.reply import Action, Reply
from bot.skills import FIRST_SCREEN_LINES, KIND_INTENT, MAX_BUTTONS
from bot.turn import Turn
from knowledge.base import KnowledgeBase

PHONE_LINES = FIRST_SCREEN_LINES + 3  # "about 15 lines", at the renderer's 88 columns


def all_first_actions(kb: KnowledgeBase) -> list[Action]:
    actions = [Action("challenge_questions", {"artefact": a}) for a in kb.artefacts]
    actions += [Action("function_info", {"function": f}) for f in kb.functions]
    actions += [Action("role_competencies", {"role": r}) for r in kb.roles]
    actions += [Action("development_advice", {"role": r}) for r in kb.roles]
    actions += [Action("development_advice", {"role": r}, "become") for r in kb.roles]
    actions += [Action("knowledge", {"topic": t}) for t in kb.topics]
    actions += [
        Action("compare", {"role": "pmo_manager", "with": "pmo_director"}),
        Action("compare", {"topic": "apm_pmq", "with": "pmi_pmp"}),
        Action("compare", {"topic": "risk_vs_issue", "with": "residual_risk"}),
        Action("compare", {"function": "governance", "with": "reporting"}),
    ]
    actions += [
        Action(i) for i in ("development_advice", "help", "smalltalk", "pulse_survey", "digest", "unknown")
    ]
    return actions


def test_first_answers_fit_a_phone_screen(bot: Bot, kb: KnowledgeBase) -> None:
    # Rendered and wrapped as the CLI shows them, buttons aside: about 15 lines, at most 5 buttons.
    for action in all_first_actions(kb):
        reply = bot.handle_action(action)
        assert reply.intent != "error", action
        text_lines = render(reply).split("\n\nMore:")[0].split("\n\nDid you mean:")[0].splitlines()
        assert len(text_lines) <= PHONE_LINES, (action, len(text_lines))
        assert len(reply.buttons) <= MAX_BUTTONS, (action, len(reply.buttons))


def test_every_button_leads_to_a_real_answer(bot: Bot, kb: KnowledgeBase) -> None:
    seen: set[str] = set()
    queue = [bot.handle_action(a) for a in all_first_actions(kb)]
    while queue:
        reply = queue.pop()
        for button in reply.buttons:
            key = button.action.encode()
            if key in seen:
                continue
            seen.add(key)
            assert Action.decode(key) == button.action
            follow = bot.handle_action(button.action)
            assert follow.intent not in ("error", "unknown"), button
            assert follow.title
            queue.append(follow)
    assert len(seen) > 100


def test_challenge_questions_are_grouped_by_theme(bot: Bot) -> None:
    reply = bot.handle_text("what should I check in this risk register?")
    # What the register is comes first, then the questions.
    assert reply.sections[0].text.startswith("A risk register is a record of the uncertain events")
    bullets = reply.sections[1].bullets
    assert [b.split(":")[0] for b in bullets] == [
        "Identification",
        "Evaluation",
        "Ownership",
        "Response",
        "Review",
    ]
    # The first screen leads with general questions, not ones that assume a particular row.
    assert not any(b.split(": ", 1)[1].startswith(("This ", "You ")) for b in bullets)
    labels = [b.label for b in reply.buttons]
    assert labels[0] == "All questions by theme"
    assert "Questions for the PMO manager" in labels
    themes = bot.handle_action(reply.buttons[0].action)
    assert [s.heading for s in themes.sections] == [
        "Identification",
        "Evaluation",
        "Ownership",
        "Response",
        "Review",
    ]
    assert any(b.label.startswith("All ownership") for b in themes.buttons)


def test_what_is_an_artefact_is_answered_before_its_questions(bot: Bot, kb: KnowledgeBase) -> None:
    for art in kb.artefacts.values():
        reply = bot.handle_text(f"what is {art.name}?", Turn.local(art.id))
        assert reply.slots == {"artefact": art.id}, art.id
        opening = reply.sections[0].text
        assert opening.lower().startswith(("a ", "an ")) and f"{art.name.lower()} is " in opening.lower(), (
            opening
        )
        assert opening.endswith(".") and ". " not in opening, opening  # one sentence
        assert reply.sections[1].bullets, art.id


def test_theme_part_shows_all_questions_of_the_theme(bot: Bot, kb: KnowledgeBase) -> None:
    reply = bot.handle_action(Action("challenge_questions", {"artefact": "risk_register"}, "theme:ownership"))
    group = next(g for g in kb.artefacts["risk_register"].questions if g.theme == "ownership")
    assert reply.sections[0].bullets == tuple(group.questions)


def test_function_info_has_definition_services_and_roles(bot: Bot, kb: KnowledgeBase) -> None:
    reply = bot.handle_text("what is resource management?")
    text = render(reply)
    func = kb.functions["resource_management"]
    assert func.services[0] in text
    assert "Usually done by" in text
    assert "40%" in text  # the scarce skill


def test_role_shows_its_week_and_competencies_on_the_five_apm_levels(bot: Bot, kb: KnowledgeBase) -> None:
    reply = bot.handle_text("/pmo role analyst")
    assert reply.title == "PMO Analyst: what the role does"
    day = next(s for s in reply.sections if s.heading == "Day to day")
    assert day.bullets[0] == kb.roles["pmo_analyst"].day_to_day[0]
    levels = next(s for s in reply.sections if s.heading == "Competencies (APM levels)")
    # The highest levels the role has come first, each named once: proficient is not folded into expert.
    assert [b.split(":")[0] for b in levels.bullets] == ["Proficient", "Competent", "Practised"]
    details = bot.handle_action(Action("role_competencies", {"role": "pmo_analyst"}, "details"))
    assert {s.heading for s in details.sections} >= {"Proficient", "Competent", "Practised"}


def test_general_development_advice_names_core_and_scarce_skills(bot: Bot) -> None:
    text = render(bot.handle_text("where should I develop next?"))
    for area in ("Governance", "Reporting", "Administration", "Risk management", "Communications"):
        assert area in text
    assert "pmo management" in text.lower()
    assert "40%" in text


def test_role_development_advice_names_gaps_to_the_next_role(bot: Bot) -> None:
    text = render(bot.handle_text("how do I develop as a pmo co-ordinator?"))
    assert "PMO Co-ordinator: where to develop next" in text
    assert "To grow towards PMO Analyst, practise" in text
    # A newcomer builds the core first; the scarce skill is advice for analysts and above.
    assert "Build the core first" in text
    assert "40%" not in text
    assert "40%" in render(bot.handle_text("how do I develop as a pmo analyst?"))


def test_becoming_a_role_is_advice_about_reaching_it(bot: Bot) -> None:
    reply = bot.handle_action(Action("development_advice", {"role": "pmo_manager"}, "become"))
    assert (reply.intent, reply.slots, reply.title) == (
        "development_advice",
        {"role": "pmo_manager"},
        "Becoming a PMO Manager",
    )
    text = render(reply)
    assert "Coming from PMO Analyst, practise" in text
    assert "It expects proficient level in" in text
    # Named as where they come from, another role takes the place of the usual one.
    text = render(
        bot.handle_action(Action("development_advice", {"role": "pmo_manager"}, "become:pmo_coordinator"))
    )
    assert "Coming from PMO Co-ordinator, practise" in text


def test_the_head_of_pmo_is_not_sent_down_a_level(bot: Bot, kb: KnowledgeBase) -> None:
    director = kb.roles["pmo_director"]
    assert director.development.next_roles == []
    text = render(bot.handle_action(Action("development_advice", {"role": "pmo_director"})))
    assert "Beyond this role" in text
    assert "To grow towards" not in text


@pytest.mark.parametrize(
    ("text", "title"),
    [("thanks, that helped", "You're welcome"), ("hi, I'm starting today", "Hello"), ("bye!", "Bye for now")],
)
def test_smalltalk_matches_words_not_letters(bot: Bot, text: str, title: str) -> None:
    assert bot.handle_text(text).title == title


def test_raid_keeps_its_capitals(bot: Bot) -> None:
    assert bot.handle_text("/pmo check raid").title == "Checking a RAID log"


def test_unknown_offers_at_most_three_suggestions(bot: Bot) -> None:
    reply = bot.handle_text("pmo analyst risk register")  # two equally likely readings
    assert reply.intent == "unknown"
    assert reply.suggestions
    assert 2 <= len(reply.buttons) <= 3
    intents = {b.action.intent for b in reply.buttons}
    assert {"role_competencies", "challenge_questions"} <= intents


def test_unknown_without_any_clue_says_what_the_bot_does(bot: Bot) -> None:
    reply = bot.handle_text("asdfgh")
    assert reply.intent == "unknown"
    assert "help" in render(reply)


@pytest.mark.parametrize("intent", ["challenge_questions", "function_info", "role_competencies", "knowledge"])
def test_missing_or_unknown_slot_offers_choices(bot: Bot, intent: str) -> None:
    for slots in ({}, {"artefact": "nope", "role": "nope", "function": "nope", "topic": "nope"}):
        reply = bot.handle_action(Action(intent, slots))
        assert reply.title.startswith("Which")
        assert reply.buttons


def test_follow_up_swaps_the_artefact(bot: Bot) -> None:
    bot.handle_text("challenge questions for the risk register", Turn.local("c1"))
    reply = bot.handle_text("and the issue log?", Turn.local("c1"))
    assert (reply.intent, reply.slots) == ("challenge_questions", {"artefact": "issue_log"})


def test_follow_up_with_a_bare_role_word(bot: Bot) -> None:
    bot.handle_text("competencies for a pmo co-ordinator", Turn.local("c3"))
    reply = bot.handle_text("what about a manager?", Turn.local("c3"))
    assert (reply.intent, reply.slots) == ("role_competencies", {"role": "pmo_manager"})


def test_follow_up_swaps_the_role(bot: Bot) -> None:
    bot.handle_text("competencies for a pmo co-ordinator", Turn.local("c2"))
    reply = bot.handle_text("what about an analyst?", Turn.local("c2"))
    assert (reply.intent, reply.slots) == ("role_competencies", {"role": "pmo_analyst"})


def test_follow_up_is_per_conversation(bot: Bot) -> None:
    bot.handle_text("competencies for a pmo co-ordinator", Turn.local("a"))
    reply = bot.handle_text("and the issue log?", Turn.local("b"))
    assert reply.intent == "challenge_questions"  # the default for an artefact, not a's role intent


def test_follow_up_expires(kb: KnowledgeBase) -> None:
    now = [1000.0]
    bot = Bot(kb, clock=lambda: now[0])
    bot.handle_text("development advice for a pmo analyst", Turn.local("x"))
    now[0] += 3600
    reply = bot.handle_text("what about a pmo manager?", Turn.local("x"))
    assert reply.intent == "role_competencies"


def test_a_failing_skill_gets_an_apology(bot: Bot, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(kb: KnowledgeBase, action: Action) -> Reply:
        raise RuntimeError("boom")

    monkeypatch.setitem(BY_NAME, "help", replace(BY_NAME["help"], skill=broken))
    reply = bot.handle_text("help")
    assert reply.intent == "error"
    assert "try again" in render(reply)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "null",
        "[]",
        '{"i": 3}',
        '{"i": "help", "s": [1]}',
        "{bad json",
        '{"i": "help", "s": {"a": 1}}',
        '{"i": "help", "p": 5}',
    ],
)
def test_hostile_button_values_are_refused(value: str) -> None:
    assert Action.decode(value) is None


def test_unknown_action_intent_is_answered_not_raised(bot: Bot) -> None:
    assert bot.handle_action(Action("format_disk")).intent == "unknown"


def test_the_intent_table_and_the_skills_agree_on_which_intent_opens_an_entry() -> None:
    assert DEFAULT_INTENT == KIND_INTENT


def test_a_comparison_missing_its_second_entry_offers_entries_that_open(bot: Bot) -> None:
    reply = bot.handle_action(Action("compare", {"role": "pmo_analyst"}))
    assert reply.title == "Which role?"
    assert reply.buttons
    for b in reply.buttons:
        opened = bot.handle_action(b.action)
        assert opened.intent == "role_competencies" and opened.slots == b.action.slots, b


def test_a_button_naming_an_unknown_entry_is_not_remembered(bot: Bot) -> None:
    bot.handle_action(Action("role_competencies", {"role": "nope"}), Turn.local("stale"))
    reply = bot.handle_text("how do I become one?", Turn.local("stale"))
    assert reply.slots.get("role") != "nope"
    context = bot.conversations.context(Turn.local("stale").key, bot.now())
    assert context is not None and ("role", "nope") not in context.named
