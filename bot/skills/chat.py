"""Help, small talk, the survey and digest stand-ins, and what the bot says when it cannot help."""

from __future__ import annotations

from dataclasses import replace

from bot.reply import Action, Button, Reply, Section
from bot.skills.common import button, entry_button, entry_label
from bot.skills.topics import knowledge
from knowledge.base import KnowledgeBase
from knowledge.text import tokens


def help_reply(kb: KnowledgeBase, action: Action) -> Reply:
    stats = kb.stats()
    sections = (
        Section(text="I coach people who work in a PMO. Ask me in your own words, for example:"),
        Section(
            bullets=(
                "what should I check in this risk register?  (or send me the file)",
                "the owner column just says 'IT team', what do I ask?",
                "what's the difference between a risk and an issue?",
                "setting up a PMO from scratch, where do we start?",
                "P3O or MSP?  ·  how do I become a PMO manager?",
                "is the pulse anonymous?  ·  /pmo role analyst  ·  /pmo check raid log",
            )
        ),
        Section(
            text=(
                f"I know {stats['topics']} PMO topics, {stats['functions']} functions, "
                f"{stats['roles']} roles and {stats['artefacts']} artefacts with "
                f"{stats['challenge_questions']} challenge questions."
            )
        ),
    )
    buttons = (
        button("Risk register questions", "challenge_questions", {"artefact": "risk_register"}),
        button(entry_label(kb, "role", "pmo_coordinator"), "role_competencies", {"role": "pmo_coordinator"}),
        button("Where to develop next", "development_advice"),
    )
    topic = entry_button(kb, "topic:risk_vs_issue")
    return Reply("What I can do", sections, (*buttons, *((topic,) if topic else ())), intent="help")


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
        frozenset({"useless", "rubbish", "stupid", "dumb", "bad bot", "not helpful", "unhelpful", "wrong"}),
        "Sorry that missed",
        "Tell me what you were after in other words, or type help to see what I can do.",
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
        button("What can you do?", "help"),
        button("Risk register questions", "challenge_questions", {"artefact": "risk_register"}),
    )


def _section_buttons(kb: KnowledgeBase, section: str, limit: int = 3) -> tuple[Button, ...]:
    """Buttons for the first topics of a knowledge section ("survey"), where it exists."""
    ids = [t for t, s in kb.topic_section.items() if s == section][:limit]
    return tuple(b for b in (entry_button(kb, f"topic:{t}") for t in ids) if b is not None)


def pulse_survey(kb: KnowledgeBase, action: Action) -> Reply:
    return _stand_in(
        kb,
        "pulse_what_it_asks",
        "Pulse survey",
        "No pulse survey is set up for you in this installation yet. When your PMO turns them on, "
        "you get a short weekly message here and can answer in a few clicks.",
        "pulse_survey",
    )


def digest(kb: KnowledgeBase, action: Action) -> Reply:
    return _stand_in(
        kb,
        "pulse_digest",
        "Digest",
        "There is no digest yet: digests are made from pulse survey answers once a team's survey has "
        "run and closed.",
        "digest",
    )


def _stand_in(kb: KnowledgeBase, topic_id: str, title: str, note: str, intent: str) -> Reply:
    """Where no survey runs (the command line, an installation without teams): say so, then what
    the survey or its digest is, from the knowledge base, since that is what the question wants."""
    if topic_id not in kb.topics:
        return Reply(title, (Section(text=note),), _section_buttons(kb, "survey"), intent=intent)
    about = knowledge(kb, Action("knowledge", {"topic": topic_id}))
    return replace(about, sections=(Section(text=note), *about.sections), intent=intent)


# What the bot says to a message it will not answer, by why (see bot.scope).
_SCOPE = {
    "hr": (
        "That one is for HR",
        "Leave, pay, pensions, expenses and other employment questions are for HR or your HR system. "
        "I only cover PMO work.",
    ),
    "it": (
        "That one is for IT",
        "Passwords, laptops, accounts and other IT problems are for your IT service desk. "
        "I only cover PMO work.",
    ),
    "wellbeing": (
        "I'm sorry you're dealing with that",
        "I'm a PMO coach and can't help with this myself. Please talk to someone you trust: "
        "your line manager, HR, or your organisation's employee assistance programme.",
    ),
    "abuse": (
        "Let's keep it constructive",
        "If I got something wrong, tell me what you were after and I'll try again, or type help to see what "
        "I can do.",
    ),
    "injection": (
        "I can't do that",
        "I don't change how I work on request, and I have no instructions to share. I'm happy to help with "
        "PMO questions.",
    ),
    "language": (
        "English only, for now",
        "I only understand English at the moment. Could you ask again in English?",
    ),
    "offtopic": (
        "That's outside what I know",
        "I'm a PMO coach: I explain PMO terms, help you check registers and reports and challenge project "
        "managers, describe PMO roles and careers, and run the weekly pulse survey. Type help for examples.",
    ),
}


def unknown_reply(kb: KnowledgeBase, reason: str = "", suggestions: tuple[Button, ...] = ()) -> Reply:
    """Out of scope (``reason`` says why, with a pointer to who can help) or not understood."""
    if reason in _SCOPE:
        title, text = _SCOPE[reason]
        return Reply(title, (Section(text=text),), intent="unknown", slots={"reason": reason})
    text = (
        "I'm not sure what you mean. I help with PMO work: PMO terms and situations, what to check in a "
        "register or report, PMO functions, roles and careers, and the pulse survey."
        + (" Did you mean one of these?" if suggestions else ' Try "help" for examples.')
    )
    return Reply(
        "Sorry, I didn't catch that",
        (Section(text=text),),
        suggestions,
        suggestions=bool(suggestions),
        intent="unknown",
    )


def unknown(kb: KnowledgeBase, action: Action) -> Reply:
    return unknown_reply(kb, action.slots.get("reason", ""))
