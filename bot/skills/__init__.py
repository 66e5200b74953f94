"""Skills: one function per intent, from an action (intent, slots, part) to a reply.

A first answer fits a phone screen (about 15 lines); the rest of a long answer is reached
through buttons whose action names the part to show. Which skill answers which intent is said in
one place, :mod:`bot.intents`.
"""

from bot.skills.artefacts import challenge_questions
from bot.skills.chat import digest, help_reply, pulse_survey, smalltalk, unknown, unknown_reply
from bot.skills.common import ENTRY_LABEL, FIRST_SCREEN_LINES, KIND_INTENT, MAX_BUTTONS, Skill, fill_label
from bot.skills.development import development_advice
from bot.skills.functions import function_info
from bot.skills.roles import role_competencies
from bot.skills.topics import compare, knowledge

__all__ = [
    "ENTRY_LABEL",
    "FIRST_SCREEN_LINES",
    "KIND_INTENT",
    "MAX_BUTTONS",
    "Skill",
    "challenge_questions",
    "compare",
    "development_advice",
    "digest",
    "fill_label",
    "function_info",
    "help_reply",
    "knowledge",
    "pulse_survey",
    "role_competencies",
    "smalltalk",
    "unknown",
    "unknown_reply",
]
