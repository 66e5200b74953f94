"""No secret in any output, checked on real processes as an operator runs them: ``pmo-bot serve``
with every secret set to a recognisable value, driven through its failures (a refused web token, a
Slack request with a bad signature, a bot token the fake Slack refuses, Teams requests with no or a
forged token), and the CLI, ``clock`` and ``worker`` starting, working and failing (a database that
cannot be reached). Whatever they print or log, the word every secret holds appears nowhere."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import make_url

from tests.fake_slack import TEAM
from tests.processes import FakeSlack, child_env, tail
from tests.test_serve import free_port
from tests.test_survey_slack import teams_file
from tests.web_client import register_csv

MARK = "leakcheck"  # in every secret, and in nothing else the processes see
SECRETS = {
    "SLACK_BOT_TOKEN": f"xoxb-9317-{MARK}-bot-token",
    "SLACK_SIGNING_SECRET": f"{MARK}-signing-secret-5521",
    "PMO_WEB_TOKEN": f"{MARK}-web-token-0427",
    "MICROSOFT_APP_PASSWORD": f"{MARK}-app-password-8830",
    "PMO_RESPONSE_SECRET": f"{MARK}-response-secret-1164",
}
DB_PASSWORD = f"{MARK}-db-p@ss/w0rd"
UNREACHABLE = "postgresql+psycopg://pmo:" + urllib.parse.quote(DB_PASSWORD, safe="") + "@127.0.0.1:1/none"
ADMIN = "U0ADMIN001"
PEOPLE = ["U0P0000001", "U0P0000002", "U0P0000003"]
# A well-formed JWT that is not Microsoft's (no issuer the SDK knows): refused without a network call.
FORGED_JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def with_password(url: str) -> str:
    """``url`` with DB_PASSWORD in it where the database has users (PostgreSQL ignores it under
    trust authentication); SQLite has none, and meets the password in the unreachable URL only."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.set(password=DB_PASSWORD).render_as_string(hide_password=False)


def environment(tmp_path: Path, fake_slack: FakeSlack, database_url: str, **extra: str) -> dict[str, str]:
    teams_file(tmp_path / "pmo-bot.yaml", PEOPLE)
    return child_env(
        {
            **SECRETS,
            "SLACK_API_URL": f"http://127.0.0.1:{fake_slack.port}/api/",
            "MICROSOFT_APP_ID": "11111111-2222-3333-4444-555555555555",
            "MICROSOFT_APP_TENANT_ID": "72f9a1b2-0000-4000-8000-0000000000aa",
            "DATABASE_URL": with_password(database_url),
            "PMO_CONFIG": str(tmp_path / "pmo-bot.yaml"),
            "PMO_ADMINS": f"slack:{ADMIN}",
            **extra,
        }
    )


def assert_no_secret(name: str, text: str) -> None:
    for value in (*SECRETS.values(), DB_PASSWORD, urllib.parse.quote(DB_PASSWORD, safe="")):
        assert value not in text, f"{name} shows a secret"
    where = text.find(MARK)
    assert where < 0, f"{name} shows part of a secret: ...{text[max(0, where - 80) : where + 40]}..."


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot.app.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip


class Process:
    """A long-running command with its output in files (a pipe nobody reads would fill up)."""

    def __init__(self, env: dict[str, str], cwd: Path, name: str, *args: str) -> None:
        self.out, self.err = cwd / f"{name}.out", cwd / f"{name}.err"
        with open(self.out, "w", encoding="utf-8") as out, open(self.err, "w", encoding="utf-8") as err:
            self.process = subprocess.Popen([sys.executable, "-m", "bot.app.cli", *args], cwd=cwd, env=env,
                                            stdout=out, stderr=err, text=True)  # fmt: skip

    def wait_for(self, words: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while words not in self.err.read_text(encoding="utf-8"):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"never logged {words!r}: {tail(self.err)}")
            time.sleep(0.1)

    def stop(self) -> tuple[int, str, str]:
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise
        return code, self.out.read_text(encoding="utf-8"), self.err.read_text(encoding="utf-8")


def call(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
    """(status, body, Set-Cookie) of one request, whatever its status."""
    method = "POST" if body is not None else "GET"
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode(), response.headers.get("Set-Cookie") or ""
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(), error.headers.get("Set-Cookie") or ""


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def wait_until_up(base: str, process: Process) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            if call(f"{base}/healthz")[0] == 200:
                return
        except urllib.error.URLError:
            pass
        if process.process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"serve did not answer /healthz: {tail(process.err)}")
        time.sleep(0.2)


def slack_post(base: str, body: str, content_type: str, secret: str = "", age: int = 0) -> tuple[int, str]:
    """``body`` signed as Slack signs it (with the signing secret unless told another)."""
    ts = str(int(time.time()) - age)
    verifier = SignatureVerifier(secret or SECRETS["SLACK_SIGNING_SECRET"])
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": str(verifier.generate_signature(timestamp=ts, body=body)),
    }
    status, answer, _ = call(f"{base}/slack/events", body.encode(), headers)
    return status, answer


def event(event_id: str, **fields: object) -> str:
    dm = {"type": "message", "channel": "D0P0000001", "channel_type": "im", "user": PEOPLE[0], "ts": "1.1"}
    return json.dumps(
        {"type": "event_callback", "team_id": TEAM, "event_id": event_id, "event": {**dm, **fields}}
    )


def drive(base: str, fake_slack: FakeSlack) -> None:
    """Traffic with failures on every door of the server."""
    # The web chat: a wrong token, the right one (in the body and in an old-style link), a turn, a file.
    web = {"X-PMO-Web": "1", "Content-Type": "application/json"}
    token = SECRETS["PMO_WEB_TOKEN"]
    assert call(f"{base}/web/login", json.dumps({"token": "not-the-token"}).encode(), web)[0] == 401
    status, _, cookie = call(f"{base}/web/login", json.dumps({"token": token}).encode(), web)
    assert status == 204 and cookie
    assert call(f"{base}/?token={token}")[0] == 303
    session = {**web, "Cookie": cookie.split(";", 1)[0]}
    assert call(f"{base}/web/message", json.dumps({"text": "help"}).encode(), session)[0] == 200
    head = '--b0undary\r\nContent-Disposition: form-data; name="file"; filename="r.csv"\r\n\r\n'
    upload = head.encode() + register_csv("Supplier late", "Ana") + b"\r\n--b0undary--\r\n"
    multipart = {**session, "Content-Type": "multipart/form-data; boundary=b0undary"}
    assert call(f"{base}/web/upload", upload, multipart)[0] == 200

    # Slack: a bad signature, a stale one, then signed turns whose answers the fake Slack refuses
    # (the bot token is not the one it knows), a file it will not hand over, a survey opened.
    helped = event("Ev0LEAK001", text="help")
    assert slack_post(base, helped, "application/json", secret="wrong-secret")[0] == 401
    assert slack_post(base, helped, "application/json", age=3600)[0] == 401
    assert slack_post(base, helped, "application/json")[0] == 200
    download = f"http://127.0.0.1:{fake_slack.port}/files-pri/{TEAM}-F1/download"
    register = {"id": "F1", "name": "r.csv", "size": 100, "url_private_download": download}
    shared = event("Ev0LEAK002", subtype="file_share", ts="1.2", files=[register])
    assert slack_post(base, shared, "application/json")[0] == 200
    command = {"team_id": TEAM, "channel_id": "C0CHAN0001", "user_id": ADMIN, "command": "/pmo"}
    opening = urllib.parse.urlencode({**command, "text": "survey open t", "trigger_id": "t"})
    # Bolt checks the bot token with auth.test first; refused, it answers with its own apology.
    assert slack_post(base, opening, "application/x-www-form-urlencoded")[0] == 200

    # Teams: with an app id every activity needs Microsoft's token; none, garbage and a forged one.
    activity = {
        "type": "message",
        "id": "1",
        "channelId": "msteams",
        "serviceUrl": "http://127.0.0.1:9/",
        "from": {"id": "29:1ann"},
        "recipient": {"id": "28:bot"},
        "conversation": {"id": "a:1ann"},
        "text": "help",
    }
    for authorisation in ("", "Bearer not.a.token", f"Bearer {FORGED_JWT}"):
        headers = {
            "Content-Type": "application/json",
            **({"Authorization": authorisation} if authorisation else {}),
        }
        assert call(f"{base}/api/messages", json.dumps(activity).encode(), headers)[0] == 401


def test_serve_keeps_every_secret_out_of_its_output(
    tmp_path: Path, fake_slack: FakeSlack, database_url: str
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Process(
        environment(tmp_path, fake_slack, database_url, PORT=str(port)), tmp_path, "serve", "serve"
    )
    try:
        wait_until_up(base, serve)
        drive(base, fake_slack)
        # The invitations the survey sends are refused by the fake Slack: wait until that is logged.
        serve.wait_for("invalid_auth", timeout=30)
    finally:
        code, out, err = serve.stop()
    assert code == 0, tail(serve.err)
    assert "pmo-bot is running" in out and "#token=<PMO_WEB_TOKEN>" in out
    assert [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert_no_secret("serve's output", out + err)


def test_the_cli_clock_and_worker_keep_every_secret_out_of_their_output(
    tmp_path: Path, fake_slack: FakeSlack, database_url: str
) -> None:
    env = environment(tmp_path, fake_slack, database_url)
    assert run(env, tmp_path, "db", "upgrade").returncode == 0
    outputs: dict[str, str] = {}

    # Working: a survey opened whose invitations the fake Slack refuses, its status and digest.
    opened = run(env, tmp_path, "survey", "open", "--team", "t")
    assert opened.returncode == 1 and "Slack refused the bot: invalid_auth" in opened.stderr, opened.stderr
    outputs["survey open"] = opened.stdout + opened.stderr
    status = run(env, tmp_path, "survey", "status", "--team", "t", "--json")
    assert status.returncode == 0 and json.loads(status.stdout)["invited"] == 3, status.stderr
    outputs["survey status"] = status.stdout + status.stderr
    digest = run(env, tmp_path, "digest", "--team", "t")
    assert digest.returncode == 1
    outputs["digest"] = digest.stdout + digest.stderr

    # Starting and stopping: the clock and a worker.
    for name, ready in (("clock", "clock running"), ("worker", "worker running")):
        process = Process(env, tmp_path, name, name)
        try:
            process.wait_for(ready)
        finally:
            code, out, err = process.stop()
        assert code == 0, tail(process.err)
        outputs[name] = out + err

    for name, text in outputs.items():
        assert_no_secret(name, text)


def test_commands_that_cannot_reach_the_database_never_show_its_password(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    env = environment(tmp_path, fake_slack, UNREACHABLE)
    for args in (("survey", "status", "--team", "t"), ("db", "upgrade"), ("clock",), ("worker",), ("serve",)):
        result = run({**env, "PORT": str(free_port())}, tmp_path, *args)
        assert result.returncode == 1, (args, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(
            "pmo-bot: cannot open the database at postgresql+psycopg://pmo:***@127.0.0.1:1/"
        )
        assert "Traceback" not in result.stderr
        assert_no_secret(" ".join(args), result.stdout + result.stderr)


@pytest.mark.parametrize("secret", ['pa"ss\\word-9', "päss-wörd-9", "p%40ss-9"])
def test_a_secret_is_removed_however_json_writes_it(secret: str) -> None:
    from bot.logs import JsonFormatter

    record = logging.makeLogRecord({"msg": "connecting with %s", "args": (secret,), "levelno": 40})
    line = JsonFormatter((secret,)).format(record)
    assert json.loads(line)["msg"] == "connecting with [redacted]"
