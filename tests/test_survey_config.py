"""The teams file: parsed strictly, every problem named, re-read on change, the last good one kept."""

from __future__ import annotations

import os
import zoneinfo
from pathlib import Path

import pytest

from bot.errors import ConfigError
from jobs.config import SurveySettings, TeamList, TeamsFile, parse, zone

FUNCTIONS = ("reporting", "risk_management", "planning", "financial_management")

VALID = """\
teams:
  - id: delivery
    name: Delivery PMO
    platform: slack
    members: [U0AAA0001, U0AAA0002]
    digest_channel: C0DIGEST1
    services: [reporting, risk_management]
    survey:
      schedule: "30 8 * * tue"
      timezone: America/New_York
      open_hours: 48
      reminder_after_hours: 24
      min_responses: 3
      min_comments: 4
  - id: finance
    platform: teams
    members_from_channel: "19:abc@thread.tacv2"
    services: [financial_management]
"""


def team_yaml(team_id: str = "a", survey: str = "", **fields: str) -> str:
    """One team's YAML, valid unless ``fields`` or ``survey`` say otherwise."""
    values = {"platform": "slack", "members": "[U0AAA0001]", "services": "[reporting]", **fields}
    lines = [f"  - id: {team_id}"] + [f"    {k}: {v}" for k, v in values.items() if v != "-"]
    if survey:
        lines.append(f"    survey: {survey}")
    return "\n".join(lines) + "\n"


def problem(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(text, "pmo.yaml", FUNCTIONS)
    message = str(caught.value)
    assert message.startswith("pmo.yaml: "), message
    assert "\n" not in message
    return message.removeprefix("pmo.yaml: ")


def bump(path: Path, text: str) -> None:
    """Rewrites the file and moves its mtime on, so that a same-size edit within the filesystem's
    timestamp granularity is still seen as a change."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    later = before + 2_000_000_000
    os.utime(path, ns=(later, later))


# -- parsing --------------------------------------------------------------------------------------


def test_a_valid_file_is_parsed_with_defaults_filled_in() -> None:
    parsed = parse(VALID, "pmo.yaml", FUNCTIONS)
    assert [t.id for t in parsed.teams] == ["delivery", "finance"]
    delivery, finance = parsed.teams
    assert delivery.title == "Delivery PMO"
    assert delivery.platform == "slack"
    assert delivery.members == ("U0AAA0001", "U0AAA0002")
    assert delivery.digest_channel == "C0DIGEST1"
    assert delivery.services == ("reporting", "risk_management")
    assert delivery.survey == SurveySettings(
        schedule="30 8 * * tue",
        timezone="America/New_York",
        open_hours=48,
        reminder_after_hours=24,
        min_responses=3,
        min_comments=4,
    )
    assert finance.title == "finance"  # no name: the id
    assert finance.members == ()
    assert finance.members_from_channel == "19:abc@thread.tacv2"
    assert finance.digest_channel is None
    assert finance.survey == SurveySettings()
    assert (
        finance.survey.schedule,
        finance.survey.timezone,
        finance.survey.open_hours,
        finance.survey.reminder_after_hours,
        finance.survey.min_responses,
        finance.survey.min_comments,
    ) == ("0 9 * * mon", None, 72, 48, 5, 10)
    assert parsed.team("finance") is finance
    assert parsed.team("nobody") is None


def test_an_empty_file_has_no_teams() -> None:
    assert parse("", "pmo.yaml", FUNCTIONS) == TeamList()
    assert parse("# nothing yet\n", "pmo.yaml", FUNCTIONS).teams == ()
    assert parse("teams: []\n", "pmo.yaml", FUNCTIONS).teams == ()


def test_the_reminder_can_be_switched_off() -> None:
    parsed = parse("teams:\n" + team_yaml(survey="{reminder_after_hours: null}"), "pmo.yaml", FUNCTIONS)
    assert parsed.teams[0].survey.reminder_after_hours is None


def test_a_misspelt_service_is_named_with_its_team() -> None:
    assert problem("teams:\n" + team_yaml(services="[reporting, reportng]")) == (
        "team a: unknown service 'reportng'"
    )
    # Without the list of known functions, any id passes (the CLI checks before it has a KB).
    assert parse("teams:\n" + team_yaml(services="[reportng]"), "pmo.yaml").teams[0].services == ("reportng",)


def test_a_service_listed_twice_is_refused() -> None:
    assert problem("teams:\n" + team_yaml(services="[reporting, reporting]")) == (
        "team a: a service is listed twice"
    )


@pytest.mark.parametrize(
    ("schedule", "detail"),
    [
        ("0 9 * *", "Wrong number of fields; got 4, expected 5"),
        ("0 25 * * mon", "higher than the maximum value (23)"),
        ("every monday", "Wrong number of fields"),
    ],
)
def test_a_bad_cron_schedule_is_named(schedule: str, detail: str) -> None:
    message = problem("teams:\n" + team_yaml(survey=f"{{schedule: '{schedule}'}}"))
    assert message.startswith("team a.survey.schedule: not a cron schedule ("), message
    assert detail in message
    assert message.endswith("for example '0 9 * * mon'")


def test_an_unknown_time_zone_is_named() -> None:
    assert problem("teams:\n" + team_yaml(survey="{timezone: Europe/Londn}")) == (
        "team a.survey.timezone: unknown time zone 'Europe/Londn'; for example Europe/London"
    )


@pytest.mark.parametrize("floor", [0, 1, 2])
def test_min_responses_below_three_is_refused(floor: int) -> None:
    message = problem("teams:\n" + team_yaml(survey=f"{{min_responses: {floor}, min_comments: 3}}"))
    assert message == "team a.survey.min_responses: Input should be greater than or equal to 3"


def test_min_comments_below_three_or_below_min_responses_is_refused() -> None:
    assert problem("teams:\n" + team_yaml(survey="{min_comments: 2, min_responses: 3}")) == (
        "team a.survey.min_comments: Input should be greater than or equal to 3"
    )
    assert problem("teams:\n" + team_yaml(survey="{min_comments: 4, min_responses: 6}")) == (
        "team a.survey: min_comments cannot be below min_responses"
    )


@pytest.mark.parametrize(("open_hours", "reminder"), [(24, 24), (24, 30), (72, 72.5)])
def test_a_reminder_at_or_after_the_close_is_refused(open_hours: float, reminder: float) -> None:
    message = problem(
        "teams:\n" + team_yaml(survey=f"{{open_hours: {open_hours}, reminder_after_hours: {reminder}}}")
    )
    assert message == (
        "team a.survey: reminder_after_hours must be less than open_hours, or the reminder never goes"
    )


def test_a_reminder_just_before_the_close_is_accepted() -> None:
    text = "teams:\n" + team_yaml(survey="{open_hours: 24, reminder_after_hours: 23.5}")
    assert parse(text, "pmo.yaml", FUNCTIONS).teams[0].survey.reminder_after_hours == 23.5


def test_duplicate_team_ids_are_named() -> None:
    text = "teams:\n" + team_yaml("ops") + team_yaml("pmo") + team_yaml("ops", platform="teams")
    assert problem(text) == "file: team ids must be unique: ops"


def test_a_team_with_nobody_to_ask_is_refused() -> None:
    assert problem("teams:\n" + team_yaml(members="-")) == (
        "team a: give members, members_from_channel or both: otherwise nobody is asked"
    )
    assert problem("teams:\n" + team_yaml(members="[]")) == (
        "team a: give members, members_from_channel or both: otherwise nobody is asked"
    )
    # A channel alone is enough.
    parsed = parse("teams:\n" + team_yaml(members="-", members_from_channel="C0TEAM001"), "p", FUNCTIONS)
    assert parsed.teams[0].members_from_channel == "C0TEAM001"


def test_several_problems_are_named_together_by_team() -> None:
    text = (
        "teams:\n"
        + team_yaml("alpha", survey="{timezone: Mars/Base_One}")
        + team_yaml("beta", platform="email", services="[]")
        + team_yaml("gamma", colour="blue")
    )
    message = problem(text)
    assert message.split("; ") == [
        "team alpha.survey.timezone: unknown time zone 'Mars/Base_One'",
        "for example Europe/London",
        "team beta.platform: Input should be 'slack' or 'teams'",
        "team beta.services: Tuple should have at least 1 item after validation, not 0",
        "team gamma.colour: Extra inputs are not permitted",
    ]


def test_a_team_without_an_id_is_named_by_its_position() -> None:
    text = "teams:\n" + team_yaml("ok") + team_yaml("x").replace("  - id: x\n    platform", "  - platform")
    assert problem(text) == "team #2.id: Field required"


def test_a_yaml_syntax_error_names_its_line() -> None:
    text = "teams:\n  - id: a\n    platform: slack\n   members: [U1\n"
    assert problem(text) == "not valid YAML at line 4"


@pytest.mark.parametrize("text", ["- id: a\n  platform: slack\n", "just some words\n", "42\n"])
def test_a_top_level_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert problem(text) == "expected a mapping with a 'teams' list"


def test_the_survey_zone_falls_back_to_the_default() -> None:
    parsed = parse(VALID, "pmo.yaml", FUNCTIONS)
    delivery, finance = parsed.teams
    assert zone(delivery, "Europe/London") == zoneinfo.ZoneInfo("America/New_York")
    assert zone(finance, "Europe/Paris") == zoneinfo.ZoneInfo("Europe/Paris")
    with pytest.raises(ValueError, match="unknown time zone 'Nowhere/Special'"):
        zone(finance, "Nowhere/Special")


# -- the file, re-read ----------------------------------------------------------------------------


def test_a_missing_file_means_no_teams(tmp_path: Path) -> None:
    config = TeamsFile(tmp_path / "absent.yaml", FUNCTIONS)
    assert config.load() == TeamList()
    assert config.error is None


def test_the_file_is_re_read_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "pmo.yaml"
    bump(path, "teams:\n" + team_yaml("alpha"))
    config = TeamsFile(path, FUNCTIONS)
    first = config.load()
    assert [t.id for t in first.teams] == ["alpha"]
    assert config.load() is first  # unchanged: not parsed again
    bump(path, "teams:\n" + team_yaml("alpha") + team_yaml("beta", platform="teams"))
    assert [(t.id, t.platform) for t in config.load().teams] == [("alpha", "slack"), ("beta", "teams")]
    # Same length, different content: the mtime tells.
    bump(path, "teams:\n" + team_yaml("gamma") + team_yaml("delta", platform="teams"))
    assert [t.id for t in config.load().teams] == ["gamma", "delta"]
    assert config.error is None


def test_a_broken_edit_keeps_the_last_good_version(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "pmo.yaml"
    bump(path, "teams:\n" + team_yaml("alpha"))
    config = TeamsFile(path, FUNCTIONS)
    good = config.load()
    bump(path, "teams:\n" + team_yaml("alpha", survey="{min_responses: 1, min_comments: 3}"))
    with caplog.at_level("ERROR", logger="jobs.config"):
        assert config.load() is good
    assert config.error == (
        f"{path}: team alpha.survey.min_responses: Input should be greater than or equal to 3"
    )
    assert [r.getMessage() for r in caplog.records] == ["teams file refused; keeping the last good one"]
    assert config.team("alpha") is good.teams[0]
    # Fixing the file clears the error and takes the new version.
    bump(path, "teams:\n" + team_yaml("alpha", survey="{min_responses: 4}"))
    assert config.load().teams[0].survey.min_responses == 4
    assert config.error is None


def test_a_file_that_never_was_good_raises(tmp_path: Path) -> None:
    path = tmp_path / "pmo.yaml"
    bump(path, "teams:\n  - id: a\n   platform: [\n")
    config = TeamsFile(path, FUNCTIONS)
    for _ in range(2):  # and again, without re-reading the unchanged file
        with pytest.raises(ConfigError, match=r"pmo\.yaml: not valid YAML at line \d"):
            config.load()
    with pytest.raises(ConfigError, match="not valid YAML"):
        config.team("a")
    bump(path, "teams:\n" + team_yaml("a"))
    assert [t.id for t in config.load().teams] == ["a"]


def test_a_file_that_is_not_text_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "pmo.yaml"
    path.write_bytes(b"teams:\n  - id: \xff\xfe\n")
    config = TeamsFile(path, FUNCTIONS)
    with pytest.raises(ConfigError, match=r"pmo\.yaml: cannot read \("):
        config.load()


def test_deleting_the_file_leaves_no_teams(tmp_path: Path) -> None:
    path = tmp_path / "pmo.yaml"
    bump(path, "teams:\n" + team_yaml("alpha"))
    config = TeamsFile(path, FUNCTIONS)
    assert len(config.load().teams) == 1
    path.unlink()
    assert config.load().teams == ()
    assert config.error is None


def test_an_unknown_team_lists_the_known_ones(tmp_path: Path) -> None:
    path = tmp_path / "pmo.yaml"
    bump(path, "teams:\n" + team_yaml("alpha") + team_yaml("beta"))
    config = TeamsFile(path, FUNCTIONS)
    assert config.team("beta").id == "beta"
    with pytest.raises(ConfigError) as caught:
        config.team("gamma")
    assert str(caught.value) == "unknown team 'gamma' (teams: alpha, beta)"
    empty = TeamsFile(tmp_path / "none.yaml", FUNCTIONS)
    with pytest.raises(ConfigError) as caught:
        empty.team("alpha")
    assert str(caught.value) == f"unknown team 'alpha' (teams: none: add teams to {tmp_path / 'none.yaml'})"


def test_the_web_platform_is_kept_for_the_built_in_demo() -> None:
    # The demo team is "web"; a teams file cannot name it, and is told the two it can.
    assert (
        problem("teams:\n" + team_yaml("w", platform="web"))
        == "team w.platform: Input should be 'slack' or 'teams'"
    )
    from jobs.demo import TEAM

    assert TEAM.platform == "web"


def test_the_demo_teams_id_is_kept_for_it() -> None:
    # Its period keys start with its id: a team of the file by that name would share the demo's weeks.
    kept = "team web-demo.id: 'web-demo' is kept for the web chat's demo team; choose another id"
    assert problem("teams:\n" + team_yaml("web-demo")) == kept
    assert problem("teams:\n" + team_yaml("web-demo", platform="web")) == (
        f"{kept}; team web-demo.platform: Input should be 'slack' or 'teams'"
    )
    # A name like it is a team's to use; the demo team itself is made by the program.
    assert parse("teams:\n" + team_yaml("web-demo-2"), "pmo.yaml", FUNCTIONS).teams[0].id == "web-demo-2"
    from jobs.demo import TEAM, TEAM_ID

    assert TEAM.id == TEAM_ID == "web-demo"
