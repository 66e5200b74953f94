"""The knowledge base: content counts, references, overrides and validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.base import CONTRACT_IDS, KnowledgeBase, check, load
from knowledge.models import RISK_THEMES


def test_contract_ids_are_all_defined(kb: KnowledgeBase) -> None:
    for kind, ids in CONTRACT_IDS.items():
        assert set(ids) <= set(kb.entries(kind)), kind


def test_functions_have_definition_services_roles_and_artefacts(kb: KnowledgeBase) -> None:
    assert len(kb.functions) >= 22
    for func in kb.functions.values():
        assert len(func.services) >= 5, func.id
        assert func.roles, func.id
        assert func.definition.strip(), func.id
        assert func.sources, func.id


def test_roles_have_profile_week_competencies_by_level_and_path(kb: KnowledgeBase) -> None:
    assert len(kb.roles) == 11
    for role in kb.roles.values():
        assert len(role.competencies) >= 8, role.id
        assert len(role.day_to_day) >= 4, role.id
        assert len(role.development.steps) >= 2, role.id
        assert role.sources, role.id
    # The five APM levels are used, not folded into three.
    assert {c.level for r in kb.roles.values() for c in r.competencies} == {
        "aware",
        "practised",
        "competent",
        "proficient",
        "expert",
    }


def test_role_data_fixed_against_the_research(kb: KnowledgeBase) -> None:
    level = {r.id: {c.function: c.level for c in r.competencies} for r in kb.roles.values()}
    # Co-ordinators and administrators maintain the risk register and challenge PMs.
    assert level["pmo_coordinator"]["risk_management"] in ("competent", "proficient")
    assert level["project_support_officer"]["risk_management"] != "aware"
    # The PMO manager covers resource management, communications and administration.
    assert {"resource_management", "communications", "administration"} <= set(level["pmo_manager"])
    # A portfolio analyst is not a portfolio manager.
    assert kb.alias_index()["portfolio analyst"] == ("role", "portfolio_analyst")
    # Paths go up a ladder: nobody's next role lists them as where they come from... the wrong way.
    for role in kb.roles.values():
        for nxt in role.development.next_roles:
            assert role.id not in kb.roles[nxt].development.next_roles, (role.id, nxt)
    assert kb.roles["pmo_director"].development.next_roles == []


def test_artefacts_have_ten_or_more_grouped_questions(kb: KnowledgeBase) -> None:
    assert len(kb.artefacts) == 15
    for art in kb.artefacts.values():
        assert art.question_count >= 10, art.id
        assert len(art.questions) >= 2, art.id
        assert art.good_looks_like and art.fields and art.defects, art.id


def test_risk_register_is_the_deep_one(kb: KnowledgeBase) -> None:
    risk = kb.artefacts["risk_register"]
    assert risk.question_count >= 20
    assert [g.theme for g in risk.questions] == list(RISK_THEMES)
    assert {g.theme for g in risk.manager_questions} == {"process", "appetite", "culture"}


def test_headline_facts(kb: KnowledgeBase) -> None:
    assert kb.facts is not None
    core = {a.function for a in kb.facts.core_competencies}
    assert {"governance", "reporting", "administration", "risk_management", "communications"} <= core
    assert any(a.function == "pmo_management" and a.for_managers for a in kb.facts.core_competencies)
    scarce = {s.function: s.share_of_practitioners for s in kb.facts.scarce_skills}
    assert scarce["resource_management"] == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("raid", ("artefact", "raid_log")),
        ("pso", ("role", "project_support_officer")),
        ("cr", ("artefact", "change_log")),
        ("rag report", ("artefact", "status_report")),
        ("hopmo", ("role", "pmo_director")),
        ("risk log", ("artefact", "risk_register")),
        ("highlight report", ("artefact", "status_report")),
        ("gantt", ("artefact", "schedule")),
        ("benefits tracker", ("artefact", "benefits_register")),
        ("capacity plan", ("artefact", "resource_plan")),
        ("programme manager", ("role", "programme_manager")),
        ("coordinator", ("role", "pmo_coordinator")),
    ],
)
def test_everyday_words_are_aliases(kb: KnowledgeBase, phrase: str, expected: tuple[str, str]) -> None:
    assert kb.alias_index()[phrase] == expected


def test_us_spellings_reach_the_same_entity(kb: KnowledgeBase) -> None:
    index = kb.alias_index()
    from knowledge.text import normalise

    assert index[normalise("Program Manager")] == ("role", "programme_manager")
    assert index[normalise("PMO Co-ordinator")] == index[normalise("pmo coordinator")]


def test_builtin_knowledge_base_is_valid() -> None:
    _, problems = check()
    assert problems == []


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_override_adds_and_replaces_entries(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "extra.yaml",
        """
functions:
  - id: governance
    name: Governance (our way)
    definition: How decisions are made in our organisation, by whom and on what evidence.
    services: [a one, b two, c three, d four, e five]
    roles: [pmo_manager]
    sources: [our own PMO handbook]
  - id: vendor_management
    name: Vendor management
    aliases: [supplier management]
    definition: Keeping suppliers to their contracts and managing supplier performance.
    services: [a one, b two, c three, d four, e five]
    roles: [pmo_analyst]
    sources: [our own PMO handbook]
""",
    )
    kb, problems = check(tmp_path)
    assert problems == []
    assert kb.functions["governance"].name == "Governance (our way)"
    assert "vendor_management" in kb.functions
    assert kb.alias_index()["supplier management"] == ("function", "vendor_management")


def test_broken_override_lists_every_problem_with_file_and_entry(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "broken.yaml",
        """
roles:
  - id: pmo_analyst
    name: Analyst
    aliases: [pso]
    profile: Too few competencies in this one, and a dangling next role.
    competencies:
      - {function: governance, level: aware, note: knows it}
    development: {next_roles: [astronaut], steps: [one, two]}
    sources: [x]
functions:
  - id: planning
    name: Planning
    definition: Plans and schedules, written again for this test only.
    services: [a, b, c, d, e]
    roles: [pmo_analyst, chief_wizard]
    sources: [x]
  - id: planning
    name: Planning again
    definition: A second entry with the same id in the same layer.
    services: [a, b, c, d, e]
    roles: [pmo_analyst]
    sources: [x]
  - id: reporting_two
    name: Reporting two
    definition: An entry with a missing required field (no services).
    roles: [pmo_analyst]
    sources: [x]
  - id: comms_two
    name: Comms two
    aliases: [raid]
    definition: An alias that another entity already uses.
    services: [a, b, c, d, e]
    roles: [pmo_analyst]
    sources: [x]
""",
    )
    _, problems = check(tmp_path)
    text = "\n".join(str(p) for p in problems)
    assert "broken.yaml: role pmo_analyst: competencies" in text  # fewer than 8
    assert "broken.yaml: function planning: roles refers to unknown role 'chief_wizard'" in text
    assert "broken.yaml: function planning: duplicate id" in text
    assert "broken.yaml: function reporting_two: services" in text
    assert "broken.yaml: function comms_two: alias 'raid' is also used by artefact raid_log" in text


def test_unreadable_yaml_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _write(tmp_path, "bad.yaml", "functions: [unclosed\n")
    _write(tmp_path, "list.yaml", "- just a list\n")
    _write(tmp_path, "unknown.yaml", "widgets: []\n")
    _, problems = check(tmp_path)
    files = {(Path(p.file).name, p.entry) for p in problems}
    assert ("bad.yaml", "file") in files
    assert ("list.yaml", "file") in files
    assert ("unknown.yaml", "widgets") in files


def test_missing_override_folder_is_reported(tmp_path: Path) -> None:
    _, problems = check(tmp_path / "nope")
    assert any("not a folder" in p.message for p in problems)


def test_load_is_cached_per_process() -> None:
    assert load() is load()
