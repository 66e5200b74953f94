"""Acceptance: killing the sending process (SIGKILL) three times during a 1,000-person survey and
restarting it delivers to all 1,000 with no duplicates.

Everything runs as it would for an operator: the fake Slack is a process of its own (so that it
outlives the senders and keeps what they posted), and ``pmo-bot survey open --team big`` is run,
killed when the fake has taken about 20 %, 50 % and 80 % of the invitations, and run again, until
the last run finishes. Between runs the test reads the outbox to count the messages each kill
stranded, and which of those had already reached Slack (their sender died between the post and the
record): those must be found in the DM's history, not sent again.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from jobs.sender import SenderSettings
from tests.fake_slack import BOT_TOKEN
from tests.processes import FakeSlack, child_env, tail

ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 1000
# About 20 %, 50 % and 80 %, away from the ends of the sender's claims (50 messages each): a kill
# there strands claimed messages not yet sent as well as any sent but not yet recorded.
KILL_AT = (213, 487, 806)
# Far above what one sender manages on loopback, so that the run is as short as the machine allows
# and many sends are in flight at each kill.
RATE = 400
DEADLINE_S = 60.0  # for any one run to reach its mark or to finish
# A sender holds at most one claim of stranded messages and one of fresh ones at a time.
HELD = 2 * SenderSettings().batch


class Operator:
    """Runs ``pmo-bot survey ...`` as the operator would, each run with logs of its own."""

    def __init__(self, tmp_path: Path, database_url: str, port: int) -> None:
        self.tmp_path = tmp_path
        teams = tmp_path / "teams.yaml"
        members = [f"U{n:010d}" for n in range(1, PEOPLE + 1)]
        team = {"id": "big", "platform": "slack", "members": members, "services": ["reporting", "governance"]}
        teams.write_text(yaml.safe_dump({"teams": [team]}), encoding="utf-8")
        self.env = child_env(
            {
                "DATABASE_URL": database_url,
                "PMO_CONFIG": str(teams),
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_API_URL": f"http://127.0.0.1:{port}/api/",
                "PMO_SCHEDULER": "off",
                "PMO_OUTBOX_LEASE_S": "1",  # a restart takes over what a killed sender held at once
                "PMO_SLACK_RATE": str(RATE),
            }
        )
        self.runs = 0

    def start(self, *args: str) -> tuple[subprocess.Popen[str], Path]:
        self.runs += 1
        out = self.tmp_path / f"run{self.runs}.out"
        with open(out, "w", encoding="utf-8") as sink:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot.app.cli", *args],
                cwd=self.tmp_path,  # away from any .env in the checkout
                env=self.env,
                stdout=sink,
                stderr=subprocess.STDOUT,
                text=True,
            )
        return process, out

    def run(self, *args: str) -> str:
        process, out = self.start(*args)
        try:
            code = process.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail(f"pmo-bot {' '.join(args)} did not finish in {DEADLINE_S:.0f} s:\n{tail(out)}")
        output = out.read_text(encoding="utf-8")
        assert code == 0, f"pmo-bot {' '.join(args)} exited {code}:\n{tail(out)}"
        return output


def _outbox(database_url: str) -> list[tuple[str, str, str | None]]:
    """(recipient, state, message_ref) of every invitation, read straight from the database."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT recipient, state, message_ref FROM survey_outbox WHERE kind = 'invite'")
            )
            return [(r[0], r[1], r[2]) for r in rows]
    finally:
        engine.dispose()


def _user_of(channel: str) -> str:
    return "U" + channel[1:]  # the fake's DM with U0000000001 is D0000000001


def test_sigkill_three_times_delivers_to_everyone_once(
    database_url: str, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    started = time.monotonic()
    operator = Operator(tmp_path, database_url, fake_slack.port)
    stranded_total = already_delivered_total = 0
    for mark in KILL_AT:
        before = fake_slack.count()
        process, out = operator.start("survey", "open", "--team", "big")
        try:
            deadline = time.monotonic() + DEADLINE_S
            while fake_slack.count() < mark:
                if process.poll() is not None:
                    pytest.fail(
                        f"run {operator.runs} ended (exit {process.returncode}) at "
                        f"{fake_slack.count()} delivered, before the {mark} mark:\n{tail(out)}"
                    )
                if time.monotonic() > deadline:
                    pytest.fail(f"run {operator.runs} did not reach {mark} in time:\n{tail(out)}")
                time.sleep(0.005)
            os.kill(process.pid, signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
        assert process.returncode == -signal.SIGKILL
        assert fake_slack.count() > before, f"run {operator.runs} delivered nothing before it was killed"
        time.sleep(0.2)  # anything the fake had read before the kill is in its log by now

        # What the kill left behind: claimed ("sending") rows, some of them already in Slack.
        posted = {_user_of(line["channel"]) for line in fake_slack.delivered()}
        stranded = [who for who, state, _ in _outbox(database_url) if state == "sending"]
        already = [who for who in stranded if who in posted]
        assert len(stranded) <= HELD, f"a sender held {len(stranded)} messages at once: claims over-reach"
        stranded_total += len(stranded)
        already_delivered_total += len(already)
        print(
            f"\nkill {operator.runs} at {fake_slack.count()}/{PEOPLE} delivered: {len(stranded)} stranded "
            f"mid-send, {len(already)} of them already delivered (to be found, not re-sent)"
        )

    final = operator.run("survey", "open", "--team", "big")
    assert "Resumed big/" in final and f"{PEOPLE} of {PEOPLE} invitations delivered" in final, final

    lines = fake_slack.delivered()
    channels = Counter(line["channel"] for line in lines)
    twice = sorted(c for c, n in channels.items() if n > 1)
    assert not twice, f"{len(twice)} people got the invitation more than once: {twice[:10]}"
    assert len(channels) == PEOPLE, f"{PEOPLE - len(channels)} people were never invited"
    assert {_user_of(c) for c in channels} == {f"U{n:010d}" for n in range(1, PEOPLE + 1)}
    markers = Counter(line["metadata"]["event_payload"]["outbox"] for line in lines)
    assert len(markers) == PEOPLE and max(markers.values()) == 1

    # The outbox records each person's message as the one Slack holds, including the stranded ones
    # that were found in the history rather than sent again.
    outbox = _outbox(database_url)
    assert Counter(state for _, state, _ in outbox) == {"sent": PEOPLE}
    assert {ref for _, _, ref in outbox} == {f"{line['channel']}/{line['ts']}" for line in lines}

    status = json.loads(operator.run("survey", "status", "--team", "big", "--json").splitlines()[-1])
    assert (status["invited"], status["delivered"], status["waiting"]) == (PEOPLE, PEOPLE, 0), status
    assert status["failed"] == status["not_installed"] == status["unreachable"] == 0, status

    # Each kill found sends in flight (claims of 50, 16 at a time): recovery was really exercised.
    assert stranded_total > 0, "no kill left a message mid-send: the test did not exercise recovery"
    print(
        f"{database_url.split(':', 1)[0]}: {PEOPLE} delivered once each after {len(KILL_AT)} kills in "
        f"{time.monotonic() - started:.1f} s; {stranded_total} stranded, of which "
        f"{already_delivered_total} found already delivered and {stranded_total - already_delivered_total} "
        "sent for the first time after the restart"
    )
