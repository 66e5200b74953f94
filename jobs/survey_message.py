"""What a pulse survey looks like as a message: the questions with their choices, the comment
form, what was recorded, and the note a late answer gets. The wording comes from the knowledge
base's pulse bank."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import datetime

from bot.reply import Action, Choice, Form, Question, Reply, Section, TextInput
from bot.storage.surveys import Run
from jobs.config import TeamsFile, zone
from knowledge.base import KnowledgeBase

NOT_USED = "na"
COMMENT = "comment"
MAX_COMMENT = 1000


class SurveyMessages:
    def __init__(self, kb: KnowledgeBase, teams: TeamsFile, default_timezone: str) -> None:
        self.kb = kb
        self.teams = teams
        self.default_timezone = default_timezone

    def survey(
        self,
        run: Run,
        ratings: Mapping[str, int | None],
        comment: str,
        reminder: bool = False,
        recorded: bool = False,
    ) -> Reply:
        team = self.teams.find(run.team_id)
        title = team.title if team else run.team_id
        zone_ = zone(team, self.default_timezone) if team else zoneinfo.ZoneInfo(self.default_timezone)
        closes = _when(run.closes_at, zone_)
        scale = self._scale()
        intro = (
            f"How well did the PMO serve you this week? Rate each service from 1 ({scale[1]}) to 5 "
            f"({scale[5]}), or pick \u201c{self._not_used()}\u201d. It takes under a minute."
        )
        sections = [Section(text=("A reminder: " if reminder else "") + intro)]
        if recorded:
            rated = sum(1 for f in run.services if f in ratings)
            note = f"Recorded: {rated} of {len(run.services)} services"
            note += " and your comment." if comment else "."
            until = closes.removeprefix("on ")
            sections.append(Section(text=f"{note} You can change your answers until {until}."))
        sections.append(
            Section(
                text="Your answers are anonymous: the PMO sees totals only, and no score for fewer "
                f"than {team.survey.min_responses if team else 5} answers. The survey closes {closes}."
            )
        )
        return Reply(
            f"{'Reminder: ' if reminder else ''}{title} weekly PMO pulse",
            tuple(sections),
            questions=tuple(self._question(run, f, ratings) for f in run.services),
            form=Form(
                title="Your comment",
                submit_label="Send",
                submit=Action("survey_submit", {"run": str(run.id)}),
                inputs=(TextInput(COMMENT, self._comment_prompt(), comment, max_length=MAX_COMMENT),),
                open_label="Change your comment" if comment else "Add a comment",
                open=Action("survey_form", {"run": str(run.id)}),
            ),
            intent="pulse_survey",
            replace=recorded,
        )

    def _question(self, run: Run, function_id: str, ratings: Mapping[str, int | None]) -> Question:
        scale = self._scale()
        choices = tuple(Choice(f"{n} {scale[n]}", str(n)) for n in sorted(scale, reverse=True))
        choices += (Choice(self._not_used(), NOT_USED),)
        selected = None
        if function_id in ratings:
            score = ratings[function_id]
            selected = NOT_USED if score is None else str(score)
        return Question(
            function_id,
            self._item_text(function_id),
            choices,
            Action("survey_answer", {"run": str(run.id)}),
            selected,
        )

    def _item_text(self, function_id: str) -> str:
        if self.kb.pulse is not None:
            for item in self.kb.pulse.items:
                if item.function == function_id:
                    return item.text
        function = self.kb.functions.get(function_id)
        name = function.name if function is not None else function_id.replace("_", " ")
        return f"How well did the PMO's {name.lower()} work for you this week?"

    def _scale(self) -> dict[int, str]:
        if self.kb.pulse is not None and set(self.kb.pulse.scale) == {1, 2, 3, 4, 5}:
            return dict(self.kb.pulse.scale)
        return {1: "Poor", 2: "Weak", 3: "OK", 4: "Good", 5: "Excellent"}

    def _not_used(self) -> str:
        return self.kb.pulse.not_used_label if self.kb.pulse is not None else "Didn't use it"

    def _comment_prompt(self) -> str:
        return self.kb.pulse.comment_prompt if self.kb.pulse is not None else "What got in the way?"

    def closed(self, run: Run, closed_at: datetime | None) -> Reply:
        team = self.teams.find(run.team_id)
        zone_ = zone(team, self.default_timezone) if team else zoneinfo.ZoneInfo(self.default_timezone)
        when = _when(closed_at or run.closes_at, zone_)
        return Reply(
            "This survey has closed",
            (Section(text=f"This survey closed {when}, so your answer was not recorded. Thank you anyway."),),
            intent="pulse_survey",
            replace=True,
        )


def _when(moment: datetime, zone_: zoneinfo.ZoneInfo) -> str:
    local = moment.astimezone(zone_)
    return f"on {local:%A} {local.day} {local:%B} at {local:%H:%M} ({zone_.key})"
