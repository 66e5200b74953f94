"""Pydantic models of the knowledge base.

The YAML files under ``knowledge/data`` are lists of these entries. Every entry names the
sources its facts come from; the text itself is written in our own words.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# The five levels of the APM Competence Framework (2nd ed.) rating scale, kept distinct: aware
# (knows of it), practised (applies it under supervision), competent (applies it alone in simple
# situations), proficient (complex situations, supervises others), expert (recognised by senior
# peers, develops new practice).
Level = Literal["aware", "practised", "competent", "proficient", "expert"]
LEVELS: tuple[Level, ...] = ("aware", "practised", "competent", "proficient", "expert")

# The themes that group the challenge questions of the risk register; other artefacts
# choose their own themes.
RISK_THEMES = ("identification", "evaluation", "ownership", "response", "review")


class Strict(BaseModel):
    # Schemas are built on first validation, not on import: a run that reads the knowledge base
    # from its snapshot (bot/snapshot.py) never validates, and starts faster for it.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Entry(Strict):
    """Fields that every entity of the knowledge base carries."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=2)
    aliases: list[str] = Field(default_factory=list)
    # Questions as people type them in chat that this entry answers: the ranking reads them
    # beside the name and keywords, so that a question phrased like one of them finds the entry.
    asked: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)


class Function(Entry):
    """A PMO function (a functional area, such as risk management) and its services."""

    definition: str = Field(min_length=20)
    services: list[str] = Field(min_length=5)
    roles: list[str] = Field(min_length=1)
    artefacts: list[str] = Field(default_factory=list)
    # The artefact that a question about this function's "register" or "log" most likely means.
    primary_artefact: str | None = None


class Competency(Strict):
    function: str
    level: Level
    note: str = Field(min_length=5)


class Development(Strict):
    # Roles people usually move into this one from, and on to from it (both role ids).
    coming_from: list[str] = Field(default_factory=list)
    next_roles: list[str] = Field(default_factory=list)
    # Where the path leads beyond the roles the knowledge base describes ("Transformation Director").
    beyond: list[str] = Field(default_factory=list)
    steps: list[str] = Field(min_length=2)
    credentials: list[str] = Field(default_factory=list)


class Role(Entry):
    profile: str = Field(min_length=20)
    # What the role does in an ordinary week: tasks, not function names.
    day_to_day: list[str] = Field(default_factory=list)
    competencies: list[Competency] = Field(min_length=8)
    behaviours: list[str] = Field(default_factory=list)
    development: Development


class QuestionGroup(Strict):
    theme: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    questions: list[str] = Field(min_length=1)


class ArtefactField(Strict):
    name: str
    required: bool = True
    note: str = ""


class Artefact(Entry):
    function: str
    purpose: str = Field(min_length=20)
    good_looks_like: list[str] = Field(min_length=3)
    fields: list[ArtefactField] = Field(min_length=3)
    defects: list[str] = Field(min_length=3)
    questions: list[QuestionGroup] = Field(min_length=1)
    # Questions for PMO managers and heads of PMO about the process behind the artefact.
    manager_questions: list[QuestionGroup] = Field(default_factory=list)

    @property
    def question_count(self) -> int:
        return sum(len(g.questions) for g in self.questions)

    @property
    def manager_question_count(self) -> int:
        return sum(len(g.questions) for g in self.manager_questions)


class FocusArea(Strict):
    function: str
    why: str = Field(min_length=10)
    for_managers: bool = False


class ScarceSkill(Strict):
    function: str
    share_of_practitioners: float = Field(gt=0, lt=1)
    why: str = Field(min_length=10)


class Facts(Strict):
    """Headline facts that the development advice stands on."""

    core_competencies: list[FocusArea] = Field(min_length=3)
    scarce_skills: list[ScarceSkill] = Field(min_length=1)
    growth_rule: str = Field(min_length=10)
    # Roles people start a PMO career in: their advice builds the core before anything scarce.
    starter_roles: list[str] = Field(default_factory=list)
    sources: list[str] = Field(min_length=1)


class PulseItem(Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    function: str
    text: str = Field(min_length=10)


class PulseBank(Strict):
    scale: dict[int, str]
    not_used_label: str
    comment_prompt: str
    items: list[PulseItem] = Field(min_length=1)
    sources: list[str] = Field(min_length=1)


class TopicSection(Strict):
    """A section of topics (concepts, situations, careers...): one YAML file declares one."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=3)
    # What the section's entries are, in a few words ("a PMO term explained").
    about: str = Field(min_length=5)


class Topic(Entry):
    """One short answer: a concept, a situation, a career question, a pulse survey question...

    ``aliases`` are phrases that name the topic outright ("residual risk"); ``keywords`` are the
    words and phrases people use when they ask about it without naming it, which the retrieval
    ranking reads beside the answer's own words.
    """

    keywords: list[str] = Field(default_factory=list)
    answer: str = Field(min_length=30, max_length=800)
    example: str = ""
    points: list[str] = Field(default_factory=list, max_length=8)
    # Situations: the artefact concerned, the challenge questions to ask (each one verbatim from
    # that artefact's questions or manager questions), and why it matters.
    artefact: str | None = None
    ask: list[str] = Field(default_factory=list)
    why: str = ""
    # Comparable facts ("Level", "Best for"...): two topics that both have facts compare as a table.
    facts: dict[str, str] = Field(default_factory=dict)
    # Entries to offer next: "topic:ID", "function:ID", "role:ID" or "artefact:ID".
    related: list[str] = Field(default_factory=list, max_length=6)
    # Terms this topic defines: a message that says one of them and nothing else of substance
    # ("what does the PMO do?", "RAG?") is answered with this topic.
    defines: list[str] = Field(default_factory=list)
