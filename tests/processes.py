"""Processes for tests that run pmo-bot as an operator would: the fake Slack as a process of its own
(it outlives the processes under test and logs what they posted), and a clean environment."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeSlack:
    process: subprocess.Popen[str]
    port: int
    log: Path

    def delivered(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines() if line]

    def responses(self) -> list[dict[str, Any]]:
        """What was posted to response URLs (the answers to clicks), oldest first."""
        path = self.log.with_name("responses.jsonl")
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]

    def count(self) -> int:
        try:
            return self.log.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0


@contextlib.contextmanager
def started_fake_slack(folder: Path, *options: str) -> Iterator[FakeSlack]:
    """The fake Slack as a process logging into ``folder``; ``options`` as its command line takes
    them (``--rate N`` answers 429 over N posts a second)."""
    log = folder / "delivered.jsonl"
    command = [sys.executable, "-m", "tests.fake_slack", "--port", "0", "--log", str(log)]
    command += ["--responses", str(folder / "responses.jsonl"), *options]
    with open(folder / "fake_slack.err", "w", encoding="utf-8") as err:
        process = subprocess.Popen(
            command, cwd=ROOT, env=child_env({}), stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        assert first.startswith("PORT "), f"the fake Slack did not start: {first!r} {tail(err.name)}"
        yield FakeSlack(process, int(first.split()[1]), log)
    finally:
        stop(process, 10)
        if process.stdout is not None:
            process.stdout.close()


def stop(process: subprocess.Popen[Any], grace_s: float) -> None:
    """SIGTERM, and SIGKILL if it has not ended after ``grace_s``; a process already ended is left."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def fake_slack(tmp_path: Path) -> Iterator[FakeSlack]:
    with started_fake_slack(tmp_path) as fake:
        yield fake


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment without the developer's own settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_")) and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


def tail(path: str | Path, lines: int = 15) -> str:
    try:
        return "\n".join(Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""
