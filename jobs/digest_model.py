"""The figures of a digest, as plain data: what the aggregation in the database yields and what the
reply, the chart and the CSV export are made from. Nothing here names a person."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FunctionScore:
    """One rated service (a PMO function) in one run.

    ``mean`` and ``distribution`` are None when fewer people rated it than the team's
    ``min_responses``: then only the counts are shown. ``trend`` holds the means of up to four runs,
    oldest first, this run last (None where a run's score was withheld or it was not asked).
    """

    function_id: str
    name: str
    ratings: int  # how many rated it 1-5
    not_used: int  # how many said they did not use it
    mean: float | None
    distribution: tuple[int, int, int, int, int] | None  # how many gave 1, 2, 3, 4, 5
    previous_mean: float | None
    trend: tuple[float | None, ...]

    @property
    def change(self) -> float | None:
        if self.mean is None or self.previous_mean is None:
            return None
        return round(self.mean - self.previous_mean, 2)


@dataclass(frozen=True)
class Digest:
    team_id: str
    team_name: str
    period_key: str
    previous_period: str | None
    invited: int
    answered: int
    min_responses: int
    withheld: bool  # too few answered: no score at all
    scores: tuple[FunctionScore, ...]
    lowest: tuple[str, ...]  # function ids of the (up to) two lowest scores, lowest first
    comments: tuple[str, ...]  # shuffled; empty when fewer answered than the comment threshold
    comments_withheld: bool

    @property
    def response_rate(self) -> float:
        return round(self.answered / self.invited, 3) if self.invited else 0.0
