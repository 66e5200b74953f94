"""Why a message is out of scope, where that is plain: it names an HR, IT or wellbeing matter,
abuses the bot, tries to change its instructions, is about something else altogether (the
weather, a train, a child's homework), or is written in another language.

The router reads the reason for every message, over the words its entries do not cover ("the
issue log in a PMO" has no "log in"). Prompt injection, other languages and "offtopic" are
refused whatever else they mention; an HR, IT or wellbeing matter is refused only in a message
that says nothing of PMO work outside a conversation about it, so "I'm on leave, will I miss the
pulse?" is still a question about the pulse.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Each reason: phrases (in canonical form) any one of which is enough.
_PHRASES: dict[str, tuple[str, ...]] = {
    "injection": (
        "ignore previous", "ignore all previous", "ignore your previous", "ignore the previous", "ignore all prior",
        "ignore your instructions", "ignore all instructions", "ignore the above", "ignore everything above",
        "disregard your", "disregard previous", "disregard all", "forget your instructions",
        "forget all previous", "system prompt", "your prompt", "your instructions", "initial instructions",
        "you are now", "pretend you are", "pretend to be", "act as if", "jailbreak", "dan mode", "developer mode",
        "do anything now", "no restrictions", "without restrictions", "unfiltered", "reveal your",
        "print your instructions", "show me your prompt", "repeat the text above", "repeat the words above",
        "environment variables", "env vars", "api key", "api keys", "secret key", "your token", "bot token",
        "signing secret", "admin password", "sudo",
    ),
    "wellbeing": (
        "bullying", "bullied", "bully", "harassment", "harassed", "harassing", "discrimination",
        "discriminated", "mental health", "burnout", "burnt out", "burned out", "depressed", "depression",
        "anxiety", "panic attack", "suicidal", "self harm", "kill myself", "abusive", "toxic boss",
        "crying", "overwhelmed", "stressed out",
    ),
    "hr": (
        "annual leave", "holiday allowance", "holidays left", "leave left", "leave balance", "book leave",
        "book a holiday", "sick leave", "sick day", "sick days", "sick pay", "call in sick", "maternity",
        "paternity", "parental leave", "compassionate leave", "payroll", "payslip", "pay slip", "my pay",
        "pay rise", "my salary", "salaries of", "everyone salary", "pension", "expenses claim",
        "expense claim", "my expenses", "submit expenses", "bank details", "tax code", "p60", "p45",
        "contract of employment", "notice period", "health insurance", "employee benefits", "benefits portal",
        "benefits enrolment", "childcare", "flexible working request", "hr policy", "performance review",
        "disciplinary", "grievance", "resign", "resignation",
    ),
    "it": (
        "password", "passwords", "locked out", "log in", "login", "logon", "sign in", "laptop", "printer",
        "wifi", "wi fi", "vpn", "outlook", "mailbox", "docking station", "keyboard", "mouse", "monitor cable",
        "second screen", "helpdesk", "help desk", "service desk", "it ticket", "raise a ticket", "log a ticket",
        "install software", "admin rights", "two factor", "2fa", "mfa", "authenticator", "phone charger",
        "teams keeps crashing", "slack is down", "my account", "new phone",
    ),
    "offtopic": (
        "investment portfolio", "my investments", "stock market", "share price", "shares in", "crypto",
        "bitcoin", "risk of rain", "chance of rain", "weather forecast", "raid the fridge", "raid boss",
        "football", "premier league", "recipe", "recipes", "train times", "bus times", "book me a",
        "book a flight", "book a train", "book a taxi", "book the boardroom", "book a room",
        "meeting room", "household budget", "personal budget", "my mortgage", "my bills", "translate into",
        "translation", "into french", "into spanish", "into german", "my son", "my daughter", "my kids", "my wife",
        "my husband", "my girlfriend", "my boyfriend", "gcse", "gcses", "my homework",
    ),
    "abuse": (
        "fuck", "fucking", "shit", "shite", "bullshit", "crap bot", "useless bot", "stupid bot",
        "dumb bot", "idiot", "moron", "you suck", "shut up", "piss off", "bastard", "wanker", "twat",
        "screw you",
    ),
}  # fmt: skip

_INDEX: dict[tuple[str, ...], str] = {tuple(p.split()): reason for reason, ps in _PHRASES.items() for p in ps}
# For each first word of a phrase, the lengths of the phrases that start with it.
_SIZES: dict[str, tuple[int, ...]] = {}
for _key in _INDEX:
    _SIZES[_key[0]] = tuple(sorted({*_SIZES.get(_key[0], ()), len(_key)}))
# Order of precedence when a message gives several reasons.
_ORDER = ("injection", "wellbeing", "abuse", "it", "hr", "offtopic")

# Common words of other languages that English never uses (accents kept: they are a signal too).
_FOREIGN = frozenset(
    """
    qué que cómo cuál cuáles dónde por qué porque para una uno unos unas los las del pero
    también hola gracias necesito puedo quiero está están mis tus sus muy más
    proyecto proyectos riesgo riesgos gestión oficina es un el de la et le il
    quoi c'est je j'ai tu vous nous ils elles une des les au aux avec sans mais aussi bonjour
    merci pourquoi comment quel quelle quels où dans sur très projet projets risque risques gestion
    ist ein eine einen der das dem und nicht ich wir ihr sie ohne aber auch hallo
    danke warum wie welche welcher wo sehr mehr macht projekt projekte risiko risiken koordinator
    leiter che chi cosa perché sono della delle degli nel nella senza ciao grazie progetto
    progetti rischio rischi você não muito obrigado projeto projetos risco riscos een het ik jij wij
    niet maar ook waarom welke
    """.split()
)
_NON_LATIN = re.compile(
    r"[\u0370-\u03ff\u0400-\u04ff\u0590-\u06ff\u0900-\u097f\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]"
)
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def reason_in(words: tuple[str, ...], skip: frozenset[int] = frozenset()) -> str:
    """The reason the words (from :func:`knowledge.text.tokens`) give for being out of scope, or "".
    Phrases that overlap the positions in ``skip`` (a knowledge entry's name) do not count."""
    found: set[str] = set()
    for i, word in enumerate(words):
        for n in _SIZES.get(word, ()):
            reason = _INDEX.get(words[i : i + n])
            if reason is not None and skip.isdisjoint(range(i, i + n)):
                found.add(reason)
    return next((r for r in _ORDER if r in found), "")


@lru_cache(maxsize=16384)
def foreign(text: str) -> bool:
    """Whether a message is written in another language (English only, for now)."""
    return _foreign(text)


def _foreign(text: str) -> bool:
    if not text.isascii():
        letters = [c for c in text if c.isalpha()]
        if letters and sum(bool(_NON_LATIN.match(c)) for c in letters) / len(letters) > 0.3:
            return True
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < 2 or _FOREIGN.isdisjoint(words):
        return False
    foreign = sum(w in _FOREIGN for w in words)
    return foreign >= 2 and foreign / len(words) >= 0.3
