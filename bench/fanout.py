"""Benchmark of a survey fan-out: ``pmo-bot survey open`` inviting a team of ``--recipients`` people
through the standalone fake Slack, which accepts ``--rate`` chat.postMessage calls in any sliding
second and answers 429 (Retry-After: 1) beyond that.

The sender is told the workspace allows ``--configured-rate`` messages a second (PMO_SLACK_RATE; by
default the fake's real limit, as an operator would set it). Set it above ``--rate`` to watch the
sender meet 429s and slow down. Prints the time from the first to the last delivery against the
floor (recipients / rate), the whole command's wall time, duplicates, misses and 429s; exits 1 on
any duplicate or miss.

    python bench/fanout.py [--recipients 1000] [--rate 50] [--configured-rate R] [--database-url URL]

Acceptance: at 50 messages a second, 1,000 invitations within 1.1 x the 20 s floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from scratch_db import database  # the folder of this script is on sys.path
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_slack import BOT_TOKEN  # noqa: E402

TARGET = 1.1  # the acceptance bound, as a multiple of the floor


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment without the caller's own pmo-bot, Slack or Teams settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_")) and k != "DATABASE_URL"
    }
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return {**env, **extra}


@contextmanager
def fake_slack(rate: int, log: Path, folder: Path) -> Iterator[str]:
    """The standalone fake Slack, limited to ``rate`` posts a second; yields its base URL."""
    command = [sys.executable, "-m", "tests.fake_slack", "--port", "0", "--rate", str(rate)]
    command += ["--log", str(log)]
    with open(folder / "fake_slack.err", "w", encoding="utf-8") as err:
        process = subprocess.Popen(
            command, cwd=ROOT, env=clean_env({}), stdout=subprocess.PIPE, stderr=err, text=True
        )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().strip()
        if not first.startswith("PORT "):
            raise SystemExit(f"the fake Slack did not start: {first!r}")
        yield f"http://127.0.0.1:{int(first.split()[1])}"
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--recipients", type=int, default=1000, help="people on the team (default 1000)")
    parser.add_argument("--rate", type=int, default=50, help="posts a second the fake accepts (default 50)")
    parser.add_argument(
        "--configured-rate",
        type=float,
        help="PMO_SLACK_RATE, the limit the sender is told (default: --rate)",
    )
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://...; default: SQLite in a temp dir")
    args = parser.parse_args()
    configured = args.configured_rate or float(args.rate)
    if args.recipients < 1 or args.rate < 1:
        parser.error("--recipients and --rate must be at least 1")

    with tempfile.TemporaryDirectory(prefix="pmo-fanout-") as name:
        folder = Path(name)
        log = folder / "delivered.jsonl"
        teams = folder / "teams.yaml"
        members = [f"U{n:010d}" for n in range(1, args.recipients + 1)]
        services = ["reporting", "governance"]
        team = {"id": "bench", "platform": "slack", "members": members, "services": services}
        teams.write_text(yaml.safe_dump({"teams": [team]}), encoding="utf-8")
        with fake_slack(args.rate, log, folder) as base, database(args.database_url, folder) as url:
            env = clean_env(
                {
                    "DATABASE_URL": url,
                    "PMO_CONFIG": str(teams),
                    "SLACK_BOT_TOKEN": BOT_TOKEN,
                    "SLACK_API_URL": f"{base}/api/",
                    "PMO_SCHEDULER": "off",
                    "PMO_SLACK_RATE": f"{configured:g}",
                }
            )
            command = [sys.executable, "-m", "bot.app.cli", "survey", "open", "--team", "bench"]
            started = time.monotonic()
            done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, check=False)
            wall = time.monotonic() - started
            with urllib.request.urlopen(f"{base}/_stats", timeout=10) as response:
                stats = json.load(response)
        lines = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]

    channels = Counter(line["channel"] for line in lines)
    duplicates = sum(n - 1 for n in channels.values() if n > 1)
    misses = len({"D" + m[1:] for m in members} - set(channels))
    rejected = int(stats.get("rejected", {}).get("chat.postMessage", 0))
    floor = args.recipients / args.rate
    stamps = sorted(line["t"] for line in lines)
    sending = stamps[-1] - stamps[0] if stamps else float("nan")
    # The fake's stamps are time.monotonic() of another process: one clock on Linux and macOS.
    startup = stamps[0] - started if stamps else float("nan")
    database_kind = make_url(url).get_backend_name()

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"recipients: {args.recipients:,}; fake Slack limit: {args.rate}/s (sliding second, 429 beyond); "
        f"PMO_SLACK_RATE: {configured:g}/s; database: {database_kind}"
    )
    print(f"floor (recipients / limit): {floor:.2f} s")
    print(
        f"sending, first to last delivery: {sending:.2f} s = {sending / floor:.3f} x floor "
        f"({len(lines) / sending if sending > 0 else float('nan'):.1f} msg/s); "
        f"target <= {TARGET} x: {'met' if sending <= TARGET * floor else 'MISSED'}"
    )
    print(
        f"whole command: {wall:.2f} s = {wall / floor:.3f} x floor "
        f"(launch to first delivery {startup:.2f} s, after the last {wall - startup - sending:.2f} s)"
    )
    print(f"delivered: {len(lines):,}; duplicates: {duplicates}; misses: {misses}; 429s: {rejected}")
    print(f"command: exit {done.returncode}: {done.stdout.strip().splitlines()[-1:] or done.stderr[-500:]}")
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return 1 if duplicates or misses or done.returncode != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
