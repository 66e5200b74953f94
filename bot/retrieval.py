"""Lexical retrieval over every knowledge entry, for questions no specific intent claims.

Each entry (topic, function, role, artefact) is one document with four fields, weighted: its
name and aliases, its keywords, the questions people ask that it answers, and its text (answer,
example, points, services, profile...). A question is ranked against them with BM25 over stemmed
words, plus a bonus for each pair of adjacent words that also stands together in a name, alias,
keyword or asked question ("residual risk"); the best few are then re-ranked by how closely the
question reads like one of their names or asked questions (rapidfuzz).

Beside the ranking, :meth:`Index.search` says how much of the question the best entry explains
(``coverage``: the share of the question's weight, by inverse document frequency, that the entry
matches). Words the knowledge base never uses weigh the most, so "is there a risk of rain
tomorrow" explains little, whatever it says about risk.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter

from rapidfuzz import fuzz, process

from bot.lexicon import NEUTRAL_WORDS, STOPWORDS
from knowledge.base import KINDS, Kind, KnowledgeBase
from knowledge.models import Entry
from knowledge.text import normalise, tokens

NAME_WEIGHT = 3.0
KEYWORD_WEIGHT = 2.0
ASKED_WEIGHT = 1.5  # per word of a question the entry lists as one it answers
TEXT_WEIGHT = 1.0
PAIR_WEIGHT = 1.5  # per adjacent pair of question words found together in a name or keyword
NAMED_BONUS = 4.0
# How many of the best entries are re-ranked by likeness to their phrasings, and by how much.
RERANK_DEPTH = 6
RERANK_WEIGHT = 10.0  # for an entry whose name or alias the question says outright
K1 = 1.2
B = 0.5
# Words a question may carry that say nothing about which entry it wants.
# "Own" is grammar to the router but the point of "who should own benefits?".
_IGNORED = (STOPWORDS - {"own"}) | frozenset(
    "bot please thanks want need know mean tell explain explained between vs versus".split()
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to meet "risks" and "risk", "scoring" and "score"."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("sses"):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ing") and len(word) > 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) > 5:
        word = word[:-2]
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


# Everyday words, and the PMO's own, that the knowledge base may not use: they do not count against
# an entry's coverage of a question (unlike "rain" or "fridge").
HARMLESS = frozenset(stem(w) for w in NEUTRAL_WORDS)


def terms(words: Iterable[str]) -> list[str]:
    """The stems of the words that carry meaning, in order."""
    return [stem(w) for w in words if w not in _IGNORED and len(w) > 1]


@dataclass(frozen=True)
class Hit:
    kind: Kind
    id: str
    score: float
    # Of the question's words that the knowledge base uses (everyday words aside), the share of
    # their weight (inverse document frequency) this entry matches, 0-1.
    coverage: float
    matched: frozenset[str]  # the question's stems it matches
    anchors: int  # matched stems, everyday words aside, that are in its name, aliases or keywords
    unseen: float  # share of the question's words (everyday words aside) the knowledge base never uses


@dataclass
class _Doc:
    kind: Kind
    id: str
    weights: dict[str, float]  # stem -> weighted frequency
    strong: frozenset[str]  # stems of the name, aliases and keywords
    pairs: frozenset[tuple[str, str]]
    phrasings: tuple[str, ...]  # its name, aliases and the questions it answers, normalised


class Index:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.docs = [self._document(kind, entry) for kind in KINDS for entry in kb.entries(kind).values()]
        self.position = {(doc.kind, doc.id): n for n, doc in enumerate(self.docs)}
        count = len(self.docs)
        frequency: Counter[str] = Counter()
        for doc in self.docs:
            frequency.update(doc.weights.keys())
        self.idf = {t: math.log(1 + (count - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
        lengths = [sum(d.weights.values()) for d in self.docs]
        average = sum(lengths) / max(1, count)
        # Each posting carries its BM25 weight (the term's inverse document frequency times its
        # saturated frequency in the document), which depends on nothing the question says.
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.pair_postings: dict[tuple[str, str], list[int]] = defaultdict(list)
        for n, (doc, length) in enumerate(zip(self.docs, lengths, strict=True)):
            for term, tf in doc.weights.items():
                norm = tf * (K1 + 1) / (tf + K1 * (1 - B + B * length / average))
                self.postings[term].append((n, self.idf[term] * norm))
            for pair in doc.pairs:
                self.pair_postings[pair].append(n)
        self._by_initial: dict[str, list[str]] = defaultdict(list)
        for term in sorted(self.idf):
            if len(term) >= 5:
                self._by_initial[term[0]].append(term)
        # Every word the knowledge base writes: a real word, never to be "corrected" into another.
        # (Not the words of the questions it answers: those are written as people type, typos and
        # all, and "managment" there must not stop "pmo managment" being read as management.)
        self.words = frozenset(
            word
            for kind in KINDS
            for entry in kb.entries(kind).values()
            for phrase in (*_phrases(entry, "strong"), *_phrases(entry, "text"))
            for word in tokens(phrase)
        )
        # The words of names, aliases and keywords.
        self.vocabulary = frozenset(
            word for kind in KINDS for entry in kb.entries(kind).values() for word in _strong_words(entry)
        )

    @staticmethod
    def _document(kind: Kind, entry: Entry) -> _Doc:
        weights: dict[str, float] = defaultdict(float)
        strong: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        names = _names(entry)
        for phrase in _phrases(entry, "strong"):
            stems = terms(tokens(phrase))
            pairs.update(itertools.pairwise(stems))
            strong.update(stems)
            for s in stems:
                weights[s] += NAME_WEIGHT if phrase in names else KEYWORD_WEIGHT
        for phrase in _phrases(entry, "asked"):
            stems = terms(tokens(phrase))
            pairs.update(itertools.pairwise(stems))
            strong.update(stems)
            for s in stems:
                weights[s] += ASKED_WEIGHT
        for phrase in _phrases(entry, "text"):
            for s in terms(tokens(phrase)):
                weights[s] += TEXT_WEIGHT
        phrasings = tuple(dict.fromkeys(normalise(p) for p in (*names, *_phrases(entry, "asked"))))
        return _Doc(kind, entry.id, dict(weights), frozenset(strong), frozenset(pairs), phrasings)

    @lru_cache(maxsize=65536)  # noqa: B019 - one index per process, built once
    def _fix(self, term: str) -> str:
        """A misspelt word's stem, corrected to a stem the knowledge base uses when one is close."""
        if term in self.idf or term in HARMLESS or len(term) < 6:
            return term
        match = process.extractOne(
            term, self._by_initial.get(term[0], ()), scorer=fuzz.ratio, score_cutoff=88
        )
        return str(match[0]) if match is not None else term

    def weight(self, word: str) -> float:
        """How much a word says about which entry is meant (its stem's inverse document frequency)."""
        return self.idf.get(stem(word), 0.0)

    @lru_cache(maxsize=16384)  # noqa: B019 - one index per process, built once
    def search(
        self, words: tuple[str, ...], limit: int = 3, named: tuple[tuple[Kind, str], ...] = ()
    ) -> tuple[Hit, ...]:
        """The entries that best match the question's words, best first; ``named`` entries (the
        question says their name or an alias outright) come first among equals."""
        query = tuple(dict.fromkeys(self._fix(t) for t in terms(words)))
        if not query:
            return ()
        # Everyday words count only when the question has nothing else ("can I change my answer?").
        carrying = [t for t in query if t not in HARMLESS] or list(query)
        known = [t for t in carrying if t in self.idf]
        total = sum(self.idf[t] for t in known) or 1.0
        unseen = 1 - len(known) / len(carrying)
        scores: defaultdict[int, float] = defaultdict(float)
        for t in query:
            for n, weight in self.postings.get(t, ()):
                scores[n] += weight
        for pair in itertools.pairwise(query):
            for n in self.pair_postings.get(pair, ()):
                scores[n] += PAIR_WEIGHT
        for key in named:
            n = self.position.get(key, -1)
            if n in scores:
                scores[n] += NAMED_BONUS
        # The best few by BM25 are re-ranked by how closely the question reads like one of their
        # names or of the questions they answer (rapidfuzz, word order aside). Ties go to the
        # entry listed first (functions, roles, artefacts, then topics).
        # (The likeness orders the entries; their scores, which the router's thresholds read, stay
        # the match's own.)
        said = " ".join(words)
        ranked = {}
        # (nlargest is stable: among equal scores, the entry met first in the postings stays first.)
        leaders = heapq.nlargest(RERANK_DEPTH, scores.items(), key=_SECOND)
        for n, score in leaders:
            if score < leaders[0][1] - RERANK_WEIGHT:
                ranked[n] = score  # too far behind for any likeness to lift it past the leader
                continue
            alike = process.extractOne(said, self.docs[n].phrasings, scorer=fuzz.token_sort_ratio)
            ranked[n] = score + RERANK_WEIGHT * (alike[1] / 100.0 if alike is not None else 0.0)
        best = [n for n, _ in heapq.nlargest(limit, ranked.items(), key=_SECOND)]
        hits = []
        for n in best:
            doc = self.docs[n]
            got = frozenset(t for t in query if t in doc.weights)
            coverage = sum(self.idf[t] for t in known if t in got) / total
            anchors = sum(1 for t in carrying if t in got and t in doc.strong)
            hits.append(
                Hit(
                    doc.kind,
                    doc.id,
                    round(scores[n], 4),
                    round(coverage, 4),
                    got,
                    anchors,
                    round(unseen, 4),
                )
            )
        return tuple(hits)


_SECOND = itemgetter(1)


def _names(entry: Entry) -> set[str]:
    return {entry.name, *entry.aliases, entry.id.replace("_", " ")}


def _strong_words(entry: Entry) -> set[str]:
    return {w for phrase in _phrases(entry, "strong") for w in tokens(phrase) if w not in STOPWORDS}


def _phrases(entry: Entry, field: str) -> list[str]:
    """The text of an entry, by field: "strong" (names, aliases, keywords), "asked" (questions it
    answers) or "text"."""
    if field == "strong":
        return [*_names(entry), *getattr(entry, "keywords", [])]
    if field == "asked":
        return list(getattr(entry, "asked", []))
    out: list[str] = []
    for attr in ("answer", "example", "why", "definition", "profile", "purpose"):
        value = getattr(entry, attr, None)
        if isinstance(value, str):
            out.append(value)
    for attr in ("points", "ask", "services", "day_to_day", "good_looks_like", "defects", "behaviours"):
        out.extend(getattr(entry, attr, None) or [])
    facts = getattr(entry, "facts", None) or {}
    out.extend(facts.values())
    return out
