"""The pmo-bot command line, run as a separate process the way a user runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs import demo
from knowledge.base import KnowledgeBase
from tests.conftest import ROOT
from tests.test_demo import World, demo_in
from tests.test_serve import start


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT, module: str = "bot.app.cli"
) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own, without this shell's bot settings. ``module``
    "bot.app.main" is the installed ``pmo-bot`` entry point, with its fast path for ``ask``."""
    ours = ("PMO_", "SLACK_", "MICROSOFT_")
    full_env = {k: v for k, v in os.environ.items() if not k.upper().startswith(ours)}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
        check=False,
    )


def test_route_prints_the_contract_json() -> None:
    result = run("route", "what should I check in this risk register?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"text", "intent", "slots", "confidence"}
    assert data["intent"] == "challenge_questions"
    assert data["slots"] == {"artefact": "risk_register"}
    assert 0.0 < data["confidence"] <= 1.0


def test_route_file_answers_every_line_in_order(tmp_path: Path) -> None:
    lines = ["/pmo role analyst", "reset my password", "what is governance", "", "thanks!"]
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run("route", "--file", str(path), "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["text"] for r in rows] == lines
    assert [r["intent"] for r in rows] == [
        "role_competencies",
        "unknown",
        "function_info",
        "unknown",  # a blank line says nothing
        "smalltalk",
    ]


def test_route_missing_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = run("route", "--file", str(tmp_path / "missing.txt"), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_route_binary_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(b"\xff\xfe\x00\x81" * 50)
    result = run("route", "--file", str(path), "--json")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1


def test_ask_answers_with_grouped_challenge_questions() -> None:
    result = run("ask", "what should I check in this risk register?")
    assert result.returncode == 0, result.stderr
    for theme in ("Identification", "Evaluation", "Ownership", "Response", "Review"):
        assert f"• {theme}: " in result.stdout
    assert "?" in result.stdout


def test_ask_out_of_domain_is_polite() -> None:
    result = run("ask", "is there a risk of rain tomorrow")
    assert result.returncode == 0
    assert "outside what I know" in result.stdout
    result = run("ask", "pmo analyst risk register")  # two readings: did you mean
    assert "not sure" in result.stdout.lower()


def test_ask_follows_on_from_the_previous_ask_of_the_same_user() -> None:
    first = run("ask", "what should I check in this risk register?")
    assert first.returncode == 0, first.stderr
    follow = run("ask", "and for a manager?")
    assert follow.returncode == 0, follow.stderr
    assert follow.stdout.startswith("Risk register: questions for the PMO manager")
    # Another user has a conversation of their own.
    other = run("ask", "and for a manager?", "--user", "someone-else")
    assert other.returncode == 0, other.stderr
    assert not other.stdout.startswith("Risk register: questions for the PMO manager")


@pytest.mark.parametrize(
    "saved",
    [
        '{"cli:cli": {"at": "x", "intent": 3}',  # cut short
        '{"cli:cli": {"at": "x", "intent": 3, "slots": [], "part": null, "named": {}}}',  # wrong types
        # Fresh, but naming entries the knowledge base no longer has (a renamed topic, another
        # PMO_KNOWLEDGE_DIR): "tell me more about it" must not reach for them.
        json.dumps(
            {
                "cli:cli": {
                    "at": 4102444800,  # 2100: never stale
                    "text": "what is our rule three",
                    "intent": "knowledge",
                    "slots": {"topic": "gone"},
                    "part": "",
                    "named": [["role", "gone_role"], ["topic", "gone"]],
                }
            }
        ),
    ],
)
def test_ask_survives_a_broken_state_file(saved: str) -> None:
    state = Path(os.environ["XDG_STATE_HOME"]) / "pmo-bot"
    state.mkdir(parents=True)
    (state / "ask-context.json").write_text(saved, encoding="utf-8")
    for module in ("bot.app.cli", "bot.app.main"):
        result = run("ask", "tell me more about it", module=module)
        assert result.returncode == 0, result.stderr
        assert "went wrong" not in result.stdout.lower(), result.stdout
        assert "Traceback" not in result.stderr and "failed" not in result.stderr, result.stderr


def test_kb_stats_json_meets_the_counts() -> None:
    result = run("kb", "stats", "--json")
    assert result.returncode == 0, result.stderr
    stats = json.loads(result.stdout)
    assert stats["functions"] >= 22
    assert stats["services"] >= 22 * 5
    assert stats["roles"] == 11
    assert stats["artefacts"] == 15
    assert stats["challenge_questions"] >= 15 * 10 + 10
    assert stats["topics"] >= 150
    for section in ("concepts", "pmo", "challenge", "situations", "careers", "certifications", "survey"):
        assert stats[section] >= 8, section


def test_kb_validate_checks_topic_sections(tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text(
        "section: {id: ours, name: Our notes, about: a house rule}\n"
        "topics:\n"
        "  - id: our_rule\n"
        "    name: Our rule\n"
        "    answer: Every register is reviewed at the monthly portfolio board, without exception.\n"
        "    related: [topic:no_such_topic]\n"
        "    artefact: risk_register\n"
        "    ask: [Is this a question the risk register does not have?]\n"
        "    defines: [RAG?, '  ']\n"
        "    sources: [house rules]\n",
        encoding="utf-8",
    )
    (tmp_path / "headless.yaml").write_text(
        "topics:\n  - id: orphan\n    name: Orphan\n    answer: A topic with no section header at all here.\n"
        "    sources: [x]\n",
        encoding="utf-8",
    )
    result = run("kb", "validate", env={"PMO_KNOWLEDGE_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "topic our_rule: related refers to unknown topic 'no_such_topic'" in result.stderr
    assert "topic our_rule: ask: not one of risk_register's challenge questions" in result.stderr
    assert "defines 'RAG?', already defined by rag_ratings" in result.stderr
    assert "defines '  ', which has no words" in result.stderr
    assert "headless.yaml: file: a file needs both 'section' and 'topics'" in result.stderr
    assert "Traceback" not in result.stderr


def test_kb_validate_passes_on_the_builtin_base() -> None:
    result = run("kb", "validate")
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_kb_validate_names_file_and_entry_of_a_broken_override(tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text(
        "artefacts:\n  - id: risk_register\n    name: Risk register\n    sources: [x]\n", encoding="utf-8"
    )
    result = run("kb", "validate", env={"PMO_KNOWLEDGE_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "ours.yaml: artefact risk_register:" in result.stderr
    assert "Traceback" not in result.stderr


def test_ask_with_a_broken_override_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "ours.yaml").write_text("roles: nope\n", encoding="utf-8")
    result = run("ask", "hello", env={"PMO_KNOWLEDGE_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert "ours.yaml" in result.stderr


@pytest.mark.parametrize("args", [["route"], ["route", "x", "--file", "y"]])
def test_route_needs_exactly_one_input(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr


def test_chat_reads_lines_and_presses_buttons() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.app.cli", "chat"],
        input="competencies for a pmo analyst\n1\nquit\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "PMO Analyst: what the role does" in proc.stdout
    assert "PMO Analyst: each competency" in proc.stdout


@pytest.mark.parametrize("args", [["ask"], ["kb", "stats", "--bogus"], ["nosuch"], ["route", "x", "--zz"]])
def test_usage_errors_are_one_line_and_exit_1(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("pmo-bot: ")


def test_no_arguments_shows_help() -> None:
    result = run()
    assert result.returncode == 0
    assert "Usage" in result.stdout


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("bot.app.cli", ("ask", "hello")),
        ("bot.app.main", ("ask", "hello")),
        ("bot.app.cli", ("db", "upgrade")),
        ("bot.app.cli", ("survey", "status", "--team", "x")),
    ],
)
def test_a_dotenv_that_is_not_text_is_one_line(tmp_path: Path, module: str, args: tuple[str, ...]) -> None:
    (tmp_path / ".env").write_bytes(b"PMO_KNOWLEDGE_DIR=\xff\xfe\n")
    proc = run(*args, cwd=tmp_path, module=module)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert ".env" in proc.stderr


def test_route_file_keeps_one_output_line_per_input_line(tmp_path: Path) -> None:
    path = tmp_path / "odd.txt"
    path.write_bytes("a\x0cb\u2028c\r\nhelp\n".encode())
    result = run("route", "--file", str(path), "--json")
    rows = [json.loads(x) for x in result.stdout.rstrip("\n").split("\n")]
    assert len(rows) == 2
    assert rows[1]["intent"] == "help"


def test_route_file_that_is_a_folder(tmp_path: Path) -> None:
    result = run("route", "--file", str(tmp_path), "--json")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1


# -- the web chat's demo team is not the operator's -------------------------------------------------


Counts = list[tuple[tuple[str, str], int]]


def demo_state(world: World) -> tuple[list[tuple[int, str, str, int]], list[Counts]]:
    """The demo's weeks, and each week's messages counted by kind and state (reminders too)."""
    return world.snapshot(), [sorted(world.store.delivery_counts(r.id).items()) for r in world.weeks()]


@pytest.mark.parametrize("command", ["open", "remind", "close"])
def test_survey_commands_refuse_the_web_chats_demo_team(
    command: str, kb: KnowledgeBase, database_url: str, tmp_path: Path
) -> None:
    # The demo's weeks, made as `serve` makes them, with this week's run open and three of its
    # eleven people yet to answer: a reminder would have someone to go to.
    with demo_in(kb, database_url, tmp_path) as world:
        world.clock.at = datetime.now(UTC)
        world.demo.ensure()
        made = demo_state(world)
        status_before = world.parts.surveys.status(demo.TEAM_ID)
    assert status_before["state"] == "open"
    # PMO_DEMO is auto and no Slack or Teams is set: the demo is on here, as a team the program made.
    env = {"DATABASE_URL": database_url, "PMO_CONFIG": str(tmp_path / "none.yaml")}
    result = run("survey", command, "--team", demo.TEAM_ID, env=env)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "pmo-bot: web-demo is the web chat's demo team: try it in the web chat's demo panel"
    ]
    # Nothing was queued, opened or closed, as the operator's own status says too.
    status = run("survey", "status", "--team", demo.TEAM_ID, "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == status_before
    with demo_in(kb, database_url, tmp_path) as world:
        weeks, messages = demo_state(world)
    assert (weeks, messages) == made
    assert {kind for counts in messages for (kind, _state), _n in counts} == {"invite"}


# -- serve says it is running once it is ---------------------------------------------------------------


def test_serve_announces_itself_only_once_it_holds_the_port(tmp_path: Path) -> None:
    proc, port = start(tmp_path, {"PMO_CONFIG": str(tmp_path / "none.yaml")})
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert out == f"pmo-bot is running: open http://127.0.0.1:{port}/ in your browser (Ctrl+C stops it)\n"
    # A port another process holds: no such line, and one line saying why (beside the JSON log).
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "PORT": str(taken)}
        result = run("serve", env={**env, "PMO_CONFIG": str(tmp_path / "none.yaml")}, cwd=tmp_path)
    assert result.returncode == 1
    assert "pmo-bot is running" not in result.stdout and result.stdout == ""
    said = [line for line in result.stderr.splitlines() if not line.startswith("{")]
    assert len(said) == 1 and said[0].startswith(f"pmo-bot: cannot listen on 127.0.0.1:{taken}: ")
    assert "Traceback" not in result.stderr


def test_ask_reads_the_knowledge_folder_from_dotenv(tmp_path: Path) -> None:
    # Without a .env the one-shot ask reads the environment alone; with one, the .env counts.
    override = tmp_path / "kb"
    override.mkdir()
    (override / "ours.yaml").write_text("roles: nope\n", encoding="utf-8")
    (tmp_path / ".env").write_text(f"PMO_KNOWLEDGE_DIR={override}\n", encoding="utf-8")
    proc = run("ask", "hello", cwd=tmp_path, module="bot.app.main")
    assert proc.returncode == 1, proc.stdout
    assert "ours.yaml" in proc.stderr


@pytest.mark.parametrize("args", [("kb", "validate"), ("ask", "hello")])
def test_a_blank_knowledge_folder_setting_means_no_override(tmp_path: Path, args: tuple[str, ...]) -> None:
    # Not "the working folder": a broken YAML file there must not be read.
    (tmp_path / "broken.yaml").write_text("roles: nope\n", encoding="utf-8")
    (tmp_path / ".env").write_text("PMO_KNOWLEDGE_DIR=\n", encoding="utf-8")
    result = run(*args, cwd=tmp_path, module="bot.app.main")
    assert result.returncode == 0, result.stderr
    assert "broken.yaml" not in result.stderr


def test_ask_prints_on_a_console_in_a_narrow_encoding() -> None:
    for module in ("bot.app.cli", "bot.app.main"):
        result = run("ask", "what is a raid log", env={"PYTHONIOENCODING": "latin-1"}, module=module)
        assert result.returncode == 0, result.stderr
        assert "RAID log" in result.stdout
