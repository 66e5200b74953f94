"""Router behaviour that the labelled sets do not pin down one by one."""

from __future__ import annotations

import pytest

from bot.router import Context, Router, RouteResult
from knowledge.text import normalise


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Programme Co-ordinator!!", "programme coordinator"),
        ("program coordinator", "programme coordinator"),
        ("organization's prioritization", "organisation prioritisation"),
        ("<@U123ABC> hello", "hello"),
        ("<@U123ABC|pmo-bot> hello", "hello"),
        ("<at>pmo-bot</at> hello", "hello"),
        ("@pmo-bot hello :wave: 🙂", "hello"),
        ("L&D specialist", "l and d specialist"),
        ("the PM’s RAID log", "the pm raid log"),
    ],
)
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "intent", "slots"),
    [
        ("/pmo role analyst", "role_competencies", {"role": "pmo_analyst"}),
        ("/pmo role PSO", "role_competencies", {"role": "project_support_officer"}),
        ("/pmo function risk", "function_info", {"function": "risk_management"}),
        ("/pmo check raid", "challenge_questions", {"artefact": "raid_log"}),
        ("/pmo check risk management", "challenge_questions", {"artefact": "risk_register"}),
        ("/pmo help", "help", {}),
        ("/pmo survey", "pulse_survey", {}),
        ("/pmo digest", "digest", {}),
        ("/pmo", "help", {}),
        ("<@U123ABC>", "help", {}),
        ("<@U123ABC> what does a HoPMO do?", "role_competencies", {"role": "pmo_director"}),
        ("@pmo-bot COMPETENCIES FOR A PMO CO-ORDINATOR 🙏", "role_competencies", {"role": "pmo_coordinator"}),
        ("compatencies for a co-ordinater", "role_competencies", {"role": "pmo_coordinator"}),
        ("what should i check in the risk regster", "challenge_questions", {"artefact": "risk_register"}),
        ("what is goverance", "function_info", {"function": "governance"}),
        ("questions for my program plan", "challenge_questions", {"artefact": "schedule"}),
        ("how do I become a programme manager?", "development_advice", {"role": "programme_manager"}),
        ("where should I develop next?", "development_advice", {}),
        ("hi there :wave:", "smalltalk", {}),
        ("what can you do", "help", {}),
    ],
)
def test_routes(router: Router, text: str, intent: str, slots: dict[str, str]) -> None:
    result = router.route(text)
    assert (result.intent, result.slots) == (intent, slots)


@pytest.mark.parametrize(
    "text",
    [
        "is there a risk of rain tomorrow",
        "reset my password",
        "asdfgh",
        "my laptop has an issue",
        "what's the budget for the christmas party?",
        "raid the fridge",
        "who won the football last night",
        "book a meeting room for thursday",
        "quality of the coffee machine is terrible",
        "change my desk booking",
    ],
)
def test_out_of_domain_is_unknown(router: Router, text: str) -> None:
    result = router.route(text)
    assert result.intent == "unknown", result.candidates[:2]
    assert result.slots == {}
    assert result.confidence == 0.0


def test_candidates_are_ranked_with_scores(router: Router) -> None:
    result = router.route("what should I check in the issue log")
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert result.candidates[0].intent == "challenge_questions"


def test_ambiguous_text_gets_did_you_mean(router: Router) -> None:
    result = router.route("pmo analyst risk register")
    assert result.intent == "unknown"
    assert 1 <= len(result.suggestions) <= 3


def test_near_miss_entity_is_suggested(router: Router) -> None:
    # Too mangled to correct with confidence, close enough to suggest.
    result = router.route("lessns lg")
    assert result.intent == "unknown"
    suggested = [(s.intent, s.slots) for s in result.suggestions]
    assert ("challenge_questions", {"artefact": "lessons_log"}) in suggested
    assert len(suggested) <= 3


def test_follow_up_keeps_the_intent_and_swaps_the_slot(router: Router) -> None:
    first = router.route("challenge questions for the risk register")
    follow = router.route("and the issue log?", after(first))
    assert (follow.intent, follow.slots, follow.follow_up) == (
        "challenge_questions",
        {"artefact": "issue_log"},
        True,
    )
    role = router.route("how do I develop as a pmo analyst")
    follow = router.route("what about a pmo manager?", after(role))
    assert (follow.intent, follow.slots) == ("development_advice", {"role": "pmo_manager"})


def test_follow_up_of_another_kind_falls_back_to_the_default(router: Router) -> None:
    first = router.route("competencies for a pmo analyst")
    follow = router.route("and the issue log?", after(first))
    assert (follow.intent, follow.slots) == ("challenge_questions", {"artefact": "issue_log"})


def test_a_clear_new_question_is_not_a_follow_up(router: Router) -> None:
    first = router.route("challenge questions for the risk register")
    follow = router.route("what skills does a pmo analyst need", after(first))
    assert (follow.intent, follow.slots) == ("role_competencies", {"role": "pmo_analyst"})


def after(route: RouteResult) -> Context:
    return Context().after(route)


def test_routing_is_deterministic(router: Router) -> None:
    texts = ["what should I check in this risk register?", "reset my password", "hi", "raid"]
    first = [router.route(t).as_json() for t in texts]
    assert [router.route(t).as_json() for t in texts] == first


@pytest.mark.parametrize("text", ["", "   ", "\x00\x01", "🙂🙂🙂", "?" * 5000, "a " * 3000, "<@U1|x>" * 50])
def test_odd_input_never_raises(router: Router, text: str) -> None:
    result = router.route(text)
    assert result.intent in {"help", "unknown"}
