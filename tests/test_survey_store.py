"""The survey tables through ``SurveyStore``, on SQLite always and on PostgreSQL when
PMO_TEST_POSTGRES_URL names a database (each PostgreSQL test gets a schema of its own)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import DateTime, inspect, make_url, select

from bot.storage import Storage, StorageError
from bot.storage.models import OutboxMessage, SurveyComment, SurveyResponse
from bot.storage.surveys import (
    CANCELLED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    Recipient,
    Run,
    RunClosed,
    SurveyStore,
)

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
SERVICES = ("reporting", "risk_management")


@pytest.fixture
def storage(database_url: str) -> Iterator[Storage]:
    with Storage(database_url) as migrated:
        migrated.upgrade()
        yield migrated


@pytest.fixture
def store(storage: Storage) -> SurveyStore:
    return SurveyStore(storage)


def people(n: int, prefix: str = "U", workspace: str = "T1") -> list[Recipient]:
    return [Recipient(f"{prefix}{i:04d}", workspace) for i in range(n)]


def on_slack(recipients: list[Recipient]) -> list[Recipient]:
    """As stored: each recipient on the run's platform when it names none."""
    return [Recipient(r.user, r.workspace, r.platform or "slack") for r in recipients]


def open_run(
    store: SurveyStore,
    key: str = "alpha/2026-W49",
    recipients: list[Recipient] | None = None,
    platform: str = "slack",
    team: str = "alpha",
) -> tuple[Run, bool]:
    return store.open_run(
        team,
        key,
        platform,
        SERVICES,
        T0,
        T0 + timedelta(hours=48),
        T0 + timedelta(hours=72),
        people(3) if recipients is None else recipients,
    )


def rows(storage: Storage, run_id: int | None = None) -> list[Any]:
    """The outbox rows as stored, every column."""
    statement = select(OutboxMessage.__table__).order_by(OutboxMessage.id)
    if run_id is not None:
        statement = statement.where(OutboxMessage.run_id == run_id)
    with storage.engine.connect() as connection:
        return list(connection.execute(statement).mappings())


def row(storage: Storage, message_id: int) -> Any:
    return next(r for r in rows(storage) if r["id"] == message_id)


def claim(store: SurveyStore, worker: str, now: datetime = T0, limit: int = 100, platforms=("slack",)):  # type: ignore[no-untyped-def]
    return store.claim(worker, now, now + LEASE, limit, platforms)


# -- runs -----------------------------------------------------------------------------------------


def test_open_run_creates_the_run_and_its_invitations(store: SurveyStore, storage: Storage) -> None:
    recipients = [*people(3), Recipient("U0001", "T-other")]  # a repeat: invited once
    run, created = open_run(store, recipients=recipients)
    assert created
    assert run == Run(
        id=run.id,
        team_id="alpha",
        period_key="alpha/2026-W49",
        platform="slack",
        services=SERVICES,
        state="open",
        opened_at=T0,
        remind_at=T0 + timedelta(hours=48),
        closes_at=T0 + timedelta(hours=72),
        reminded_at=None,
        closed_at=None,
    )
    assert run.is_open
    assert store.run(run.id) == run
    assert store.run_for_period("alpha/2026-W49") == run
    assert store.recipients(run.id) == on_slack(people(3))
    stored = rows(storage, run.id)
    assert [(r["kind"], r["recipient"], r["workspace"], r["state"], r["attempts"]) for r in stored] == [
        ("invite", "U0000", "T1", PENDING, 0),
        ("invite", "U0001", "T1", PENDING, 0),
        ("invite", "U0002", "T1", PENDING, 0),
    ]
    assert all(r["due_at"] == T0 and r["claimed_by"] is None for r in stored)
    assert store.delivery_counts(run.id) == {("invite", PENDING): 3}
    assert store.work_left(run.id) == 3


def test_open_run_is_all_or_nothing(store: SurveyStore) -> None:
    # An invitation that cannot be stored (no recipient) takes the run down with it: no run is
    # left behind without its invitations, to be found "already open" by the next attempt.
    with pytest.raises(StorageError):
        open_run(store, recipients=[Recipient("U0000", "T1"), Recipient(None, "T1")])  # type: ignore[arg-type]
    assert store.run_for_period("alpha/2026-W49") is None
    assert store.open_runs() == []
    run, created = open_run(store)
    assert created
    assert len(store.recipients(run.id)) == 3


def test_a_second_open_of_the_period_returns_the_first_and_adds_nothing(
    store: SurveyStore, storage: Storage
) -> None:
    first, created = open_run(store, recipients=people(2))
    again, created_again = store.open_run(
        "alpha",
        "alpha/2026-W49",
        "slack",
        ("planning",),
        T0 + timedelta(hours=1),
        None,
        T0 + timedelta(hours=10),
        people(5, prefix="W"),
    )
    assert (created, created_again) == (True, False)
    assert again == first
    assert again.services == SERVICES
    assert [r["recipient"] for r in rows(storage)] == ["U0000", "U0001"]
    # Another period is another run.
    other, created_other = open_run(store, key="alpha/2026-W50")
    assert created_other and other.id != first.id
    assert store.latest_run("alpha") == other


def test_threads_opening_one_period_at_once_make_one_run(store: SurveyStore, storage: Storage) -> None:
    threads = 8
    start = threading.Barrier(threads)

    def race(n: int) -> tuple[Run, bool]:
        start.wait()
        return open_run(store, recipients=people(4, prefix=f"U{n}x"))

    with ThreadPoolExecutor(threads) as pool:
        results = list(pool.map(race, range(threads)))
    assert [created for _, created in results].count(True) == 1
    assert len({run.id for run, _ in results}) == 1
    assert len(store.open_runs()) == 1
    winner = next(n for n, (_, created) in enumerate(results) if created)
    # The invitations are the winner's, and only the winner's.
    assert store.recipients(results[0][0].id) == on_slack(people(4, prefix=f"U{winner}x"))
    assert len(rows(storage)) == 4


def test_latest_and_open_runs(store: SurveyStore) -> None:
    first, _ = open_run(store, key="alpha/2026-W48")
    second, _ = open_run(store, key="alpha/2026-W49")
    beta, _ = open_run(store, key="beta/2026-W49", team="beta")
    assert store.close_run(second.id, T0)
    assert store.latest_run("alpha") == store.run(second.id)
    assert store.latest_run("alpha", state="open") == first
    assert [r.id for r in store.open_runs()] == [first.id, beta.id]
    assert store.latest_run("nobody") is None
    assert store.run(99999) is None


def test_invited_runs_and_is_invited(store: SurveyStore) -> None:
    run, _ = open_run(store)
    teams_run, _ = open_run(store, key="t/2026-W49", platform="teams", team="t")
    assert store.is_invited(run.id, "U0001")
    assert not store.is_invited(run.id, "U9999")
    assert store.invited_runs("slack", "U0001") == [run]
    assert store.invited_runs("teams", "U0001") == [teams_run]
    assert store.invited_runs("slack", "U9999") == []
    store.close_run(run.id, T0)
    assert store.invited_runs("slack", "U0001") == []


# -- claiming -------------------------------------------------------------------------------------


def test_claim_takes_due_messages_in_order_and_counts_the_attempt(
    store: SurveyStore, storage: Storage
) -> None:
    run, _ = open_run(store, recipients=people(5))
    taken = claim(store, "A", limit=2)
    assert [m.recipient for m in taken] == ["U0000", "U0001"]
    assert all(
        (m.state, m.attempts, m.lease_until, m.run_id, m.kind) == (SENDING, 1, T0 + LEASE, run.id, "invite")
        for m in taken
    )
    assert [row(storage, m.id)["claimed_by"] for m in taken] == ["A", "A"]
    assert [m.recipient for m in claim(store, "B")] == ["U0002", "U0003", "U0004"]
    assert claim(store, "C") == []
    # Put back for later: not claimed before it is due.
    assert store.retry_later(taken[0].id, "A", T0 + timedelta(seconds=30), "server error")
    assert claim(store, "C", now=T0 + timedelta(seconds=29)) == []
    again = claim(store, "C", now=T0 + timedelta(seconds=30))
    assert [(m.id, m.attempts) for m in again] == [(taken[0].id, 2)]


def test_claim_only_takes_runs_of_the_platforms_given(store: SurveyStore) -> None:
    slack_run, _ = open_run(store, recipients=people(2, prefix="S"))
    teams_run, _ = open_run(store, key="t/2026-W49", platform="teams", team="t", recipients=people(2, "T"))
    assert claim(store, "A", platforms=()) == []
    assert {m.run_id for m in claim(store, "A", platforms=("teams",))} == {teams_run.id}
    assert claim(store, "A", platforms=("teams",)) == []
    assert {m.recipient for m in claim(store, "A", platforms=("slack", "teams"))} == {"S0000", "S0001"}
    # Stranded messages too.
    later = T0 + LEASE + timedelta(seconds=1)
    assert {m.run_id for m in store.claim_stranded("B", later, later + LEASE, 10, ("teams",))} == {
        teams_run.id
    }
    assert {m.run_id for m in store.claim_stranded("B", later, later + LEASE, 10, ("slack",))} == {
        slack_run.id
    }
    assert store.claim_stranded("B", later, later + LEASE, 10, ()) == []


def test_two_workers_claiming_at_once_split_the_work(store: SurveyStore) -> None:
    run, _ = open_run(store, recipients=people(40))
    start = threading.Barrier(2)

    def work(worker: str) -> list[int]:
        start.wait()
        return [m.id for m in claim(store, worker, limit=20)]

    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(work, ["A", "B"])
    # Each gets a full batch (on PostgreSQL the second skips the rows the first holds locked; on
    # SQLite the second waits for the first's write), and no message goes to both.
    assert (len(a), len(b)) == (20, 20)
    assert set(a).isdisjoint(b)
    assert set(a) | set(b) == {m.id for m in store.messages(run.id, "invite")}


def test_many_workers_draining_one_outbox_claim_each_message_once(
    store: SurveyStore, storage: Storage
) -> None:
    run, _ = open_run(store, recipients=people(120))
    workers = 6
    start = threading.Barrier(workers)

    def work(worker: str) -> list[int]:
        start.wait()
        mine: list[int] = []
        while batch := claim(store, worker, limit=7):
            mine += [m.id for m in batch]
            for m in batch:
                assert store.finish(m.id, worker, SENT, T0, ref=f"D/{m.id}")
        return mine

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(work, [f"w{n}" for n in range(workers)]))
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(set(claimed)) == 120
    assert {r["state"] for r in rows(storage, run.id)} == {SENT}
    assert {r["message_ref"] for r in rows(storage, run.id)} == {f"D/{i}" for i in claimed}
    # The rows say who sent each one: the same worker that claimed it.
    by_worker = {i: f"w{n}" for n, r in enumerate(results) for i in r}
    assert all(r["claimed_by"] == by_worker[r["id"]] for r in rows(storage, run.id))


def test_a_claim_skips_rows_another_transaction_holds_locked(database_url: str, store: SurveyStore) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks (FOR UPDATE SKIP LOCKED) are PostgreSQL's; SQLite locks the whole file")
    run, _ = open_run(store, recipients=people(10))
    ids = [m.id for m in store.messages(run.id, "invite")]
    # A claim that waited for the locks (no SKIP LOCKED) fails after 5 s rather than hanging.
    url = make_url(database_url)
    options = f"{url.query.get('options', '')} -clock_timeout=5000".strip()
    impatient = SurveyStore(Storage(url.update_query_dict({"options": options}).render_as_string(False)))
    with Storage(database_url) as other:
        with other.engine.connect() as connection, connection.begin():
            # Another sender mid-claim: the first four rows locked, not yet committed.
            locked = connection.execute(
                select(OutboxMessage.id).where(OutboxMessage.id.in_(ids[:4])).with_for_update()
            ).scalars()
            assert sorted(locked) == ids[:4]
            # This claim neither waits for that transaction nor takes its rows.
            taken = claim(impatient, "B", limit=3)
            assert [m.id for m in taken] == ids[4:7]
        # Once the lock is gone, the rows are there to take.
        assert [m.id for m in claim(store, "C", limit=10)] == ids[:4] + ids[7:]
    impatient.storage.close()


def test_claim_stranded_takes_only_sending_rows_whose_lease_ran_out(
    store: SurveyStore, storage: Storage
) -> None:
    open_run(store, recipients=people(4))
    first, second, third = claim(store, "A", limit=3)  # leases run to T0 + 60 s; U0003 stays pending
    assert store.finish(third.id, "A", SENT, T0, ref="D/1")
    assert store.claim_stranded("B", T0 + timedelta(seconds=30), T0 + LEASE * 2, 10, ("slack",)) == []
    # At the very end of the lease it is still held.
    assert store.claim_stranded("B", T0 + LEASE, T0 + LEASE * 2, 10, ("slack",)) == []
    assert store.renew(second.id, "A", T0 + timedelta(seconds=90))
    later = T0 + LEASE + timedelta(microseconds=1)
    taken = store.claim_stranded("B", later, later + LEASE, 10, ("slack",))
    assert [(m.id, m.state, m.attempts, m.lease_until) for m in taken] == [
        (first.id, SENDING, 2, later + LEASE)  # the check for it counts as an attempt
    ]
    assert row(storage, first.id)["claimed_by"] == "B"
    assert row(storage, second.id)["claimed_by"] == "A"
    # A day on, both leases have run out; the pending row and the sent one are never "stranded".
    day = T0 + timedelta(days=1)
    assert [m.id for m in store.claim_stranded("C", day, day + LEASE, 10, ("slack",))] == [
        first.id,
        second.id,
    ]
    assert {r["recipient"]: r["state"] for r in rows(storage)} == {
        "U0000": SENDING,
        "U0001": SENDING,
        "U0002": SENT,
        "U0003": PENDING,
    }


def test_a_worker_that_lost_its_claim_writes_nothing(store: SurveyStore, storage: Storage) -> None:
    open_run(store, recipients=people(1))
    (mine,) = claim(store, "A")
    later = T0 + LEASE + timedelta(seconds=1)
    (theirs,) = store.claim_stranded("B", later, later + LEASE, 10, ("slack",))
    assert theirs.id == mine.id
    before = row(storage, mine.id)
    assert not store.finish(mine.id, "A", SENT, later, ref="D/stale")
    assert not store.finish(mine.id, "A", FAILED, later, error="boom")
    assert not store.retry_later(mine.id, "A", later + timedelta(hours=1), "server error")
    assert not store.renew(mine.id, "A", later + timedelta(hours=1))
    assert row(storage, mine.id) == before
    assert (before["state"], before["claimed_by"], before["message_ref"], before["error"]) == (
        SENDING,
        "B",
        None,
        None,
    )
    # The new holder records the outcome; then nobody can change it.
    assert store.renew(mine.id, "B", later + LEASE * 2)
    assert row(storage, mine.id)["lease_until"] == later + LEASE * 2
    assert store.finish(mine.id, "B", SENT, later, ref="D0001/1700000000.000001")
    done = row(storage, mine.id)
    assert (done["state"], done["message_ref"], done["sent_at"], done["lease_until"], done["error"]) == (
        SENT,
        "D0001/1700000000.000001",
        later,
        None,
        None,
    )
    assert not store.finish(mine.id, "B", FAILED, later, error="twice")
    assert not store.retry_later(mine.id, "B", later, "again")
    assert row(storage, mine.id)["state"] == SENT
    with pytest.raises(ValueError, match="not a final state: pending"):
        store.finish(mine.id, "B", PENDING, later)


def test_failures_and_retries_record_their_error(store: SurveyStore, storage: Storage) -> None:
    open_run(store, recipients=people(2))
    a, b = claim(store, "A")
    assert store.retry_later(a.id, "A", T0 + timedelta(seconds=4), "rate limited")
    assert store.finish(b.id, "A", FAILED, T0, error="x" * 300)
    ra, rb = row(storage, a.id), row(storage, b.id)
    assert (ra["state"], ra["due_at"], ra["error"], ra["lease_until"]) == (
        PENDING,
        T0 + timedelta(seconds=4),
        "rate limited",
        None,
    )
    assert (rb["state"], rb["error"], rb["sent_at"]) == (FAILED, "x" * 255, None)
    assert store.next_due() == T0 + timedelta(seconds=4)
    assert store.work_left() == 1


def test_next_due_is_the_earliest_queued_message_or_lease(store: SurveyStore) -> None:
    assert store.next_due() is None
    open_run(store, recipients=people(2))
    assert store.next_due() == T0
    claim(store, "A", now=T0 + timedelta(seconds=5))  # both sending, leases to T0 + 65 s
    assert store.next_due() == T0 + timedelta(seconds=65)
    assert store.next_due().tzinfo is not None  # type: ignore[union-attr]


def test_message_ref_is_recorded_per_run_kind_and_person(store: SurveyStore) -> None:
    run, _ = open_run(store, recipients=people(2))
    a, _b = claim(store, "A")
    assert store.message_ref(run.id, "invite", "U0000") is None
    store.finish(a.id, "A", SENT, T0, ref="D0000/1.1")
    assert store.message_ref(run.id, "invite", "U0000") == "D0000/1.1"
    assert store.message_ref(run.id, "reminder", "U0000") is None
    assert store.message_ref(run.id, "invite", "U9999") is None


def test_reminders_are_queued_once_per_person(store: SurveyStore, storage: Storage) -> None:
    run, _ = open_run(store, recipients=people(3))
    later = T0 + timedelta(hours=48)
    assert store.queue_reminders(run.id, people(2) + people(1), later) == 2
    assert store.run(run.id).reminded_at == later  # type: ignore[union-attr]
    assert store.queue_reminders(run.id, people(3), later) == 1  # only U0002 is new
    assert store.recipients(run.id, "reminder") == on_slack(people(3))
    reminders = [r for r in rows(storage, run.id) if r["kind"] == "reminder"]
    assert {(r["state"], r["due_at"]) for r in reminders} == {(PENDING, later)}
    assert store.queue_reminders(run.id, [], later) == 0


# -- closing and answers ----------------------------------------------------------------------------


def test_close_run_cancels_what_was_not_sent_and_refuses_answers(
    store: SurveyStore, storage: Storage
) -> None:
    run, _ = open_run(store, recipients=people(4))
    sent, _sending = claim(store, "A", limit=2)
    store.finish(sent.id, "A", SENT, T0, ref="D/1")
    closing = T0 + timedelta(hours=72)
    assert store.close_run(run.id, closing)
    assert not store.close_run(run.id, closing + timedelta(hours=1))  # already closed
    closed = store.run(run.id)
    assert closed is not None and (closed.state, closed.closed_at, closed.is_open) == (
        "closed",
        closing,
        False,
    )
    assert {r["recipient"]: r["state"] for r in rows(storage, run.id)} == {
        "U0000": SENT,
        "U0001": SENDING,  # its sender finds the run closed (see the sender's tests)
        "U0002": CANCELLED,
        "U0003": CANCELLED,
    }
    assert claim(store, "B", now=closing) == []
    with pytest.raises(RunClosed) as caught:
        store.record_ratings(run.id, "r1", {"reporting": 4})
    assert caught.value.closed_at == closing
    assert str(caught.value) == "the survey is closed"
    with pytest.raises(RunClosed) as caught:
        store.record_comment(run.id, "r1", "too late")
    assert caught.value.closed_at == closing
    assert store.respondents(run.id) == set()
    assert store.answers_of(run.id, "r1") == ({}, "")


def test_answers_to_a_run_that_does_not_exist_are_refused(store: SurveyStore) -> None:
    with pytest.raises(RunClosed) as caught:
        store.record_ratings(424242, "r1", {"reporting": 4})
    assert caught.value.closed_at is None


def test_a_changed_rating_replaces_the_old_one(store: SurveyStore, storage: Storage) -> None:
    run, _ = open_run(store)
    store.record_ratings(run.id, "r1", {"reporting": 4, "risk_management": None})
    store.record_ratings(run.id, "r1", {"reporting": 2})
    store.record_ratings(run.id, "r2", {"reporting": 5})
    assert store.answers_of(run.id, "r1") == ({"reporting": 2, "risk_management": None}, "")
    assert store.answers_of(run.id, "r2") == ({"reporting": 5}, "")
    store.record_ratings(run.id, "r1", {"risk_management": 3})
    assert store.answers_of(run.id, "r1") == ({"reporting": 2, "risk_management": 3}, "")
    with storage.engine.connect() as connection:
        stored = connection.execute(
            select(SurveyResponse.respondent, SurveyResponse.function_id, SurveyResponse.score).order_by(
                SurveyResponse.respondent, SurveyResponse.function_id
            )
        ).all()
    assert [tuple(r) for r in stored] == [
        ("r1", "reporting", 2),
        ("r1", "risk_management", 3),
        ("r2", "reporting", 5),
    ]


def test_a_comment_is_set_changed_and_removed(store: SurveyStore, storage: Storage) -> None:
    run, _ = open_run(store)
    store.record_comment(run.id, "r1", "More notice of deadlines")
    assert store.answers_of(run.id, "r1") == ({}, "More notice of deadlines")
    store.record_comment(run.id, "r1", "Fewer templates")
    assert store.answers_of(run.id, "r1") == ({}, "Fewer templates")
    store.record_comment(run.id, "r2", "Keep it up")
    store.record_comment(run.id, "r1", "")
    assert store.answers_of(run.id, "r1") == ({}, "")
    store.record_comment(run.id, "r3", "")  # removing what was never there: nothing happens
    with storage.engine.connect() as connection:
        stored = connection.execute(select(SurveyComment.respondent, SurveyComment.text)).all()
    assert [tuple(r) for r in stored] == [("r2", "Keep it up")]


def test_respondents_are_those_with_a_rating_or_a_comment(store: SurveyStore) -> None:
    run, _ = open_run(store)
    other, _ = open_run(store, key="alpha/2026-W50")
    store.record_ratings(run.id, "rated", {"reporting": 3})
    store.record_ratings(run.id, "not-used", {"reporting": None})
    store.record_comment(run.id, "commented", "Thanks")
    store.record_ratings(run.id, "both", {"reporting": 1})
    store.record_comment(run.id, "both", "Slow")
    store.record_comment(run.id, "withdrew", "Oops")
    store.record_comment(run.id, "withdrew", "")
    store.record_ratings(other.id, "elsewhere", {"reporting": 5})
    assert store.respondents(run.id) == {"rated", "not-used", "commented", "both"}
    assert store.respondents(other.id) == {"elsewhere"}


def test_the_answer_tables_hold_no_person_and_no_time(storage: Storage) -> None:
    schema = inspect(storage.engine)
    for table, expected in (
        ("survey_responses", {"run_id", "respondent", "function_id", "score"}),
        ("survey_comments", {"run_id", "respondent", "text"}),
    ):
        columns = schema.get_columns(table)
        assert {c["name"] for c in columns} == expected
        assert not any(isinstance(c["type"], DateTime) for c in columns), table
        assert not any(word in c["name"] for c in columns for word in ("user", "recipient", "_at", "time"))


def test_the_response_secret_is_made_once(database_url: str, storage: Storage, store: SurveyStore) -> None:
    first = store.secret("survey_response_key")
    assert len(first) == 64 and int(first, 16) >= 0
    assert store.secret("survey_response_key") == first
    other = store.secret("another_key")
    assert other != first
    with Storage(database_url) as reopened:
        assert SurveyStore(reopened).secret("survey_response_key") == first


def test_threads_asking_for_a_new_secret_all_get_the_same(store: SurveyStore) -> None:
    threads = 6
    start = threading.Barrier(threads)

    def ask(_: int) -> str:
        start.wait()
        return store.secret("raced")

    with ThreadPoolExecutor(threads) as pool:
        values = set(pool.map(ask, range(threads)))
    assert len(values) == 1


def test_a_team_of_ten_thousand_opens_in_one_go(store: SurveyStore) -> None:
    # PostgreSQL takes at most 65,535 parameters a statement: the rows go in slices.
    run, created = open_run(store, recipients=[Recipient(f"U{i:06d}", "T1") for i in range(10_000)])
    assert created
    assert store.delivery_counts(run.id) == {("invite", PENDING): 10_000}
    assert store.queue_reminders(run.id, [Recipient(f"U{i:06d}", "T1") for i in range(10_000)], T0) == 10_000


def test_every_process_must_key_answers_with_the_same_secret(store: SurveyStore) -> None:
    from bot.app.surveys import response_key
    from bot.errors import ConfigError
    from bot.settings import Settings

    first = response_key(Settings.model_validate({"PMO_RESPONSE_SECRET": "one"}), store)
    assert first == b"one"
    assert response_key(Settings.model_validate({"PMO_RESPONSE_SECRET": "one"}), store) == b"one"
    with pytest.raises(ConfigError, match="not the key this database's survey answers were made with"):
        response_key(Settings.model_validate({"PMO_RESPONSE_SECRET": "two"}), store)
    with pytest.raises(ConfigError, match=r"\(it is unset here\)"):
        response_key(Settings.model_validate({}), store)
