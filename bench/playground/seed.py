"""Seeds a database and a teams file with two Teams teams whose digests the Playground check shows.

``playground``: eight services, twelve of fourteen reached, four weeks of answers (a trend, a change,
one service rated by too few to score). ``playground-few``: three invited, one reached, one answered:
the scores withheld, and the counts of issue 16 ("1 of 3" against "1 of 1").
"""

from __future__ import annotations

import random
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.storage import Storage
from bot.storage.surveys import INACTIVE, SENT, UNKNOWN, Recipient, SurveyStore

SERVICES = (
    "configuration_management",
    "training_and_development",
    "information_management",
    "stakeholder_management",
    "performance_management",
    "knowledge_management",
    "risk_management",
    "reporting",
)
FIRST = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def teams_file(path: Path) -> None:
    lines = ["teams:"]
    for team, name, size in (("playground", "Delivery PMO", 14), ("playground-few", "Small PMO", 3)):
        members = ", ".join(f"P{team[-3:]}{n:02d}" for n in range(size))
        lines += [
            f"  - id: {team}",
            f"    name: {name}",
            "    platform: teams",
            f"    members: [{members}]",
            f"    services: [{', '.join(SERVICES)}]",
            "    survey: {min_responses: 5, min_comments: 10}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _run(
    store: SurveyStore,
    team: str,
    week: int,
    size: int,
    states: list[str],
    answers: list[dict[str, int | None]],
) -> None:
    opened = FIRST + timedelta(weeks=week)
    year, number, _ = opened.isocalendar()
    people = [Recipient(f"P{team[-3:]}{n:02d}", "tenant-playground", "teams") for n in range(size)]
    run, _ = store.open_run(
        team,
        f"{team}/{year}-W{number:02d}",
        "teams",
        SERVICES,
        opened,
        None,
        opened + timedelta(hours=72),
        people,
    )
    claimed = sorted(
        store.claim("seed", opened, opened + timedelta(minutes=1), size, ("teams",)),
        key=lambda m: m.recipient,
    )
    for message, state in zip(claimed, states, strict=True):
        store.finish(message.id, "seed", state, opened)
    for n, ratings in enumerate(answers):
        store.record_answer(run.id, f"seed-{team}-{week}-{n}", ratings)
    store.close_run(run.id, opened + timedelta(hours=72))


def seed(database_url: str) -> None:
    rng = random.Random(16)
    with Storage(database_url) as storage:
        storage.upgrade()
        store = SurveyStore(storage)
        for week in range(4):
            answers: list[dict[str, int | None]] = []
            for _ in range(9 + week):
                ratings: dict[str, int | None] = {}
                for k, service in enumerate(SERVICES):
                    if service == "knowledge_management" and rng.random() < 0.8:
                        ratings[service] = None  # rated by too few to score
                    else:
                        ratings[service] = min(5, max(1, round(rng.gauss(2.2 + k * 0.3 + week * 0.2, 1))))
                answers.append(ratings)
            states = [SENT] * 12 + [UNKNOWN, INACTIVE]
            _run(store, "playground", week, 14, states, answers)
        _run(
            store, "playground-few", 3, 3, [SENT, UNKNOWN, INACTIVE], [{"reporting": 4, "risk_management": 2}]
        )


if __name__ == "__main__":
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    teams_file(folder / "pmo-bot.yaml")
    seed(f"sqlite:///{folder / 'pmo-bot.db'}")
    print(folder)
