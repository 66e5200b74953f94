"""Loading, indexing and validating the knowledge base.

The built-in YAML lives in ``knowledge/data``. A folder named by ``PMO_KNOWLEDGE_DIR`` is read
after it: an entry there with the id of a built-in entry replaces it, any other entry is added.
Loading collects every problem it meets (with the file and the entry) instead of stopping at the
first, so that ``pmo-bot kb validate`` can list them all.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from knowledge.models import Artefact, Facts, Function, PulseBank, Role, Topic, TopicSection
from knowledge.text import normalise

DATA_DIR = Path(__file__).parent / "data"

Kind = Literal["function", "role", "artefact", "topic"]
KINDS: tuple[Kind, ...] = ("function", "role", "artefact", "topic")

# The ids that the interface contract fixes; the knowledge base must define each of them.
CONTRACT_IDS: dict[Kind, tuple[str, ...]] = {
    "function": (
        "governance", "reporting", "administration", "risk_management", "communications",
        "pmo_management", "configuration_management", "resource_management", "change_control",
        "financial_management", "information_management", "issue_management", "planning",
        "benefits_management", "quality_management", "stakeholder_management",
        "knowledge_management", "portfolio_management", "assurance", "training_and_development",
        "performance_management", "tools_and_methods",
    ),
    "role": (
        "pmo_director", "pmo_manager", "pmo_analyst", "pmo_coordinator", "project_support_officer",
        "project_manager", "programme_manager", "portfolio_manager", "resource_manager",
        "training_specialist",
    ),
    "artefact": (
        "risk_register", "issue_log", "raid_log", "change_log", "status_report", "schedule",
        "business_case", "benefits_register", "lessons_log", "dependency_register", "budget",
        "resource_plan", "stakeholder_register", "decision_log", "quality_register",
    ),
}  # fmt: skip

_SECTION_KIND: dict[str, Kind] = {
    "functions": "function",
    "roles": "role",
    "artefacts": "artefact",
    "topics": "topic",
}
_MODEL: dict[Kind, type[Function] | type[Role] | type[Artefact] | type[Topic]] = {
    "function": Function,
    "role": Role,
    "artefact": Artefact,
    "topic": Topic,
}
_SINGLE_MODEL: dict[str, type[Facts] | type[PulseBank]] = {"facts": Facts, "pulse": PulseBank}
# Keys of KnowledgeBase.stats() that a topic section's id may not take.
_RESERVED_STATS = frozenset(
    {
        "functions",
        "services",
        "roles",
        "competencies",
        "artefacts",
        "challenge_questions",
        "aliases",
        "topics",
    }
)

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    entry: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.entry}: {self.message}"


class KnowledgeBaseError(Exception):
    """The knowledge base could not be loaded; ``problems`` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        first = problems[0] if problems else "unknown problem"
        more = f" (and {len(problems) - 1} more; run 'pmo-bot kb validate')" if len(problems) > 1 else ""
        super().__init__(f"knowledge base is invalid: {first}{more}")


@dataclass
class KnowledgeBase:
    functions: dict[str, Function] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    artefacts: dict[str, Artefact] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    sections: dict[str, TopicSection] = field(default_factory=dict)
    # topic id -> the id of its section
    topic_section: dict[str, str] = field(default_factory=dict)
    facts: Facts | None = None
    pulse: PulseBank | None = None
    # (kind, id) -> the file the entry was last read from, for error messages.
    origin: dict[tuple[str, str], str] = field(default_factory=dict)

    def entries(self, kind: Kind) -> dict[str, Any]:
        tables: dict[str, dict[str, Any]] = {
            "function": self.functions,
            "role": self.roles,
            "artefact": self.artefacts,
            "topic": self.topics,
        }
        return tables[kind]

    def has(self, kind: str, entry_id: str) -> bool:
        """Whether ``kind`` is a kind of entry and the base has one with this id."""
        return kind in KINDS and entry_id in self.entries(kind)

    def section_of(self, topic_id: str) -> TopicSection | None:
        return self.sections.get(self.topic_section.get(topic_id, ""))

    def name(self, kind: Kind, entity_id: str) -> str:
        entry = self.entries(kind).get(entity_id)
        return entry.name if entry is not None else entity_id.replace("_", " ")

    def alias_index(self) -> dict[str, tuple[Kind, str]]:
        """Every normalised name, id and alias, mapped to the entity it names."""
        index: dict[str, tuple[Kind, str]] = {}
        for kind, entity_id, phrase in self._phrases():
            index.setdefault(phrase, (kind, entity_id))
        return index

    def _phrases(self) -> Iterator[tuple[Kind, str, str]]:
        for kind in KINDS:
            for entity_id, entry in self.entries(kind).items():
                seen: set[str] = set()
                for raw in (entity_id.replace("_", " "), entry.name, *entry.aliases):
                    phrase = normalise(raw)
                    if phrase and phrase not in seen:
                        seen.add(phrase)
                        yield kind, entity_id, phrase

    def stats(self) -> dict[str, int]:
        return {
            "functions": len(self.functions),
            "services": sum(len(f.services) for f in self.functions.values()),
            "roles": len(self.roles),
            "competencies": sum(len(r.competencies) for r in self.roles.values()),
            "artefacts": len(self.artefacts),
            "challenge_questions": sum(
                a.question_count + a.manager_question_count for a in self.artefacts.values()
            ),
            "aliases": sum(len(e.aliases) for k in KINDS for e in self.entries(k).values()),
            "topics": len(self.topics),
            **{
                section: sum(1 for s in self.topic_section.values() if s == section)
                for section in self.sections
            },
        }


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _short_error(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(x) for x in item["loc"]) or "entry"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)


class _Reader:
    """Reads one layer of YAML files (built-in or override) into a knowledge base."""

    def __init__(self, kb: KnowledgeBase, problems: list[Problem]) -> None:
        self.kb = kb
        self.problems = problems

    def read_layer(self, files: Iterable[Path]) -> None:
        import yaml  # only a run that reads the YAML pays for it (see bot/snapshot.py)

        seen_in_layer: dict[tuple[str, str], str] = {}
        for path in files:
            name = _display(path)
            try:
                with path.open(encoding="utf-8") as handle:
                    document = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
            except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, AttributeError) as exc:
                # PyYAML lets some errors of a value through as they are: ValueError for a date
                # such as 2020-13-45 or an integer of thousands of digits, AttributeError for a
                # !!timestamp tag on what is no date.
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                self.problems.append(Problem(name, "file", f"cannot be read as YAML: {detail}"))
                continue
            if document is None:
                continue
            if not isinstance(document, dict):
                self.problems.append(Problem(name, "file", "top level must be a mapping of sections"))
                continue
            topic_section = self._read_topic_section(name, document)
            for section, body in document.items():
                if section != "section":
                    self._read_section(name, str(section), body, seen_in_layer, topic_section)

    def _read_topic_section(self, name: str, document: dict[Any, Any]) -> str | None:
        """A file of topics declares its section first (id, name, about); None if it cannot."""
        if "topics" not in document and "section" not in document:
            return None
        if "topics" not in document or "section" not in document:
            self.problems.append(
                Problem(name, "file", "a file needs both 'section' and 'topics', or neither")
            )
            return None
        try:
            section = TopicSection.model_validate(document["section"])
        except ValidationError as exc:
            self.problems.append(Problem(name, "section", _short_error(exc)))
            return None
        if section.id in _RESERVED_STATS:
            self.problems.append(Problem(name, "section", f"id '{section.id}' is taken by a built-in count"))
            return None
        self.kb.sections[section.id] = section
        return section.id

    def _read_section(
        self,
        name: str,
        section: str,
        body: Any,
        seen_in_layer: dict[tuple[str, str], str],
        topic_section: str | None,
    ) -> None:
        if section in _SINGLE_MODEL:
            model = _SINGLE_MODEL[section]
            try:
                value = model.model_validate(body)
            except ValidationError as exc:
                self.problems.append(Problem(name, section, _short_error(exc)))
                return
            setattr(self.kb, section, value)
            return
        kind = _SECTION_KIND.get(section)
        if kind is None:
            known = ", ".join([*_SECTION_KIND, *_SINGLE_MODEL])
            self.problems.append(Problem(name, section, f"unknown section (expected one of: {known})"))
            return
        if not isinstance(body, list):
            self.problems.append(Problem(name, section, "must be a list of entries"))
            return
        if kind == "topic" and topic_section is None:
            return  # the section header's problem is already listed
        for position, raw in enumerate(body, start=1):
            given = raw.get("id") if isinstance(raw, dict) else None
            # Only a plain value names the entry: the text of a list or mapping can be huge (YAML's
            # aliases let a few lines stand for millions of items).
            plain = isinstance(given, (str, int, float)) and given
            label = str(given) if plain else f"entry {position}"
            try:
                entry = _MODEL[kind].model_validate(raw)
            except ValidationError as exc:
                self.problems.append(Problem(name, f"{kind} {label}", _short_error(exc)))
                continue
            key = (kind, entry.id)
            if key in seen_in_layer:
                self.problems.append(
                    Problem(name, f"{kind} {entry.id}", f"duplicate id (also in {seen_in_layer[key]})")
                )
                continue
            seen_in_layer[key] = name
            self.kb.entries(kind)[entry.id] = entry
            self.kb.origin[key] = name
            if topic_section is not None and kind == "topic":
                self.kb.topic_section[entry.id] = topic_section


def _check_references(kb: KnowledgeBase) -> list[Problem]:
    problems: list[Problem] = []

    def where(kind: Kind, entity_id: str) -> tuple[str, str]:
        return kb.origin.get((kind, entity_id), "?"), f"{kind} {entity_id}"

    def need(kind: Kind, owner: tuple[str, str], target_kind: Kind, target: str | None, what: str) -> None:
        if target is not None and target not in kb.entries(target_kind):
            problems.append(Problem(owner[0], owner[1], f"{what} refers to unknown {target_kind} '{target}'"))

    for fid, func in kb.functions.items():
        here = where("function", fid)
        for rid in func.roles:
            need("function", here, "role", rid, "roles")
        for aid in func.artefacts:
            need("function", here, "artefact", aid, "artefacts")
        need("function", here, "artefact", func.primary_artefact, "primary_artefact")
    for rid, role in kb.roles.items():
        here = where("role", rid)
        for comp in role.competencies:
            need("role", here, "function", comp.function, "competencies")
        for nxt in role.development.next_roles:
            need("role", here, "role", nxt, "development.next_roles")
        for prev in role.development.coming_from:
            need("role", here, "role", prev, "development.coming_from")
        repeated = {
            c.function
            for c in role.competencies
            if [x.function for x in role.competencies].count(c.function) > 1
        }
        for fid in sorted(repeated):
            problems.append(Problem(here[0], here[1], f"competency for '{fid}' listed twice"))
    for aid, art in kb.artefacts.items():
        here = where("artefact", aid)
        need("artefact", here, "function", art.function, "function")
    definer: dict[str, str] = {}
    for tid, topic in kb.topics.items():
        problems += _check_topic(kb, where("topic", tid), topic)
        for term in topic.defines:
            key = normalise(term)
            if not key:
                problems.append(Problem(*where("topic", tid), f"defines {term!r}, which has no words"))
            elif key in definer and definer[key] != tid:
                problems.append(
                    Problem(*where("topic", tid), f"defines '{term}', already defined by {definer[key]}")
                )
            definer.setdefault(key, tid)
    if kb.facts is not None:
        for area in kb.facts.core_competencies:
            need("function", ("facts", "facts"), "function", area.function, "core_competencies")
        for skill in kb.facts.scarce_skills:
            need("function", ("facts", "facts"), "function", skill.function, "scarce_skills")
        for rid in kb.facts.starter_roles:
            need("function", ("facts", "facts"), "role", rid, "starter_roles")
    if kb.pulse is not None:
        for item in kb.pulse.items:
            need("function", ("pulse", f"pulse {item.id}"), "function", item.function, "function")
    return problems


def _check_topic(kb: KnowledgeBase, here: tuple[str, str], topic: Topic) -> list[Problem]:
    problems = []
    for ref in topic.related:
        kind, _, target = ref.partition(":")
        if kind not in KINDS or not target:
            problems.append(
                Problem(*here, f"related '{ref}' should be kind:id, kind one of {', '.join(KINDS)}")
            )
        elif target not in kb.entries(kind):
            problems.append(Problem(*here, f"related refers to unknown {kind} '{target}'"))
        elif kind == "topic" and target == topic.id:
            problems.append(Problem(*here, "related names the topic itself"))
    if topic.ask and topic.artefact is None:
        problems.append(Problem(*here, "'ask' needs 'artefact': the questions are reused from one artefact"))
    if topic.artefact is not None:
        art = kb.artefacts.get(topic.artefact)
        if art is None:
            problems.append(Problem(*here, f"artefact refers to unknown artefact '{topic.artefact}'"))
        else:
            known = {q for g in (*art.questions, *art.manager_questions) for q in g.questions}
            for question in topic.ask:
                if question not in known:
                    problems.append(
                        Problem(*here, f"ask: not one of {art.id}'s challenge questions: {question[:60]!r}")
                    )
    return problems


def _check_contract(kb: KnowledgeBase) -> list[Problem]:
    problems = []
    for kind, ids in CONTRACT_IDS.items():
        for entity_id in ids:
            if entity_id not in kb.entries(kind):
                problems.append(
                    Problem("knowledge base", f"{kind} {entity_id}", "missing entry (a contract id)")
                )
    for section in ("facts", "pulse"):
        if getattr(kb, section) is None:
            problems.append(Problem("knowledge base", section, "missing section"))
    return problems


def _check_aliases(kb: KnowledgeBase) -> list[Problem]:
    owners: dict[str, list[tuple[Kind, str]]] = {}
    for kind, entity_id, phrase in kb._phrases():
        entities = owners.setdefault(phrase, [])
        if (kind, entity_id) not in entities:
            entities.append((kind, entity_id))
    builtin = _display(DATA_DIR)
    problems = []
    for phrase, entities in owners.items():
        if len(entities) < 2:
            continue
        # Blame the entries an override added; between built-in entries, blame the later ones.
        added = [e for e in entities if not kb.origin.get(e, "").startswith(builtin)]
        for kind, entity_id in added or entities[1:]:
            others = ", ".join(f"{k} {i}" for k, i in entities if (k, i) != (kind, entity_id))
            problems.append(
                Problem(
                    kb.origin.get((kind, entity_id), "?"),
                    f"{kind} {entity_id}",
                    f"alias '{phrase}' is also used by {others}",
                )
            )
    return problems


def check(extra_dir: Path | None = None) -> tuple[KnowledgeBase, list[Problem]]:
    """Read the built-in knowledge base and an optional override folder; list every problem."""
    kb = KnowledgeBase()
    problems: list[Problem] = []
    reader = _Reader(kb, problems)
    reader.read_layer(_yaml_files(DATA_DIR))
    if extra_dir is not None:
        if not extra_dir.is_dir():
            problems.append(Problem(str(extra_dir), "folder", "PMO_KNOWLEDGE_DIR is not a folder"))
        else:
            reader.read_layer(_yaml_files(extra_dir))
    problems += _check_contract(kb)
    problems += _check_references(kb)
    problems += _check_aliases(kb)
    return kb, problems


_CACHE: dict[Path | None, KnowledgeBase] = {}


def load(extra_dir: Path | None = None) -> KnowledgeBase:
    """The validated knowledge base, read once per process; raises KnowledgeBaseError."""
    key = extra_dir.resolve() if extra_dir is not None else None
    if key not in _CACHE:
        kb, problems = check(extra_dir)
        if problems:
            raise KnowledgeBaseError(problems)
        _CACHE[key] = kb
    return _CACHE[key]
