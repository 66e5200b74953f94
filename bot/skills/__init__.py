"""Skills: one function per intent, from an action (intent, slots, part) to a reply.

A first answer fits a phone screen (about 15 lines); the rest of a long answer is reached
through buttons whose action names the part to show. Which skill answers which intent is said in
one place, :mod:`bot.intents`.
"""

from bot.skills.artefacts import REVIEWABLE, challenge_questions
from bot.skills.chat import digest, help_reply, pulse_survey, smalltalk, unknown, unknown_reply
from bot.skills.common import (
    FIRST_SCREEN_LINES,
    MAX_BUTTONS,
    Skill,
    an,
    button,
    entry_button,
    entry_label,
    lower_first,
)
from bot.skills.development import development_advice
from bot.skills.functions import function_info
from bot.skills.roles import role_competencies
from bot.skills.topics import compare, knowledge

__all__ = [
    "FIRST_SCREEN_LINES",
    "MAX_BUTTONS",
    "REVIEWABLE",
    "Skill",
    "an",
    "button",
    "challenge_questions",
    "compare",
    "development_advice",
    "digest",
    "entry_button",
    "entry_label",
    "function_info",
    "help_reply",
    "knowledge",
    "lower_first",
    "pulse_survey",
    "role_competencies",
    "smalltalk",
    "unknown",
    "unknown_reply",
]
