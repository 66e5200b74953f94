"""The digest ledger: each closed run's digest is posted once, by whichever process claims it.

A claim is a lease, as for outbox messages. A process that dies holding one leaves it to lapse;
the next claimant is told the claim was stranded, so that it can look for a digest already posted
before posting one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot.storage.db import Storage, aware
from bot.storage.models import SurveyRun

REF_LENGTH = 255


@dataclass(frozen=True)
class DigestClaim:
    run_id: int
    # "fresh": nobody tried before. "stranded": someone claimed it and never said how it went.
    kind: Literal["fresh", "stranded"]


class DigestLedger:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def claim(self, run_id: int, worker: str, now: datetime, until: datetime) -> DigestClaim | None:
        """The run's digest is this worker's to post until ``until``; None when it is posted, or
        another holds it, or the run is not closed."""
        now = aware(now)
        with self.storage.transaction() as connection:
            before = connection.execute(
                select(SurveyRun.digest_claimed_by).where(SurveyRun.id == run_id)
            ).scalar_one_or_none()
            taken = connection.execute(
                update(SurveyRun)
                .where(SurveyRun.id == run_id, _free(now))
                .values(digest_claimed_by=worker[:64], digest_lease_until=aware(until))
            ).rowcount
        if taken != 1:
            return None
        return DigestClaim(run_id, "stranded" if before is not None else "fresh")

    def posted(self, run_id: int, worker: str, now: datetime, ref: str) -> bool:
        """Records the digest as posted (``ref``: where, or why it never will be); False when the
        claim was lost meanwhile, and the record was made all the same."""
        with self.storage.transaction() as connection:
            mine = connection.execute(
                update(SurveyRun)
                .where(SurveyRun.id == run_id, SurveyRun.digest_claimed_by == worker[:64])
                .values(digest_posted_at=aware(now), digest_ref=ref[:REF_LENGTH], digest_lease_until=None)
            ).rowcount
            if mine == 1:
                return True
            connection.execute(
                update(SurveyRun)
                .where(SurveyRun.id == run_id, SurveyRun.digest_posted_at.is_(None))
                .values(digest_posted_at=aware(now), digest_ref=ref[:REF_LENGTH], digest_lease_until=None)
            )
            return False

    def due(self, now: datetime, closed_since: datetime) -> list[int]:
        """Closed runs (since ``closed_since``) whose digest is not posted and nobody holds."""
        statement = (
            select(SurveyRun.id)
            .where(_free(aware(now)), SurveyRun.closed_at >= aware(closed_since))
            .order_by(SurveyRun.closed_at)
        )
        with self.storage.transaction() as connection:
            return [int(row[0]) for row in connection.execute(statement)]

    def ref(self, run_id: int) -> str | None:
        statement = select(SurveyRun.digest_ref).where(SurveyRun.id == run_id)
        with self.storage.transaction() as connection:
            return connection.execute(statement).scalar_one_or_none()


def _free(now: datetime) -> ColumnElement[bool]:
    return and_(
        SurveyRun.state == "closed",
        SurveyRun.digest_posted_at.is_(None),
        or_(SurveyRun.digest_lease_until.is_(None), SurveyRun.digest_lease_until < now),
    )
