"""`pmo-bot serve` as a real process: it starts with no credentials, answers /healthz, logs JSON
with no secret in it, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from adapters.slack.manifest import manifest, manifest_yaml
from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(tmp_path: Path, extra: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "PORT": str(port), **extra})
    proc = subprocess.Popen([sys.executable, "-m", "bot.app.cli", "serve"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                assert json.loads(response.read()) == {"status": "ok"}
                return proc, port
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stderr.read() if proc.stderr else "serve exited") from None
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("serve did not answer /healthz within 30 s")


def stop(proc: subprocess.Popen[str]) -> tuple[int, list[dict[str, object]]]:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return proc.returncode, lines


def test_serve_without_credentials_says_how_to_connect_slack(tmp_path: Path) -> None:
    proc, port = start(tmp_path, {})
    request = urllib.request.Request(f"http://127.0.0.1:{port}/slack/events", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 503
    caught.value.close()
    code, logs = stop(proc)
    assert code == 0
    messages = [str(line["msg"]) for line in logs]
    assert any("Slack is not connected" in m and "SLACK_BOT_TOKEN" in m for m in messages)
    assert any(m == "stopped" for m in messages)
    assert (tmp_path / "bot.db").exists()  # migrations ran on start


def test_serve_with_slack_keeps_secrets_out_of_its_logs(tmp_path: Path) -> None:
    secrets = {"SLACK_BOT_TOKEN": "xoxb-1111-secret-token", "SLACK_SIGNING_SECRET": "sign-secret-9999",
               "SLACK_API_URL": "http://127.0.0.1:9/api/"}  # fmt: skip
    proc, _ = start(tmp_path, secrets)
    code, logs = stop(proc)
    assert code == 0
    text = json.dumps(logs)
    assert "Slack over HTTP is on" in text
    assert "xoxb-1111" not in text and "sign-secret-9999" not in text


def test_db_upgrade_command(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PMO_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    result = subprocess.run([sys.executable, "-m", "bot.app.cli", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    env["DATABASE_URL"] = "postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none"
    bad = subprocess.run([sys.executable, "-m", "bot.app.cli", "db", "upgrade"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert bad.returncode == 1
    assert len(bad.stderr.strip().splitlines()) == 1
    assert "hunter2" not in bad.stderr


def test_manifest_in_the_repo_is_the_printed_one() -> None:
    assert (ROOT / "slack-manifest.yaml").read_text(encoding="utf-8") == manifest_yaml()
    socket_mode = manifest(socket_mode=True)
    assert socket_mode["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in socket_mode["settings"]["event_subscriptions"]
    http = manifest("https://bot.example.org")
    assert http["features"]["slash_commands"][0]["url"] == "https://bot.example.org/slack/events"
    assert {"commands", "chat:write", "im:history", "app_mentions:read", "files:read"} <= set(
        http["oauth_config"]["scopes"]["bot"]
    )
    assert {"app_mention", "message.im", "app_home_opened"} <= set(
        http["settings"]["event_subscriptions"]["bot_events"]
    )


def test_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
        env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}", "PORT": str(port)})
        result = subprocess.run([sys.executable, "-m", "bot.app.cli", "serve"], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("pmo-bot: cannot listen on") and "Traceback" not in result.stderr
