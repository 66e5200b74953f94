"""Digests: a closed run's answers turned into what a PMO manager needs, without exposing anyone.

Counting happens in the database (GROUP BY); Python only divides. No score is shown for a team, or
for one service, with fewer answers than the team's ``min_responses`` (never below 3), and
comments only from ``min_comments`` answers, shuffled, without names or times.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict

from bot.errors import SurveyError
from bot.reply import Action, Button, Reply, Scorecard, ScoreRow, Section
from bot.storage.surveys import Run, SurveyStore
from jobs.config import MIN_RESPONSES_FLOOR, Team, TeamsFile
from jobs.digest_model import Digest, FunctionScore, Turnout, week
from knowledge.base import KnowledgeBase

TREND_RUNS = 4
Shuffle = Callable[[list[str]], None]
# A score's level in a trend, 1 to 5 on one scale for every service, so that two trends compare.
SPARKS = "▁▂▃▄▅▆▇█"
NO_SCORE = "·"
MINUS = "−"


def turnout(store: SurveyStore, run_id: int) -> Turnout:
    """Invited, reached and answered for a run, counted the one way that status, close and the
    digest all state (see :class:`Turnout`)."""
    invitations = store.delivery_counts(run_id)
    invited = sum(n for (kind, _), n in invitations.items() if kind == "invite")
    return Turnout.count(invited, store.reached_count(run_id), store.answered_count(run_id))


class Digests:
    def __init__(
        self, store: SurveyStore, teams: TeamsFile, kb: KnowledgeBase, shuffle: Shuffle | None = None
    ) -> None:
        self.store = store
        self.teams = teams
        self.kb = kb
        # Comments are shown in no particular order, so that their order says nothing about who.
        self.shuffle = shuffle or random.SystemRandom().shuffle

    def latest(self, team_id: str) -> Run:
        team = self.teams.team(team_id)
        run = self.store.latest_run(team.id, state="closed")
        if run is None:
            raise SurveyError(f"team {team_id} has no closed survey yet, so there is no digest")
        return run

    def build(self, team_id: str, run: Run | None = None) -> Digest:
        team = self.teams.team(team_id)
        run = run or self.latest(team_id)
        floor = max(MIN_RESPONSES_FLOOR, team.survey.min_responses)
        earlier = self.store.runs_before(team.id, run, TREND_RUNS - 1)  # newest first
        runs = [run, *earlier]
        counts = self.store.score_counts([r.id for r in runs])
        answered = {r.id: self.store.answered_count(r.id) for r in earlier}
        got = turnout(self.store, run.id)
        answered[run.id] = got.answered
        means = {r.id: _means(counts[r.id], floor if answered[r.id] >= floor else None) for r in runs}
        withheld = answered[run.id] < floor
        scores = tuple(self._score(f, counts[run.id].get(f, {}), means, runs) for f in run.services)
        ranked = sorted((s for s in scores if s.mean is not None), key=lambda s: (s.mean, s.function_id))
        comments_from = max(floor, team.survey.min_comments)
        comments: list[str] = []
        if answered[run.id] >= comments_from:
            comments = self.store.comments(run.id)
            self.shuffle(comments)
        return Digest(
            team_id=team.id,
            team_name=team.title,
            period_key=run.period_key,
            previous_period=earlier[0].period_key if earlier else None,
            invited=got.invited,
            reached=got.reached,
            answered=got.answered,
            min_responses=floor,
            withheld=withheld,
            scores=scores,
            lowest=tuple(s.function_id for s in ranked[:2]),
            comments=tuple(comments),
            comments_withheld=answered[run.id] < comments_from,
        )

    def _score(
        self,
        function_id: str,
        counts: dict[int | None, int],
        means: dict[int, dict[str, float]],
        runs: list[Run],
    ) -> FunctionScore:
        this, *earlier = runs
        mean = means[this.id].get(function_id)
        ratings = sum(n for score, n in counts.items() if score is not None)
        trend = tuple(means[r.id].get(function_id) for r in reversed(runs))
        function = self.kb.functions.get(function_id)
        return FunctionScore(
            function_id=function_id,
            name=function.name if function is not None else function_id.replace("_", " ").capitalize(),
            ratings=ratings,
            not_used=counts.get(None, 0),
            mean=mean,
            distribution=tuple(counts.get(n, 0) for n in range(1, 6)) if mean is not None else None,  # type: ignore[arg-type]
            previous_mean=means[earlier[0].id].get(function_id) if earlier else None,
            trend=trend,
        )

    # -- as a reply --------------------------------------------------------------------------------

    def reply(self, digest: Digest) -> Reply:
        opening = digest.turnout.sentence()
        if digest.previous_period:
            opening += f" Changes are against {week(digest.previous_period)}."
        sections = [Section(text=opening)]
        if digest.withheld:
            sections.append(
                Section(
                    text=f"Scores are withheld: fewer than {digest.min_responses} people answered, and a "
                    "score from so few could give someone's answers away."
                )
            )
        lead = len(sections)  # the scores come straight after the counts, before what to look at
        buttons: list[Button] = []
        for function_id in digest.lowest:
            score = next(s for s in digest.scores if s.function_id == function_id)
            sections.append(
                Section(
                    f"Look at: {score.name} ({score.mean:.1f})", bullets=tuple(self._pointers(function_id))
                )
            )
            buttons.append(
                Button(f"About {score.name.lower()}", Action("function_info", {"function": function_id}))
            )
        if digest.comments:
            sections.append(Section("What got in the way (comments, in no order)", bullets=digest.comments))
        elif digest.comments_withheld:
            sections.append(
                Section(text="Too few people answered for comments to be shown without giving anyone away.")
            )
        return Reply(
            f"{digest.team_name}: PMO pulse, {week(digest.period_key)}",
            tuple(sections),
            buttons=tuple(buttons),
            scorecards=(scorecard(digest),) if digest.scores else (),
            scores_after=lead,
            intent="digest",
        )

    def _pointers(self, function_id: str) -> list[str]:
        """Coaching for a weak service: what it should deliver, the questions a PMO manager can ask
        of it, and why it matters, all from the knowledge base."""
        function = self.kb.functions.get(function_id)
        if function is None:
            return []
        out = [f"What it should deliver: {'; '.join(s.rstrip('.') for s in function.services[:3])}."]
        artefact = (
            self.kb.artefacts.get(function.primary_artefact or "") if function.primary_artefact else None
        )
        if artefact is None:
            artefact = next((a for a in self.kb.artefacts.values() if a.function == function_id), None)
        if artefact is not None:
            groups = artefact.manager_questions or artefact.questions
            out += [f"Ask: {q}" for q in groups[0].questions[:2]]
        if self.kb.facts is not None:
            for area in self.kb.facts.core_competencies:
                if area.function == function_id:
                    out.append(f"Why it matters: {area.why}")
        return out

    # -- export ------------------------------------------------------------------------------------

    def csv(self, digest: Digest) -> str:
        """The aggregates only (no answer, no comment), one row a service; cells that a spreadsheet
        would run as a formula are neutralised."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            [
                "team",
                "period",
                "service",
                "ratings",
                "didnt_use",
                "mean",
                "change",
                "n1",
                "n2",
                "n3",
                "n4",
                "n5",
            ]
        )
        for s in digest.scores:
            spread = list(s.distribution) if s.distribution else [""] * 5
            cells = [
                digest.team_id,
                digest.period_key,
                s.name,
                s.ratings,
                s.not_used,
                _fmt(s.mean),
                _fmt(s.change),
                *spread,
            ]
            writer.writerow([_neutral(str(c)) for c in cells])
        return out.getvalue()

    @staticmethod
    def as_json(digest: Digest) -> dict[str, object]:
        data = asdict(digest)
        data["response_rate"] = digest.response_rate
        for score, raw in zip(digest.scores, data["scores"], strict=True):
            raw["change"] = score.change
        return data


def _means(counts: dict[str, dict[int | None, int]], floor: int | None) -> dict[str, float]:
    """Each function's mean score, where at least ``floor`` people rated it (None: none at all)."""
    if floor is None:
        return {}
    out = {}
    for function_id, by_score in counts.items():
        rated = {score: n for score, n in by_score.items() if score is not None}
        total = sum(rated.values())
        if total >= floor:
            out[function_id] = round(sum(score * n for score, n in rated.items()) / total, 2)
    return out


def scorecard(digest: Digest) -> Scorecard:
    """The digest's scores, one entry a service: its name; its mean and change where shown; then
    its trend, its spread over 1 to 5 and how many rated it or did not use it."""
    if digest.withheld:
        note = "No scores this time: how many rated each service, and how many did not use it."
    else:
        note = "Mean from 1 (poor) to 5 (excellent)"
        if digest.previous_period:
            note += f"; ▲▼ change since {week(digest.previous_period)}"
        note += f"; trend over up to {TREND_RUNS} runs, oldest first."
    return Scorecard("Scores by service", tuple(_score_row(s, digest) for s in digest.scores), note)


def _score_row(score: FunctionScore, digest: Digest) -> ScoreRow:
    counts = (f"{score.ratings} rated", f"{score.not_used} didn't use")
    if score.mean is None:
        if digest.withheld:
            return ScoreRow(score.name, details=counts)
        why = "no score: too few ratings" if score.ratings else "no ratings"
        return ScoreRow(score.name, details=(why, *counts))
    details: list[str] = []
    if (trend := spark(score.trend)) is not None:
        details.append(trend)
    if score.distribution is not None:
        details.append("1–5: " + " ".join(str(n) for n in score.distribution))
    return ScoreRow(score.name, f"{score.mean:.1f}", change(score.change), (*details, *counts))


def change(value: float | None) -> str:
    """A change in score as "▲0.4", "▼0.2" or "=0.0"; "" when there is nothing to compare with."""
    if value is None:
        return ""
    shown = f"{abs(value):.1f}"
    if shown == "0.0":
        return "=0.0"
    return ("▲" if value > 0 else "▼") + shown


def spark(means: Sequence[float | None]) -> str | None:
    """A trend of scores as "trend ▂▄▆ 2.1→3.8": one bar a run, oldest first, on the same 1–5
    scale for every service, with the first and last scores in figures; "·" for a run without
    a score. None when fewer than two runs have a score."""
    scored = [m for m in means if m is not None]
    if len(scored) < 2:
        return None
    bars = "".join(NO_SCORE if m is None else _bar(m) for m in means)
    return f"trend {bars} {scored[0]:.1f}→{scored[-1]:.1f}"


def _bar(mean: float) -> str:
    level = round((min(max(mean, 1.0), 5.0) - 1) / 4 * (len(SPARKS) - 1))
    return SPARKS[level]


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _neutral(cell: str) -> str:
    # A cell starting with = + - @ (or a tab or carriage return) runs as a formula in Excel and its
    # kin: a leading apostrophe keeps it text.
    if cell[:1] not in ("=", "+", "-", "@", "\t", "\r"):
        return cell
    try:
        float(cell)  # a negative change is a number, not a formula
        return cell
    except ValueError:
        return f"'{cell}"


__all__ = ["Digest", "Digests", "FunctionScore", "Team"]
