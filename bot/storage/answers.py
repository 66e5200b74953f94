"""Anonymous answers, and the aggregates digests are made of (counted in the database, never answer
by answer in Python)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, select

from bot.storage.db import aware
from bot.storage.models import OutboxMessage, SurveyComment, SurveyResponse, SurveyRun
from bot.storage.survey_rows import (
    SENT,
    Run,
    StoreBase,
    run_from_row,
)


class AnswerStore(StoreBase):
    # -- answers ----------------------------------------------------------------------------

    def record_answer(
        self, run_id: int, respondent: str, ratings: dict[str, int | None], comment: str | None = None
    ) -> None:
        """Stores (or changes) a respondent's ratings and, unless None, comment (empty: removed),
        in one transaction and only while the run is open: ``RunClosed`` otherwise, so that a late
        answer is never half-kept."""
        with self.storage.transaction() as connection:
            self._check_open(connection, run_id)
            for function_id, score in ratings.items():
                values = {
                    "run_id": run_id,
                    "respondent": respondent,
                    "function_id": function_id,
                    "score": score,
                }
                statement = self._insert(SurveyResponse).values(values)
                statement = statement.on_conflict_do_update(
                    index_elements=["run_id", "respondent", "function_id"],
                    set_={"score": statement.excluded.score},
                )
                connection.execute(statement)
            if comment is not None:
                self._write_comment(connection, run_id, respondent, comment)

    def record_ratings(self, run_id: int, respondent: str, ratings: dict[str, int | None]) -> None:
        self.record_answer(run_id, respondent, ratings)

    def record_comment(self, run_id: int, respondent: str, text: str) -> None:
        self.record_answer(run_id, respondent, {}, text)

    def _write_comment(self, connection: Any, run_id: int, respondent: str, text: str) -> None:
        mine = and_(SurveyComment.run_id == run_id, SurveyComment.respondent == respondent)
        if not text:
            connection.execute(delete(SurveyComment).where(mine))
            return
        statement = self._insert(SurveyComment).values(run_id=run_id, respondent=respondent, text=text)
        connection.execute(
            statement.on_conflict_do_update(
                index_elements=["run_id", "respondent"], set_={"text": statement.excluded.text}
            )
        )

    def answers_of(self, run_id: int, respondent: str) -> tuple[dict[str, int | None], str]:
        """One respondent's own ratings and comment, to show them what was recorded."""
        with self.storage.transaction() as connection:
            ratings = {
                f: s
                for f, s in connection.execute(
                    select(SurveyResponse.function_id, SurveyResponse.score).where(
                        SurveyResponse.run_id == run_id, SurveyResponse.respondent == respondent
                    )
                )
            }
            comment = connection.execute(
                select(SurveyComment.text).where(
                    SurveyComment.run_id == run_id, SurveyComment.respondent == respondent
                )
            ).scalar_one_or_none()
        return ratings, comment or ""

    def respondents(self, run_id: int) -> set[str]:
        """The keyed hashes of everyone who rated at least one service or left a comment."""
        ratings = select(SurveyResponse.respondent).where(SurveyResponse.run_id == run_id)
        comments = select(SurveyComment.respondent).where(SurveyComment.run_id == run_id)
        with self.storage.transaction() as connection:
            return {r for (r,) in connection.execute(ratings.union(comments))}

    # -- aggregates (for digests): counted in the database, never answer by answer in Python --------

    def score_counts(self, run_ids: Sequence[int]) -> dict[int, dict[str, dict[int | None, int]]]:
        """run → function → score (None: "didn't use it") → how many gave it."""
        statement = (
            select(SurveyResponse.run_id, SurveyResponse.function_id, SurveyResponse.score, func.count())
            .where(SurveyResponse.run_id.in_(list(run_ids)))
            .group_by(SurveyResponse.run_id, SurveyResponse.function_id, SurveyResponse.score)
        )
        out: dict[int, dict[str, dict[int | None, int]]] = {run_id: {} for run_id in run_ids}
        with self.storage.transaction() as connection:
            for run_id, function_id, score, count in connection.execute(statement):
                out[int(run_id)].setdefault(function_id, {})[score] = int(count)
        return out

    def answered_count(self, run_id: int) -> int:
        """How many people answered (a rating or a comment), counted in the database."""
        ratings = select(SurveyResponse.respondent).where(SurveyResponse.run_id == run_id)
        comments = select(SurveyComment.respondent).where(SurveyComment.run_id == run_id)
        both = ratings.union(comments).subquery()
        with self.storage.transaction() as connection:
            return int(connection.execute(select(func.count()).select_from(both)).scalar_one())

    def reached_count(self, run_id: int) -> int:
        """How many people a message of the run reached."""
        statement = select(func.count(func.distinct(OutboxMessage.recipient))).where(
            OutboxMessage.run_id == run_id, OutboxMessage.state == SENT
        )
        with self.storage.transaction() as connection:
            return int(connection.execute(statement).scalar_one())

    def comments(self, run_id: int) -> list[str]:
        statement = select(SurveyComment.text).where(SurveyComment.run_id == run_id)
        with self.storage.transaction() as connection:
            return [text for (text,) in connection.execute(statement)]

    def runs_before(self, team_id: str, run: Run, limit: int) -> list[Run]:
        """The team's closed runs opened before ``run``, newest first."""
        statement = (
            select(SurveyRun)
            .where(
                SurveyRun.team_id == team_id,
                SurveyRun.state == "closed",
                SurveyRun.opened_at < aware(run.opened_at),
            )
            .order_by(SurveyRun.opened_at.desc())
            .limit(limit)
        )
        with self.storage.transaction() as connection:
            return [run_from_row(r) for r in connection.execute(statement).mappings()]
