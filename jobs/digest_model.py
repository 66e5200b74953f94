"""The figures of a digest, as plain data: what the aggregation in the database yields and what the
reply, the chart and the CSV export are made from. Nothing here names a person."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ISO_WEEK = re.compile(r"(\d{4})-W(\d{2})")


@dataclass(frozen=True)
class Turnout:
    """Who a run's survey got to, counted one way for every place that states it.

    - ``invited``: the people an invitation was queued for (one a person, whatever became of it);
    - ``reached``: those the survey got to: an invitation or a reminder was delivered to them, or
      they answered it (someone may answer through ``/pmo survey`` when their invitation failed);
    - ``answered``: those who rated a service or left a comment.

    The response rate is ``answered / reached`` everywhere: people the survey never got to could
    not answer it, and ``invited`` says how many those are. Build one with :meth:`count`, which
    keeps ``answered <= reached <= invited`` whatever the raw counts say.
    """

    invited: int
    reached: int
    answered: int

    @classmethod
    def count(cls, invited: int, delivered: int, answered: int) -> Turnout:
        """From the raw counts: invitations queued, people a message was delivered to, answers."""
        reached = max(delivered, answered)
        return cls(invited=max(invited, reached), reached=reached, answered=answered)

    @property
    def not_reached(self) -> int:
        return self.invited - self.reached

    @property
    def response_rate(self) -> float:
        return round(self.answered / self.reached, 3) if self.reached else 0.0

    def describe(self) -> str:
        """The one wording of the three counts, to go inside a sentence:
        "invited 6, reached 4, answered 2 (50% of those reached)"."""
        text = f"invited {self.invited}, reached {self.reached}, answered {self.answered}"
        if self.reached:
            text += f" ({self.response_rate:.0%} of those reached)"
        return text

    def sentence(self) -> str:
        """:meth:`describe` as a sentence of its own: "Invited 6, reached 4, answered 2 (50% of
        those reached)."."""
        text = self.describe()
        return text[:1].upper() + text[1:] + "."


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
    invited: int  # see Turnout for what each count means
    answered: int
    min_responses: int
    withheld: bool  # too few answered: no score at all
    scores: tuple[FunctionScore, ...]
    lowest: tuple[str, ...]  # function ids of the (up to) two lowest scores, lowest first
    comments: tuple[str, ...]  # shuffled; empty when fewer answered than the comment threshold
    comments_withheld: bool
    # How many the survey got to (see Turnout); None when not counted apart: all who were invited.
    reached: int | None = None

    @property
    def turnout(self) -> Turnout:
        reached = self.invited if self.reached is None else self.reached
        return Turnout.count(self.invited, reached, self.answered)

    @property
    def response_rate(self) -> float:
        """Answered of those reached (:class:`Turnout`)."""
        return self.turnout.response_rate


def week(period_key: str) -> str:
    """A period as people read it: "week 49 of 2026" for "delivery/2026-W49" (the team is named
    already, and "2026-W49" would break at its hyphen in a narrow card); a period named by hand
    ("delivery/2026-W49-extra") as it was named."""
    period = period_key.split("/", 1)[-1]
    found = _ISO_WEEK.fullmatch(period)
    return f"week {int(found[2])} of {found[1]}" if found else period
