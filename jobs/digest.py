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
from bot.reply import Action, Button, Reply, Section, Table
from bot.storage.surveys import Run, SurveyStore
from jobs.config import MIN_RESPONSES_FLOOR, Team, TeamsFile
from jobs.digest_model import Digest, FunctionScore
from knowledge.base import KnowledgeBase

TREND_RUNS = 4
Shuffle = Callable[[list[str]], None]


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
        answered = {r.id: self.store.answered_count(r.id) for r in runs}
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
            invited=max(self.store.reached_count(run.id), answered[run.id]),
            answered=answered[run.id],
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
        rate = f"{digest.response_rate:.0%}"
        opening = f"{digest.answered} of {digest.invited} answered ({rate})."
        if digest.previous_period:
            opening += f" Changes are against {digest.previous_period}."
        sections = [Section(text=opening)]
        if digest.withheld:
            sections.append(
                Section(
                    text=f"Scores are withheld: fewer than {digest.min_responses} people answered, and a "
                    "score from so few could give someone's answers away."
                )
            )
        table = Table(
            ("Service", "Score", "Change", "Last runs", "1–5 spread", "Rated", "Didn't use"),
            tuple(_row(s, digest) for s in digest.scores),
        )
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
            f"{digest.team_name}: PMO pulse {digest.period_key}",
            tuple(sections),
            buttons=tuple(buttons),
            tables=(table,),
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


def _row(score: FunctionScore, digest: Digest) -> tuple[str, ...]:
    if score.mean is None:
        shown = "withheld" if score.ratings or digest.withheld else "no ratings"
        return (score.name, shown, "", _trend(score.trend), "", str(score.ratings), str(score.not_used))
    change = "" if score.change is None else f"{score.change:+.1f}".replace("-", "−")
    spread = " ".join(str(n) for n in score.distribution or ())
    return (
        score.name,
        f"{score.mean:.1f}",
        change,
        _trend(score.trend),
        spread,
        str(score.ratings),
        str(score.not_used),
    )


def _trend(means: Sequence[float | None]) -> str:
    return " → ".join("–" if m is None else f"{m:.1f}" for m in means) if len(means) > 1 else ""


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
