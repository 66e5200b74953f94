"""Fuzzing knowledge-base overrides (the folder named by PMO_KNOWLEDGE_DIR): random text, random
YAML documents, real entries with fields changed, and YAML that is hostile on purpose. Loading
must either succeed or raise KnowledgeBaseError listing the problems, never anything else, and
in bounded time. An override that loads must give a router that answers.

The number of examples comes from tests/fuzzing.py (PMO_FUZZ=1 for the long run).
"""

from __future__ import annotations

import copy
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import event, example, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import tests.fuzzing  # noqa: F401  (chooses the Hypothesis profile)
from bot.intents import BY_NAME
from bot.retrieval import Index
from bot.router import Router
from knowledge import base
from knowledge.base import DATA_DIR, KnowledgeBase, KnowledgeBaseError, Problem, load

# Loading reads the built-in YAML again (about 0.2 s); a load that takes seconds more is work that
# grows with something in the override.
LOAD_LIMIT_S = 5.0

SECTIONS = ["functions", "roles", "artefacts", "topics", "section", "facts", "pulse"]
FIELDS = sorted(
    {
        name
        for model in (base.Function, base.Role, base.Artefact, base.Topic, base.TopicSection)
        for name in model.model_fields
    }
    | {"competencies", "development", "function", "level", "note", "questions", "theme", "items"}
)


def _builtin_entries() -> list[tuple[dict[str, Any], str, dict[str, Any]]]:
    """Every built-in entry as YAML gives it: (the section header of its file or {}, the section,
    the entry)."""
    found = []
    for path in sorted(DATA_DIR.rglob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        header = {"section": document["section"]} if "section" in document else {}
        for section, body in document.items():
            if isinstance(body, list):
                found += [(header, section, entry) for entry in body]
    return found


ENTRIES = _builtin_entries()

# -- strategies ------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(FIELDS),
    st.dates(),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELDS), st.text(max_size=10), st.integers()), inner, max_size=5
        ),
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.one_of(st.sampled_from(SECTIONS), st.text(max_size=10)), values, max_size=4)


@st.composite
def changed_entry(draw: st.DrawFn) -> dict[str, Any]:
    """A built-in entry with some of its fields changed, dropped or added: an override as people
    write one, mostly right."""
    header, section, entry = draw(st.sampled_from(ENTRIES))
    entry = copy.deepcopy(entry)
    for _ in range(draw(st.integers(0, 4))):
        key = draw(
            st.sampled_from(sorted(entry)) if entry and draw(st.booleans()) else st.sampled_from(FIELDS)
        )
        change = draw(st.sampled_from(["value", "drop", "text", "list of text", "id"]))
        if change == "drop":
            entry.pop(key, None)
        elif change == "value":
            entry[key] = draw(values)
        elif change == "text":
            entry[key] = draw(st.text(max_size=60))
        elif change == "list of text":
            entry[key] = draw(st.lists(st.text(max_size=30), max_size=6))
        else:
            # A new entry, or one that replaces another built-in entry.
            entry["id"] = draw(st.one_of(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), st.text()))
    return {**header, section: [entry]}


def _dump(document: object, data: st.DataObject) -> str:
    return yaml.safe_dump(
        document,
        allow_unicode=data.draw(st.booleans(), label="unicode"),
        default_flow_style=data.draw(st.sampled_from([None, True, False]), label="flow"),
        sort_keys=False,
    )


# Nine lists of nine references to the list before: a few hundred bytes that stand for 9**9 items.
BILLION_LAUGHS = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "functions:\n  - id: *i\n    name: *i\n    aliases: *i\n"
)
HOSTILE = [
    # Dates and numbers that match YAML's patterns but are no date or number.
    "functions:\n  - id: x\n    name: 2020-13-45\n",
    "facts:\n  growth_rule: 2024-02-30 10:00:00\n",
    "roles: !!int 0x\n",
    "roles: !!float abc\n",
    "topics: !!timestamp x\n",
    "pulse:\n  scale: {1: " + "9" * 5000 + "}\n",
    # Tags PyYAML's safe loader refuses.
    "functions: !!python/object/apply:os.system [echo hello]\n",
    "functions: !!binary '@@@'\n",
    # Aliases: a list that holds itself, an entry whose id is itself, and a billion laughs.
    "functions: &a [*a]\n",
    "functions:\n  - &e {id: *e, name: x}\n",
    BILLION_LAUGHS,
    # Nesting deeper than the parser allows.
    "functions: " + "[" * 3000 + "]" * 3000 + "\n",
    "".join("  " * i + "k:\n" for i in range(1200)),
    # Odd documents.
    "",
    "---\n---\n",
    "- just\n- a list\n",
    "just text",
    "section: {id: x}\n",
    "section:\n  id: facts\n  name: Facts\n  about: reserved words\ntopics: []\n",
    "\ufeffroles: []\n",
]


@st.composite
def override_files(draw: st.DrawFn) -> dict[str, bytes]:
    """The files of an override folder: name -> bytes."""
    data = draw(st.data())
    files: dict[str, bytes] = {}
    for n in range(draw(st.integers(1, 3))):
        # Mostly changed built-in entries: they get furthest into loading.
        kind = draw(st.sampled_from(["text", "document", "entry", "entry", "entry", "hostile", "bytes"]))
        if kind == "text":
            content = draw(st.text(max_size=300)).encode()
        elif kind == "document":
            content = _dump(draw(documents), data).encode()
        elif kind == "entry":
            content = _dump(draw(changed_entry()), data).encode()
        elif kind == "hostile":
            content = draw(st.sampled_from(HOSTILE)).encode()
        else:
            content = draw(st.binary(max_size=200))
        folder = draw(st.sampled_from(["", "sub/", "sub/deeper/"]))
        files[f"{folder}{n}{draw(st.sampled_from(['.yaml', '.yml', '.txt']))}"] = content
    return files


# -- properties ------------------------------------------------------------------------------


def _load(files: dict[str, bytes]) -> KnowledgeBase | KnowledgeBaseError:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        for name, content in files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        started = time.perf_counter()
        try:
            outcome: KnowledgeBase | KnowledgeBaseError = load(folder)
        except KnowledgeBaseError as exc:
            outcome = exc
        finally:
            # load keeps each folder's knowledge base for the life of the process; thousands of
            # examples would keep thousands of them.
            base._CACHE.pop(folder.resolve(), None)
        took = time.perf_counter() - started
    assert took < LOAD_LIMIT_S, f"loading took {took:.1f} s"
    return outcome


def _tally(what: str) -> None:
    """Count outcomes in Hypothesis's statistics (--hypothesis-show-statistics)."""
    if currently_in_test_context():
        event(what)


def _check(outcome: KnowledgeBase | KnowledgeBaseError) -> None:
    if isinstance(outcome, KnowledgeBaseError):
        _tally("refused")
        assert outcome.problems
        assert all(isinstance(p, Problem) for p in outcome.problems)
        assert str(outcome).startswith("knowledge base is invalid: ")
        return
    # It loaded: the bot's router must be built over it and answer.
    _tally("loaded")
    router = Router(outcome)
    try:
        for text in ("what is a raid log", "help", "competencies for a pmo analyst", "zzz"):
            assert router.route(text).intent in BY_NAME
    finally:
        # The router's and the index's decision caches belong to their classes (one router is
        # built a process), so they would keep every router of every example alive.
        Router._decide_alone.cache_clear()
        Index._fix.cache_clear()
        Index.search.cache_clear()


@given(files=override_files())
@example(files={"x.yaml": b"functions:\n  - id: x\n    name: 2020-13-45\n"})
@example(files={"x.yaml": ("pulse:\n  scale: {1: " + "9" * 5000 + "}\n").encode()})
@example(files={"x.yaml": b"topics: !!timestamp x\n"})
@example(files={"x.yaml": BILLION_LAUGHS.encode()})
def test_any_override_loads_or_is_refused_with_its_problems(files: dict[str, bytes]) -> None:
    _check(_load(files))


def test_every_hostile_document_is_refused_or_loaded() -> None:
    for text in HOSTILE:
        _check(_load({"hostile.yaml": text.encode()}))


def test_an_override_with_a_date_for_a_name_is_refused_as_a_problem() -> None:
    outcome = _load({"dates.yaml": b"functions:\n  - id: x\n    name: 2020-13-45\n"})
    assert isinstance(outcome, KnowledgeBaseError)
    assert "cannot be read as YAML" in str(outcome)


def test_the_builtin_entries_load_again_as_an_override() -> None:
    """The entries the fuzzer changes are loadable as they are: the changes are what it tests."""
    header, section, entry = next(e for e in ENTRIES if e[1] == "topics")
    outcome = _load({"same.yaml": yaml.safe_dump({**header, section: [entry]}).encode()})
    assert isinstance(outcome, KnowledgeBase), outcome
