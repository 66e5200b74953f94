"""Benchmark of a digest over a year of pulse surveys: ``--teams`` teams (100) x ``--weeks`` closed
weekly runs (52), each with an outbox of ``--invited`` invitations (80, all sent, and reminders to
who did not answer) and about ``--respondents`` answers (65, varying by run) to each of the team's
three services, some "didn't use it", and comments from about one respondent in five: about
1,000,000 rows in survey_responses (the exact count is printed).

The data are bulk-loaded into a fresh database (SQLite in a temp dir, or a schema of its own in the
PostgreSQL at ``--database-url``, dropped afterwards), migrated with ``Storage.upgrade()``. Then a
child process, which only connects and builds, times ``Digests.build`` for one team's latest run
(the first call, then ``--repeat`` more: p50 and max), ``reply()`` and ``csv()``, and reports its
peak RSS (ru_maxrss: the whole process, interpreter and imports included) and the peak of Python
allocations during one build (tracemalloc). Exits 1 when a target is missed.

    python bench/digest.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

Acceptance: one team's digest in under 0.5 s and under 200 MB, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from scratch_db import database  # the folder of this script is on sys.path
from sqlalchemy import Engine, insert, make_url, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.storage.db import Storage  # noqa: E402
from bot.storage.engine import make_engine  # noqa: E402
from bot.storage.models import Base, OutboxMessage, SurveyComment, SurveyResponse, SurveyRun  # noqa: E402
from bot.storage.surveys import SurveyStore  # noqa: E402
from jobs.config import TeamsFile  # noqa: E402
from jobs.digest import Digests  # noqa: E402
from knowledge.base import load as load_kb  # noqa: E402

SECONDS_TARGET = 0.5
MEGABYTES_TARGET = 200
SERVICES = 3
BATCH = 50_000  # rows per executemany on SQLite
FIRST_WEEK = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday
COMMENTS = [
    "Reports come too late to act on.",
    "Nobody told us the gate dates had moved.",
    "The risk log is hard to find.",
    "Templates keep changing mid-stage.",
    "Great help with the board pack this week.",
    "Too many status requests for the same figures.",
    "Resource plans are out of date.",
    "Lessons learned never reach the next project.",
]


def batched(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


# -- the data -------------------------------------------------------------------------------------


class Year:
    """The synthetic teams and runs; each run's answers drawn from a generator seeded by its id, so
    that responses and comments (loaded in separate passes) name the same respondents."""

    def __init__(self, teams: int, weeks: int, invited: int, respondents: int, functions: list[str]) -> None:
        self.teams = [f"team-{n:03d}" for n in range(1, teams + 1)]
        self.weeks = weeks
        self.invited = invited
        self.respondents = respondents
        self.services = {
            team: [functions[(n * SERVICES + k) % len(functions)] for k in range(SERVICES)]
            for n, team in enumerate(self.teams)
        }
        self.run_ids: dict[tuple[str, int], int] = {}
        self._weeks: dict[int, int] = {}

    def members(self, team: str) -> list[str]:
        number = int(team.rsplit("-", 1)[1])
        return [f"U{number:03d}{m:07d}" for m in range(1, self.invited + 1)]

    def teams_file(self, path: Path) -> None:
        teams = [
            {"id": t, "platform": "slack", "members": self.members(t), "services": self.services[t]}
            for t in self.teams
        ]
        path.write_text(yaml.safe_dump({"teams": teams}), encoding="utf-8")

    def runs(self) -> list[dict[str, Any]]:
        # Week by week, as runs are opened: one team's runs are spread through the tables.
        out = []
        for week in range(self.weeks):
            opened = FIRST_WEEK + timedelta(weeks=week)
            year, number, _ = opened.isocalendar()
            for team in self.teams:
                out.append(
                    {
                        "team_id": team,
                        "period_key": f"{team}/{year}-W{number:02d}",
                        "platform": "slack",
                        "services": json.dumps(self.services[team]),
                        "state": "closed",
                        "opened_at": opened,
                        "remind_at": opened + timedelta(hours=48),
                        "closes_at": opened + timedelta(hours=72),
                        "reminded_at": opened + timedelta(hours=48),
                        "closed_at": opened + timedelta(hours=72),
                    }
                )
        return out

    def answers(self, run_id: int) -> tuple[random.Random, list[str]]:
        rng = random.Random(run_id)
        count = min(self.invited, max(3, self.respondents + rng.randint(-8, 8)))
        return rng, [f"{rng.getrandbits(256):064x}" for _ in range(count)]

    def ordered_runs(self) -> Iterator[tuple[str, int]]:
        for week in range(self.weeks):
            for team in self.teams:
                yield team, self.run_ids[team, week]

    def outbox(self) -> Iterator[tuple[Any, ...]]:
        for team, run_id in self.ordered_runs():
            _, answered = self.answers(run_id)
            opened = FIRST_WEEK + timedelta(weeks=self.week_of(run_id))
            sent = opened + timedelta(minutes=1)
            for n, member in enumerate(self.members(team)):
                yield (
                    run_id,
                    "invite",
                    member,
                    "slack",
                    "T0BENCH",
                    "sent",
                    1,
                    opened,
                    sent,
                    f"1700000000.{n:06d}",
                )
            reminded = opened + timedelta(hours=48)
            for n, member in enumerate(self.members(team)[len(answered) :]):
                yield (
                    run_id,
                    "reminder",
                    member,
                    "slack",
                    "T0BENCH",
                    "sent",
                    1,
                    reminded,
                    reminded,
                    f"1700.{n:06d}",
                )

    def responses(self) -> Iterator[tuple[Any, ...]]:
        for team, run_id in self.ordered_runs():
            rng, answered = self.answers(run_id)
            for respondent in answered:
                for k, function_id in enumerate(self.services[team]):
                    score = None if rng.random() < 0.08 else min(5, max(1, round(rng.gauss(2.5 + k, 1))))
                    yield (run_id, respondent, function_id, score)

    def comments(self) -> Iterator[tuple[Any, ...]]:
        for _, run_id in self.ordered_runs():
            _, answered = self.answers(run_id)
            pick = random.Random(-run_id)
            for respondent in answered:
                if pick.random() < 0.2:
                    yield (run_id, respondent, pick.choice(COMMENTS))

    def week_of(self, run_id: int) -> int:
        return self._weeks[run_id]

    def remember(self, ids: dict[str, int]) -> None:
        for week in range(self.weeks):
            year, number, _ = (FIRST_WEEK + timedelta(weeks=week)).isocalendar()
            for team in self.teams:
                run_id = ids[f"{team}/{year}-W{number:02d}"]
                self.run_ids[team, week] = run_id
                self._weeks[run_id] = week


def bulk(engine: Engine, model: type[Base], columns: list[str], rows: Iterable[tuple[Any, ...]]) -> int:
    """Loads ``rows``: COPY on PostgreSQL, executemany of a Core insert in big batches on SQLite."""
    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            driver = raw.driver_connection
            assert driver is not None
            with driver.cursor() as cursor:
                statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
                with cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            raw.commit()
        finally:
            raw.close()
        return count
    with engine.begin() as connection:
        for batch in batched(rows, BATCH):
            connection.execute(insert(model), [dict(zip(columns, row, strict=True)) for row in batch])
            count += len(batch)
    return count


def load(url: str, year: Year) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(insert(SurveyRun), year.runs())
            ids = dict(connection.execute(select(SurveyRun.period_key, SurveyRun.id)).all())
        year.remember(ids)
        outbox = [
            "run_id",
            "kind",
            "recipient",
            "platform",
            "workspace",
            "state",
            "attempts",
            "due_at",
            "sent_at",
        ]
        outbox.append("message_ref")
        responses = ["run_id", "respondent", "function_id", "score"]
        counts = {
            "survey_runs": len(ids),
            "survey_outbox": bulk(engine, OutboxMessage, outbox, year.outbox()),
            "survey_responses": bulk(engine, SurveyResponse, responses, year.responses()),
            "survey_comments": bulk(engine, SurveyComment, ["run_id", "respondent", "text"], year.comments()),
        }
        if engine.dialect.name == "postgresql":
            # What autovacuum does shortly after a bulk load; without statistics the planner guesses.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        return counts
    finally:
        engine.dispose()


# -- the measured process -------------------------------------------------------------------------


def peak_rss_mb() -> float:
    """This process's peak resident memory. Linux carries ru_maxrss over fork and exec, so that a
    child would report its parent's peak (here, the loader's): VmHWM is this process's own."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def only_digest(url: str, teams_file: Path, team: str, repeat: int) -> dict[str, Any]:
    """Connects and builds ``team``'s digest: what a process serving ``/pmo digest`` does."""
    started = time.perf_counter()
    kb = load_kb()
    teams = TeamsFile(teams_file, kb.functions)
    teams.load()
    digests = Digests(SurveyStore(Storage(url)), teams, kb)
    setup = time.perf_counter() - started
    rss_before = peak_rss_mb()

    started = time.perf_counter()
    digest = digests.build(team)  # connects, compiles each statement once
    cold = time.perf_counter() - started
    warm = []
    for _ in range(repeat):
        started = time.perf_counter()
        digest = digests.build(team)
        warm.append(time.perf_counter() - started)
    replies, exports = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        digests.reply(digest)
        replies.append(time.perf_counter() - started)
        started = time.perf_counter()
        digests.csv(digest)
        exports.append(time.perf_counter() - started)
    rss_peak = peak_rss_mb()

    tracemalloc.start()
    digests.reply(digests.build(team))
    _, python_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "period": digest.period_key,
        "answered": digest.answered,
        "invited": digest.invited,
        "scores": [(s.function_id, s.mean, s.trend) for s in digest.scores],
        "comments": len(digest.comments),
        "setup": setup,
        "cold": cold,
        "warm": warm,
        "reply": statistics.median(replies),
        "csv": statistics.median(exports),
        "rss_before": rss_before,
        "rss_peak": rss_peak,
        "python_peak": python_peak / (1024 * 1024),
    }


# -- the whole bench ------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://...; default: SQLite in a temp dir")
    parser.add_argument("--teams", type=int, default=100, help="teams (default 100)")
    parser.add_argument("--weeks", type=int, default=52, help="closed weekly runs per team (default 52)")
    parser.add_argument("--invited", type=int, default=80, help="people invited per run (default 80)")
    parser.add_argument(
        "--respondents", type=int, default=65, help="mean people answering per run, +-8 (default 65)"
    )
    parser.add_argument("--team", default="team-042", help="the team whose digest is timed")
    parser.add_argument("--repeat", type=int, default=20, help="warm builds timed (default 20)")
    parser.add_argument("--only-digest", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--teams-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.only_digest:
        print(json.dumps(only_digest(args.database_url, args.teams_file, args.team, args.repeat)))
        return 0
    if not 1 <= args.respondents <= args.invited or args.teams < 1 or args.weeks < 1 or args.repeat < 1:
        parser.error("need teams, weeks and repeat of at least 1, and 1 <= respondents <= invited")

    with tempfile.TemporaryDirectory(prefix="pmo-digest-") as name:
        folder = Path(name)
        with database(args.database_url, folder) as url:
            year = Year(args.teams, args.weeks, args.invited, args.respondents, sorted(load_kb().functions))
            if args.team not in year.teams:
                parser.error(f"--team must be one of team-001 to {year.teams[-1]}")
            year.teams_file(folder / "teams.yaml")
            started = time.perf_counter()
            Storage(url).upgrade()
            counts = load(url, year)
            loading = time.perf_counter() - started
            command = [sys.executable, str(Path(__file__).resolve()), "--only-digest"]
            command += ["--database-url", url, "--teams-file", str(folder / "teams.yaml")]
            command += ["--team", args.team, "--repeat", str(args.repeat)]
            done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        return 1
    result = json.loads(done.stdout.strip().splitlines()[-1])

    p50, worst = statistics.median(result["warm"]), max(result["warm"])
    slowest = max(result["cold"], worst)
    fast = slowest < SECONDS_TARGET
    small = result["rss_peak"] < MEGABYTES_TARGET
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}"
    )
    print(
        f"database: {make_url(url).get_backend_name()}; "
        + "; ".join(f"{t}: {n:,}" for t, n in counts.items())
    )
    print(
        f"loaded in {loading:.1f} s ({counts['survey_responses'] / loading:,.0f} responses/s, "
        "migration included)"
    )
    print(
        f"digest of {args.team} {result['period']}: {result['answered']} of {result['invited']} answered, "
        f"{len(result['scores'])} services, {result['comments']} comments; "
        f"trend {', '.join(f'{f} {t}' for f, _, t in result['scores'])}"
    )
    print(f"child set-up (knowledge base, teams file, engine): {result['setup'] * 1000:.0f} ms")
    print(
        f"build: first {result['cold'] * 1000:.1f} ms (connecting included); "
        f"then {args.repeat}x p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms; "
        f"target < {SECONDS_TARGET * 1000:.0f} ms: {'met' if fast else 'MISSED'}"
    )
    print(f"reply(): p50 {result['reply'] * 1000:.2f} ms; csv(): p50 {result['csv'] * 1000:.2f} ms")
    print(
        f"peak RSS of the digest process: {result['rss_peak']:.1f} MB (before the first build "
        f"{result['rss_before']:.1f} MB; Python allocations during one build and reply: "
        f"{result['python_peak']:.2f} MB); target < {MEGABYTES_TARGET} MB: {'met' if small else 'MISSED'}"
    )
    return 0 if fast and small else 1


if __name__ == "__main__":
    sys.exit(main())
