"""The intent router: from a chat message to an intent, its slot and a confidence.

How a message is read:

1. It is normalised (mentions, emoji and punctuation dropped, US spellings folded to UK).
2. Misspelt words are corrected towards the bot's vocabulary with rapidfuzz.
3. Names of functions, roles and artefacts are found among its word n-grams (aliases included).
4. Every intent is scored: its cue phrases found in the message, plus a bonus when the message
   names an entity the intent takes as its slot, minus a penalty for each content word that
   nothing explains (that is what keeps "is there a risk of rain tomorrow" out of the PMO).
5. The best candidate wins only above a threshold and with a margin over the runner-up;
   otherwise the answer is ``unknown`` with up to three "did you mean" suggestions.

Everything is built once from the knowledge base; routing itself does no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz, process

from bot.lexicon import (
    CUES,
    DEFAULT_INTENT,
    DOMAIN_WORDS,
    FILLERS,
    FOLLOW_UP_OPENERS,
    NEUTRAL_WORDS,
    SLOT_KIND,
    SLOT_REQUIRED,
    STOPWORDS,
    SUBCOMMANDS,
    TARGET_MARKERS,
    WEAK_ALIASES,
)
from bot.text import US_FORMS, fold_word, strip_chat_noise, tokens
from knowledge.base import Kind, KnowledgeBase

ACCEPT = 0.75  # lowest score an intent needs to be chosen
MARGIN = 0.15  # lead it needs over the runner-up
UNEXPLAINED_PENALTY = 0.45
CUE_ONLY_PENALTY = 0.35
CLEAR_SIGNAL_PENALTY = 0.2
CLEAR_CUE = 0.8  # a cue this strong, with a named subject, makes a message clearly about PMO work
MAX_COUNTED_WITH_CLEAR_SIGNAL = 3
# For an intent without a slot when the message names a function, role or artefact; "help" pays
# more, since "can you help me with the risk register?" asks about the register.
SLOTLESS_WITH_ENTITY_PENALTY = (0.3, 0.6)
ENTITY_BONUS_DEFAULT = 0.8
ENTITY_BONUS_OTHER = 0.5
MAX_CUE = 2.0
FURTHER_CUE = 0.3
RESULTS_OVER_SURVEY = 0.4  # weight of each cue after an intent's strongest

_SLASH_PMO = re.compile(r"^\s*/pmo\b", re.IGNORECASE)


@dataclass(frozen=True)
class Entity:
    kind: Kind
    id: str
    start: int
    end: int  # exclusive token index
    weak: bool = False  # named by an ordinary word ("benefits"), see WEAK_ALIASES


@dataclass(frozen=True)
class Candidate:
    intent: str
    slots: dict[str, str]
    score: float

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.intent, tuple(sorted(self.slots.items()))


@dataclass(frozen=True)
class RouteResult:
    text: str
    intent: str
    slots: dict[str, str]
    confidence: float
    candidates: tuple[Candidate, ...] = ()
    suggestions: tuple[Candidate, ...] = ()
    follow_up: bool = False
    # For development advice: the role named is where the person wants to go ("become a PMO
    # manager"), not where they are.
    aim: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "intent": self.intent,
            "slots": dict(self.slots),
            "confidence": round(self.confidence, 3),
        }


@dataclass
class _Reading:
    """What the router learned about one message."""

    words: tuple[str, ...]
    entities: list[Entity]
    cues: dict[str, float]
    unexplained: list[str]
    follow_up_opener: int  # how many leading words are a follow-up opener ("what about"), or 0
    command: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Router:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.aliases = kb.alias_index()
        # For each first word of a name, the most words a name starting with it has.
        self._longest_from: dict[str, int] = {}
        for phrase in self.aliases:
            first, size = phrase.split()[0], len(phrase.split())
            self._longest_from[first] = max(size, self._longest_from.get(first, 0))
        self._cue_index = self._build_cues()
        # Words worth correcting a typo towards: those of names and cue phrases, and the US forms
        # that normalisation folds ("progam" -> "program" -> "programme"). Ordinary words are not
        # targets, or "world" would become "would" and "starter" "started".
        targets: set[str] = set(US_FORMS)
        for phrase in self.aliases:
            targets.update(phrase.split())
        cue_words = {w for phrases in CUES.values() for phrase, _ in phrases for w in phrase.split()}
        targets |= cue_words
        self._explaining = frozenset(cue_words) | DOMAIN_WORDS | STOPWORDS | NEUTRAL_WORDS
        self.vocab = frozenset(targets) | self._explaining
        self._vocab_list = sorted(w for w in targets if len(w) >= 3)
        self._short_fixes = _short_word_fixes(self._vocab_list)
        self._by_initial: dict[str, list[str]] = {}
        for word in self._vocab_list:
            self._by_initial.setdefault(word[0], []).append(word)
        self._correct = lru_cache(maxsize=65536)(self._correct_uncached)
        self._alias_list = sorted(self.aliases)
        self._phrases_by_kind: dict[str, list[str]] = {}
        for phrase, (kind, _) in sorted(self.aliases.items()):
            self._phrases_by_kind.setdefault(kind, []).append(phrase)

    # -- building -------------------------------------------------------------------------

    @staticmethod
    def _build_cues() -> dict[str, list[tuple[tuple[str, ...], str, float]]]:
        index: dict[str, list[tuple[tuple[str, ...], str, float]]] = {}
        for intent, phrases in CUES.items():
            for phrase, weight in phrases:
                words = tuple(phrase.split())
                index.setdefault(words[0], []).append((words, intent, weight))
        for entries in index.values():
            entries.sort(key=lambda e: -len(e[0]))
        return index

    # -- reading a message ----------------------------------------------------------------

    def _correct_uncached(self, word: str) -> str:
        """The vocabulary word a misspelt word most likely meant, or the word itself."""
        if word in self.vocab or word.isdigit() or len(word) < 3:
            return word
        if len(word) <= 5:
            # Short words are corrected only for swapped letters ("waht") or one dropped letter
            # ("chek", "helo"): one changed letter in five is as likely another word ("rain" is
            # not "raid", "stock" not "stuck").
            return fold_word(self._short_fixes.get(word, word))
        cutoff = 82.0
        # Most typos keep the first letter (without that rule "sport" would become "report"),
        # or swap the first two; looking only there also keeps the search short.
        pool = self._by_initial.get(word[0], [])
        if word[1] != word[0]:
            pool = pool + [w for w in self._by_initial.get(word[1], []) if w[:2] == word[1::-1][:2]]
        match = process.extractOne(word, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
        return fold_word(str(match[0])) if match is not None else word

    def _find_entities(self, words: Sequence[str]) -> list[Entity]:
        """Names of functions, roles and artefacts among the words, longest first, not overlapping."""
        found: list[Entity] = []
        taken = [False] * len(words)
        spans = []
        for start, word in enumerate(words):
            longest = max(self._longest_from.get(word, 0), self._longest_from.get(word[:-1], 0))
            spans += [(size, start) for size in range(1, min(longest, len(words) - start) + 1)]
        spans.sort(key=lambda span: (-span[0], span[1]))
        for size, start in spans:
            if any(taken[start : start + size]):
                continue
            span = words[start : start + size]
            hit = self.aliases.get(" ".join(span))
            if hit is None and span[-1].endswith("s") and len(span[-1]) > 3:
                hit = self.aliases.get(" ".join((*span[:-1], span[-1][:-1])))
            if hit is None:
                continue
            weak = size == 1 and span[0] in WEAK_ALIASES
            found.append(Entity(hit[0], hit[1], start, start + size, weak))
            for i in range(start, start + size):
                taken[i] = True
        found.sort(key=lambda e: e.start)
        return found

    def _find_cues(self, words: Sequence[str], covered: set[int]) -> tuple[dict[str, float], set[int]]:
        """Cue phrases found in the message, scored per intent.

        At each position only the longest phrase of an intent counts ("help me" is not also
        "help"). An intent's score is its strongest cue plus a little for each further one, so
        that several hints add up without outweighing one clear signal.
        """
        found: dict[str, list[float]] = {}
        used: set[int] = set()
        seen: set[tuple[str, tuple[str, ...]]] = set()
        taken: dict[str, set[int]] = {}  # positions already used by a cue of each intent
        for i, word in enumerate(words):
            for phrase, intent, weight in self._cue_index.get(word, ()):
                n = len(phrase)
                mine = taken.setdefault(intent, set())
                if i in mine or tuple(words[i : i + n]) != phrase:
                    continue
                if n == 1 and i in covered:
                    continue  # a word inside an entity's name ("quality" in "quality register") is no cue
                mine.update(range(i, i + n))
                used.update(range(i, i + n))
                if (intent, phrase) not in seen:
                    seen.add((intent, phrase))
                    found.setdefault(intent, []).append(weight)
        scores = {}
        for intent, weights in found.items():
            weights.sort(reverse=True)
            scores[intent] = min(MAX_CUE, weights[0] + FURTHER_CUE * sum(weights[1:]))
        if scores.get("digest", 0.0) >= 1.0 and "pulse_survey" in scores:
            # "Pulse" and "survey" name the topic of both; a word about results makes it the digest.
            scores["pulse_survey"] -= RESULTS_OVER_SURVEY
        return scores, used

    def read(self, text: str) -> _Reading:
        raw = strip_chat_noise(text)
        words = tuple(self._correct(w) for w in tokens(text))
        command = None
        if _SLASH_PMO.match(raw) and words and words[0] == "pmo":
            words = words[1:]
            if words and words[0] in SUBCOMMANDS:
                command = SUBCOMMANDS[words[0]]
                words = words[1:]
        elif len(words) >= 2 and words[:2] == ("pmo", "bot"):
            words = words[2:]
        # Fillers split cue phrases apart ("what does the PMO actually do for ...").
        words = tuple(w for w in words if w not in FILLERS)
        entities = self._find_entities(words)
        kind = SLOT_KIND.get(command or "")
        if kind is not None and words and not any(e.kind == kind for e in entities):
            # "/pmo role director": the sub-command says which kind of entity follows.
            near = self._nearest_of_kind(" ".join(words), kind)
            if near is not None:
                entities = [Entity(kind, near, 0, len(words))]
        covered = {i for e in entities for i in range(e.start, e.end)}
        cues, cue_positions = self._find_cues(words, covered)
        unexplained = [
            w
            for i, w in enumerate(words)
            if i not in covered and i not in cue_positions and w not in self._explaining and not w.isdigit()
        ]
        opener = max((len(o) for o in FOLLOW_UP_OPENERS if tuple(words[: len(o)]) == o), default=0)
        return _Reading(words, entities, cues, unexplained, opener, command)

    def _nearest_of_kind(self, text: str, kind: str) -> str | None:
        """The entity of a kind that the words after a sub-command name ("/pmo role manager")."""
        # In a PMO, "manager" is the PMO manager and "portfolio" the portfolio manager.
        for variant in (text, f"pmo {text}", f"{text} manager", f"{text} officer", f"{text} management"):
            hit = self.aliases.get(variant)
            if hit is not None and hit[0] == kind:
                return hit[1]
        phrases = self._phrases_by_kind.get(kind, [])
        match = process.extractOne(text, phrases, scorer=fuzz.WRatio, score_cutoff=85)
        return self.aliases[str(match[0])][1] if match is not None else None

    # -- scoring --------------------------------------------------------------------------

    def _slot_entity(self, intent: str, reading: _Reading) -> Entity | None:
        kind = SLOT_KIND.get(intent)
        if kind is None:
            return None
        matches = [e for e in reading.entities if e.kind == kind]
        if not matches and kind == "artefact":
            # "questions about risk management" means the function's main register.
            for e in reading.entities:
                if e.kind == "function" and self.kb.functions[e.id].primary_artefact:
                    primary = self.kb.functions[e.id].primary_artefact
                    assert primary is not None
                    matches.append(Entity("artefact", primary, e.start, e.end))
        if not matches:
            return None
        if intent == "development_advice":
            for e in matches:
                before = [
                    w for w in reading.words[max(0, e.start - 3) : e.start] if w not in ("a", "an", "the")
                ]
                if before and before[-1] in TARGET_MARKERS:
                    return e
            return matches[-1]
        return matches[0]

    def _score(self, reading: _Reading) -> list[Candidate]:
        unexplained = len(reading.unexplained)
        has_entity = bool(reading.entities)
        candidates: list[Candidate] = []
        for intent in CUES:
            cue = reading.cues.get(intent, 0.0)
            entity = self._slot_entity(intent, reading)
            if intent in SLOT_REQUIRED and entity is None:
                continue
            weak = entity is not None and entity.weak and unexplained > 0
            score = cue - self._penalty(cue, entity is not None, weak, unexplained)
            slots: dict[str, str] = {}
            if entity is not None:
                slots[entity.kind] = entity.id
                score += self._entity_bonus(intent, entity, reading, weak)
            elif has_entity and not self._takes_topic(intent, reading):
                score -= SLOTLESS_WITH_ENTITY_PENALTY[intent == "help"]
            if reading.command == intent:
                score += 1.0
            candidates.append(Candidate(intent, slots, round(score, 4)))
        candidates.sort(key=lambda c: -c.score)
        return candidates

    @staticmethod
    def _takes_topic(intent: str, reading: _Reading) -> bool:
        """Whether a slotless intent reads naturally with a named function or role.

        Development advice does ("where should I develop in risk management?"), and so do the
        survey and the digest ("did reporting get a low score in the pulse?").
        """
        if intent == "development_advice":
            return True
        return intent in ("pulse_survey", "digest") and all(e.kind == "function" for e in reading.entities)

    @staticmethod
    def _penalty(cue: float, names_its_subject: bool, weak: bool, unexplained: int) -> float:
        """What the words the bot cannot place cost an answer.

        Less when the message carries a clear cue for the answer, and least when it also names
        what it is about: a long message with a clear question about a named thing is in the
        PMO's world, whatever context it carries ("we run 12 projects and ...").
        """
        if weak:
            return UNEXPLAINED_PENALTY * unexplained
        if cue >= CLEAR_CUE and names_its_subject:
            return CLEAR_SIGNAL_PENALTY * min(unexplained, MAX_COUNTED_WITH_CLEAR_SIGNAL)
        if cue >= 1.0:
            return CUE_ONLY_PENALTY * unexplained
        return UNEXPLAINED_PENALTY * unexplained

    @staticmethod
    def _entity_bonus(intent: str, entity: Entity, reading: _Reading, weak: bool) -> float:
        kinds = {e.kind for e in reading.entities}
        if weak:
            # "the benefits of yoga": an ordinary word among words the bot cannot place is weak
            # evidence, and none at all without a clear cue for the intent.
            return ENTITY_BONUS_OTHER if reading.cues.get(intent, 0.0) >= 1.0 else 0.0
        if DEFAULT_INTENT.get(entity.kind) != intent or entity.kind not in kinds:
            return ENTITY_BONUS_OTHER
        if entity.id == "project_manager" and "artefact" in kinds:
            # Beside an artefact, the project manager is who to ask, not what is asked about.
            return ENTITY_BONUS_OTHER
        return ENTITY_BONUS_DEFAULT

    # -- the decision ---------------------------------------------------------------------

    def route(self, text: str, previous: RouteResult | None = None, suggest: bool = True) -> RouteResult:
        """Route one message; ``previous`` is the conversation's last turn, for follow-ups.

        ``suggest=False`` skips the "did you mean" search, which only a chat reply needs.
        """
        reading = self.read(text)
        if not reading.words:
            if not text.strip():
                return RouteResult(text, "unknown", {}, 0.0)
            # A bare mention ("@pmo-bot") or "/pmo" alone: say what the bot can do.
            intent = reading.command or "help"
            return RouteResult(text, intent, {}, 1.0)
        candidates = self._score(reading)
        follow = self._follow_up(reading, previous, candidates)
        if follow is not None:
            return RouteResult(
                text,
                follow.intent,
                follow.slots,
                _confidence(follow.score, 1.0),
                tuple(candidates[:5]),
                follow_up=True,
            )
        if reading.command is not None and reading.command in SLOT_REQUIRED:
            best_for_command = next((c for c in candidates if c.intent == reading.command), None)
            if best_for_command is not None and not reading.unexplained:
                return RouteResult(
                    text, best_for_command.intent, best_for_command.slots, 1.0, tuple(candidates[:5])
                )
        if not candidates:
            return self._unknown(text, reading, candidates, suggest)
        best = candidates[0]
        runner_up = next((c for c in candidates[1:] if c.key() != best.key()), None)
        lead = best.score - (runner_up.score if runner_up else 0.0)
        if best.score < ACCEPT or lead < MARGIN:
            return self._unknown(text, reading, candidates, suggest)
        aim = self._aims_at_role(best, reading)
        return RouteResult(
            text, best.intent, best.slots, _confidence(best.score, lead), tuple(candidates[:5]), aim=aim
        )

    def _aims_at_role(self, best: Candidate, reading: _Reading) -> bool:
        if best.intent != "development_advice" or "role" not in best.slots:
            return False
        entity = self._slot_entity("development_advice", reading)
        if entity is None:
            return False
        before = [
            w for w in reading.words[max(0, entity.start - 3) : entity.start] if w not in ("a", "an", "the")
        ]
        return bool(before) and before[-1] in TARGET_MARKERS

    def _follow_up(
        self, reading: _Reading, previous: RouteResult | None, candidates: list[Candidate]
    ) -> Candidate | None:
        """Keep the previous intent when a short turn only swaps its slot."""
        if previous is None or previous.intent not in SLOT_KIND or reading.command or reading.unexplained:
            return None
        if not reading.follow_up_opener and len(reading.words) > 4:
            return None
        skip = reading.follow_up_opener
        inside = {i - skip for e in reading.entities for i in range(e.start, e.end) if i >= skip}
        rest_cues, _ = self._find_cues(reading.words[skip:], inside)
        if max(rest_cues.values(), default=0.0) >= 1.0:
            return None
        entity = self._slot_entity(previous.intent, reading)
        if entity is not None:
            return Candidate(previous.intent, {entity.kind: entity.id}, ACCEPT + MARGIN)
        # "what about a manager?" after a role answer: the word names a role of the same kind.
        kind = SLOT_KIND[previous.intent]
        rest = " ".join(w for w in reading.words[skip:] if w not in STOPWORDS)
        near = self._nearest_of_kind(rest, kind) if rest else None
        return Candidate(previous.intent, {kind: near}, ACCEPT + MARGIN) if near else None

    def _unknown(
        self, text: str, reading: _Reading, candidates: list[Candidate], suggest: bool
    ) -> RouteResult:
        suggestions: list[Candidate] = []
        seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        for c in candidates:
            if c.score <= 0.2 or c.intent in ("smalltalk", "unknown") or c.key() in seen:
                continue
            seen.add(c.key())
            suggestions.append(c)
        if not suggestions and suggest:
            suggestions = self._near_entities(reading.words)
        return RouteResult(text, "unknown", {}, 0.0, tuple(candidates[:5]), tuple(suggestions[:3]))

    def _near_entities(self, words: Iterable[str]) -> list[Candidate]:
        """Entities whose names look like some words of the message, for "did you mean"."""
        text = " ".join(w for w in words if w not in STOPWORDS)
        if len(text) < 4:
            return []
        out: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        for phrase, score, _ in process.extract(
            text, self._alias_list, scorer=fuzz.partial_ratio, limit=8, score_cutoff=75
        ):
            if len(phrase) < 4:
                continue
            kind, entity_id = self.aliases[phrase]
            if (kind, entity_id) in seen:
                continue
            seen.add((kind, entity_id))
            out.append(Candidate(DEFAULT_INTENT[kind], {kind: entity_id}, round(score / 100.0, 3)))
        return out


def _short_word_fixes(vocab: Iterable[str]) -> dict[str, str]:
    """Misspellings of short vocabulary words: adjacent letters swapped, or one letter dropped."""
    fixes: dict[str, str] = {}
    ambiguous: set[str] = set()
    words = [w for w in vocab if 3 <= len(w) <= 6]
    for word in words:
        variants = set()
        if len(word) <= 5:
            variants |= {word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)}
        if len(word) >= 4:
            variants |= {word[:i] + word[i + 1 :] for i in range(1, len(word))}  # keep the first letter
        for variant in variants - {word}:
            if variant in fixes and fixes[variant] != word:
                ambiguous.add(variant)
            fixes[variant] = word
    known = set(words)
    return {k: v for k, v in fixes.items() if k not in ambiguous and k not in known and len(k) >= 3}


def _confidence(score: float, lead: float) -> float:
    """A 0-1 figure from the winning score and its lead over the runner-up."""
    base = min(1.0, max(0.0, score) / 1.8)
    sure = min(1.0, lead / 0.8)
    return round(0.5 * base + 0.5 * sure, 3)
