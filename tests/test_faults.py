"""Acceptance for scaling out: two web processes, two workers and two clocks on PostgreSQL run a
survey to its digest while processes are killed (SIGKILL) at random and started again, as a process
manager would, the database drops every connection now and then (what a PostgreSQL restart does to
them), and Slack answers 429 to a good share of the posts. Nobody gets the invitation twice, no
acknowledged answer is lost, and the digest is posted once. On SQLite (one web process, the rest as
on PostgreSQL) the same holds with five processes writing to one file.

The short form runs in `make test`; `make faults` runs the full one (1,000 people, 20 kills and 4
database drops). The fake Slack is a process of its own, so that it outlives every kill and logs
each post. Teams' refusals (403 for a blocked bot, 429 with Retry-After) are met in
tests/test_survey_teams.py against the fake connector.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import yaml
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import create_engine, make_url, text

from tests.fake_slack import BOT_TOKEN, TEAM
from tests.processes import FakeSlack, child_env, started_fake_slack, tail

FULL = os.environ.get("PMO_FAULTS") == "1"
PEOPLE = 1000 if FULL else 200
KILLS = 20 if FULL else 8
ANSWERING = 0.6  # the share of people who answer
SECRET = "faults-signing-secret"
RESPONSE_SECRET = "faults-response-secret"
ADMIN = "U9ADMIN001"
DIGEST_CHANNEL = "C0DIGEST01"
SERVICES = ["reporting", "governance"]
RATE = 150  # messages a second the senders allow themselves: the kills fall during the fan-out
SLACK_LIMIT = 60  # what the fake Slack takes a second: the rest is answered 429
RESTART_EVERY = 5  # after every fifth kill the database drops all the deployment's connections
DEADLINE_S = 240.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Role:
    name: str
    args: list[str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0


@dataclass
class Deployment:
    tmp: Path
    env: dict[str, str]
    roles: list[Role] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    kill_times: list[tuple[float, str]] = field(default_factory=list)
    drops: list[int] = field(default_factory=list)  # sessions ended at each database "restart"

    def start(self, role: Role) -> None:
        role.starts += 1
        log = open(self.tmp / f"{role.name}.log", "ab")  # noqa: SIM115 - the child keeps it
        role.process = subprocess.Popen(
            [sys.executable, "-m", "bot.app.cli", *role.args],
            cwd=self.tmp, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def kill_one(self, rng: random.Random) -> None:
        role = rng.choice(self.roles)
        assert role.process is not None
        if role.process.poll() is None:
            os.kill(role.process.pid, signal.SIGKILL)
        role.process.wait()
        self.kills.append(role.name)
        self.kill_times.append((time.monotonic(), role.name))
        self.start(role)  # as a process manager would, at once

    def stop(self) -> None:
        for role in self.roles:
            if role.process is not None and role.process.poll() is None:
                role.process.send_signal(signal.SIGTERM)
        for role in self.roles:
            if role.process is not None:
                try:
                    role.process.wait(15)
                except subprocess.TimeoutExpired:
                    role.process.kill()
                    role.process.wait()

    def crashed(self) -> list[str]:
        """Roles that exited by themselves (not killed by us)."""
        return [
            f"{r.name} exited {r.process.returncode}:\n{tail(self.tmp / f'{r.name}.log')}"
            for r in self.roles
            if r.process is not None and r.process.poll() is not None
        ]


def _signed(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body),
    }


async def _post(session: aiohttp.ClientSession, ports: list[int], body: str, rng: random.Random) -> int:
    """Posts to one web process, the other if it is down (being restarted); the status, or 0."""
    for port in rng.sample(ports, len(ports)):
        try:
            async with session.post(
                f"http://127.0.0.1:{port}/slack/events", data=body.encode(), headers=_signed(body),
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:  # fmt: skip
                await response.read()
                return response.status
        except (aiohttp.ClientError, TimeoutError):
            continue
    return 0


def _click(run_id: int, user: str, score: int, fake_port: int) -> str:
    dm = "D" + user[1:]
    value = json.dumps(
        {"i": "survey_answer", "s": {"run": str(run_id), "q": SERVICES[0], "v": str(score)}, "p": ""},
        separators=(",", ":"),
    )
    payload = {
        "type": "block_actions", "team": {"id": TEAM}, "user": {"id": user}, "api_app_id": "A0APP",
        "trigger_id": f"trigger-{user}", "channel": {"id": dm},
        "container": {"type": "message", "message_ts": "1.2", "channel_id": dm},
        "response_url": f"http://127.0.0.1:{fake_port}/response/r-{user}",
        "actions": [{"action_id": f"pmo:q:{SERVICES[0]}:{score}", "value": value, "type": "button",
                     "block_id": "q", "action_ts": "1"}],
    }  # fmt: skip
    return "payload=" + urllib.parse.quote(json.dumps(payload))


def _respondent(run_id: int, user: str) -> str:
    # The keyed hash that stands for a person in the answers (jobs.surveys.Surveys.respondent).
    key = RESPONSE_SECRET.encode()
    return hmac.new(key, f"{run_id}\x00slack:{user}".encode(), hashlib.sha256).hexdigest()


def _dm_channels(fake: FakeSlack) -> set[str]:
    return {line["channel"] for line in fake.delivered() if line["channel"].startswith("D")}


def _query(database_url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


async def test_killing_web_workers_and_clocks_loses_no_answer_and_sends_nothing_twice(
    database_url: str, tmp_path: Path
) -> None:
    with started_fake_slack(tmp_path, "--rate", str(SLACK_LIMIT)) as fake_slack:
        await _run_to_the_digest(database_url, fake_slack, tmp_path)


def _drop_connections(database_url: str, application: str) -> int:
    """What a PostgreSQL restart does to the deployment: every session of it ends at once."""
    rows = _query(
        database_url,
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{application}'",
    )
    return len(rows)


async def _run_to_the_digest(database_url: str, fake_slack: FakeSlack, tmp_path: Path) -> None:
    started = time.monotonic()
    postgres = database_url.startswith("postgresql")
    admin_url = database_url  # the test's own session, which the drops leave alone
    application = f"pmo-faults-{os.getpid()}-{int(started * 1000) % 100000}"
    if postgres:
        # Named, so that the drops hit this deployment's sessions and nobody else's.
        database_url = (
            make_url(database_url)
            .update_query_dict({"application_name": application})
            .render_as_string(hide_password=False)
        )
    rng = random.Random(int(os.environ.get("PMO_FAULTS_SEED", "15")))
    members = [f"U{n:010d}" for n in range(1, PEOPLE + 1)]
    # Weekly, and due a minute ago: the clock opens it at its first tick.
    due = datetime.now(UTC) - timedelta(minutes=1)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[due.weekday()]
    schedule = f"{due.minute} {due.hour} * * {day}"
    survey = {"schedule": schedule, "timezone": "UTC", "open_hours": 72, "min_responses": 3}
    team = {"id": "big", "platform": "slack", "members": members, "services": SERVICES,
            "digest_channel": DIGEST_CHANNEL, "survey": survey}  # fmt: skip
    (tmp_path / "teams.yaml").write_text(yaml.safe_dump({"teams": [team]}), encoding="utf-8")
    env = child_env(
        {
            "DATABASE_URL": database_url,
            "PMO_CONFIG": str(tmp_path / "teams.yaml"),
            "PMO_ADMINS": f"slack:{ADMIN}",
            "PMO_RESPONSE_SECRET": RESPONSE_SECRET,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": f"http://127.0.0.1:{fake_slack.port}/api/",
            "PMO_SCHEDULER": "off",
            "PMO_OUTBOX_LEASE_S": "2",  # a killed sender's claims lapse soon
            "PMO_SLACK_RATE": str(RATE),
            "PMO_CLOCK_TICK_S": "1",
            "PMO_HOST": "127.0.0.1",
        }
    )
    subprocess.run([sys.executable, "-m", "bot.app.cli", "db", "upgrade"], env=env, cwd=tmp_path, check=True,
                   capture_output=True, timeout=120)  # fmt: skip
    ports = [_free_port(), _free_port()] if postgres else [_free_port()]
    deployment = Deployment(tmp_path, env)
    deployment.roles = [
        *(Role(f"web{n}", ["serve", "--port", str(p)]) for n, p in enumerate(ports, 1)),
        Role("worker1", ["worker"]), Role("worker2", ["worker"]),
        Role("clock1", ["clock"]), Role("clock2", ["clock"]),
    ]  # fmt: skip
    for role in deployment.roles:
        deployment.start(role)
    answered: set[str] = set()
    clicked: dict[str, float] = {}
    try:
        async with aiohttp.ClientSession() as session:
            # The clock opens the run on its schedule.
            run_id = None
            while run_id is None:
                crashed = deployment.crashed()
                # Six processes start at once on two cores: under load that takes a while.
                assert not crashed and time.monotonic() - started < 120, "\n".join(crashed) or "no run opened"
                rows = _query(database_url, "SELECT id FROM survey_runs")
                run_id = int(str(rows[0][0])) if rows else None
                await asyncio.sleep(0.2)

            async def kill_now_and_then() -> None:
                for n in range(1, KILLS + 1):
                    await asyncio.sleep(rng.uniform(0.3, 1.2))
                    deployment.kill_one(rng)
                    if postgres and n % RESTART_EVERY == 0:
                        await asyncio.sleep(rng.uniform(0.1, 0.5))
                        dropped = await asyncio.to_thread(_drop_connections, admin_url, application)
                        deployment.drops.append(dropped)

            killing = asyncio.ensure_future(kill_now_and_then())
            chosen = set(rng.sample(members, int(PEOPLE * ANSWERING)))
            pending = set(chosen)
            while pending or not killing.done():
                assert time.monotonic() - started < DEADLINE_S, (
                    f"{len(pending)} answers not taken, {fake_slack.count()} posts; kills {deployment.kills}"
                )
                invited = {"U" + channel[1:] for channel in _dm_channels(fake_slack)}
                ready = sorted(pending & invited)[:40]
                clicks = [_click(run_id, user, rng.randint(1, 5), fake_slack.port) for user in ready]
                statuses = await asyncio.gather(*(_post(session, ports, click, rng) for click in clicks))
                for user, status in zip(ready, statuses, strict=True):
                    assert status in (0, 200), f"a click answered {status}"
                    if status in (0, 200):
                        clicked[user] = time.monotonic()
                    if status == 200:
                        answered.add(user)  # acknowledged: Slack shows it as taken
                        pending.discard(user)
                await asyncio.sleep(0.05)
            await killing

            # Everyone invited, by whichever senders survived.
            while len(_dm_channels(fake_slack)) < PEOPLE:
                assert time.monotonic() - started < DEADLINE_S, f"only {fake_slack.count()} posts"
                await asyncio.sleep(0.2)

            # The admin closes the survey from Slack; the digest follows.
            response_url = f"http://127.0.0.1:{fake_slack.port}/response/admin"
            fields = {
                "team_id": TEAM, "channel_id": "C0CHAN0001", "user_id": ADMIN, "command": "/pmo",
                "text": "survey close big", "response_url": response_url, "trigger_id": "t",
            }  # fmt: skip
            command = urllib.parse.urlencode(fields)
            while (status := await _post(session, ports, command, rng)) != 200:
                # Both web processes restarting after the last kills: the admin tries again.
                assert status == 0 and time.monotonic() - started < DEADLINE_S, status
                await asyncio.sleep(0.5)
            while not [line for line in fake_slack.delivered() if line["channel"] == DIGEST_CHANNEL]:
                assert time.monotonic() - started < DEADLINE_S, "no digest:\n" + tail(tmp_path / "web1.log")
                await asyncio.sleep(0.2)
            await asyncio.sleep(3)  # time for a second digest, were one coming
            async with session.get(f"http://127.0.0.1:{fake_slack.port}/_stats") as response:
                refused = (await response.json())["rejected"].get("chat.postMessage", 0)
    finally:
        deployment.stop()

    # A click answered "Sorry, something went wrong" (the database dropped it mid-way) was never
    # taken: the person sees that and clicks again. The rest must all be kept.
    sorry = {line["name"][2:] for line in fake_slack.responses() if line["text"].startswith("Sorry")}
    answered -= sorry
    posts = fake_slack.delivered()
    dms = Counter(line["channel"] for line in posts if line["channel"][0] == "D")
    twice = sorted(c for c, n in dms.items() if n > 1)
    assert not twice, f"{len(twice)} people got the invitation more than once: {twice[:10]}"
    assert len(dms) == PEOPLE
    digests = [line for line in posts if line["channel"] == DIGEST_CHANNEL]
    assert len(digests) == 1, f"{len(digests)} digests posted"
    sql = f"SELECT DISTINCT respondent FROM survey_responses WHERE run_id = {run_id}"
    kept = {str(row[0]) for row in _query(database_url, sql)}
    lost = {u: round(clicked[u] - started, 2) for u in answered if _respondent(run_id, u) not in kept}
    kills = [f"{name} at {at - started:.2f} s" for at, name in deployment.kill_times]
    assert not lost, f"acknowledged and lost (user: seconds in): {lost}; kills: {kills}"
    invented = kept - {_respondent(run_id, u) for u in clicked}
    assert not invented, f"{len(invented)} answers stored from nobody who clicked"
    kinds = Counter(name.rstrip("12") for name in deployment.kills)
    if postgres:
        # A drop just after a kill may find its processes still starting, with no session yet.
        assert sum(deployment.drops) > 0, f"the database drops ended no session: {deployment.drops}"
    assert refused > 0, "Slack never answered 429: the storm did not happen"
    print(
        f"\n{database_url.split(':', 1)[0]}: {PEOPLE} invited once each ({refused} posts answered 429), "
        f"{len(answered)} answers kept, {len(sorry)} apologised for, one digest, after "
        f"{len(deployment.kills)} kills ({dict(kinds)}) and {len(deployment.drops)} database drops "
        f"({sum(deployment.drops)} sessions) in {time.monotonic() - started:.1f} s"
    )
