"""The team set-up form: what it asks, and reading a submitted one back into a team, with a reason
for every field that cannot be saved. Nothing here touches the database or a platform."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from bot.reply import Action, Choice, Form, InputKind, Pick, TextInput, number_of, number_text
from jobs.config import BUILTIN_IDS, MIN_RESPONSES_FLOOR, SurveySettings, Team
from knowledge.base import KnowledgeBase

SUBMIT = "team_setup"
OPEN = "team_setup_form"
PLATFORMS = ("slack", "teams")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# A Slack mention as typed or pasted ("<@U0AAA>", "<@U0AAA|ana>"), a Slack id, a Teams id.
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_SLACK_CHANNEL = re.compile(r"^[CG][A-Z0-9]{2,}$")
_TEAMS_USER = re.compile(r"^29:[A-Za-z0-9_\-]{4,}$")
_TEAMS_CHANNEL = re.compile(r"^19:[^\s;]+@thread\.[a-z0-9]+$")
_SPLIT = re.compile(r"[,\s]+")

# The inputs, by key. "id" is asked only for a new team; "platform" only where the form is not
# in Slack or Teams (the web chat).
FIELD_LABELS = {
    "id": "Team id",
    "platform": "Platform",
    "name": "Team name",
    "members": "Members",
    "members_from_channel": "Or everyone in this channel",
    "digest_channel": "Digest channel",
    "services": "Services to rate",
    "schedule": "Schedule (cron)",
    "timezone": "Time zone",
    "open_hours": "Open for (hours)",
    "reminder_after_hours": "Reminder after (hours)",
    "min_responses": "Minimum answers for scores",
    "min_comments": "Minimum answers for comments",
}
MAX_OPEN_HOURS = 24 * 28
SURVEY_FIELDS = ("schedule", "timezone", "open_hours", "reminder_after_hours", "min_responses")


def setup_form(
    kb: KnowledgeBase,
    platform: str,
    team: Team | None,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    default_timezone: str,
    note: str,
    editing: str = "",
) -> Form:
    """The form, filled from ``values`` (a refused submit), else from ``team`` (an edit), else
    with the defaults. ``platform`` "" asks for it (the web chat)."""
    start = _values_of(team, default_timezone)
    start.update({k: v for k, v in values.items() if k in FIELD_LABELS})
    on = platform or start.get("platform", "") or "slack"

    def field(key: str, kind: InputKind, placeholder: str = "", hint: str = "", **more: Any) -> TextInput:
        # Label from FIELD_LABELS, value from where the form starts; required unless said.
        more.setdefault("optional", False)
        return TextInput(
            key, FIELD_LABELS[key], start.get(key, ""), placeholder, kind=kind, hint=hint, **more
        )

    inputs: list[TextInput | Pick] = []
    if not editing:
        hint = "Letters, digits, - _ or .; commands use it: /pmo survey status delivery"
        inputs.append(field("id", "line", "delivery", hint, max_length=64))
    if not platform:
        choices = (Choice("Slack", "slack"), Choice("Microsoft Teams", "teams"))
        inputs.append(Pick("platform", FIELD_LABELS["platform"], choices, (on,)))
    people = "" if on == "slack" else ": Teams user ids (29:…), separated by commas"
    channel = "" if on == "slack" else " (a Teams conversation id, 19:…@thread…)"
    services = tuple(Choice(f.name, f.id) for f in sorted(kb.functions.values(), key=lambda f: f.name))
    inputs += [
        field("name", "line", "Delivery PMO", max_length=80, optional=True),
        field("members", "people", hint="People asked each week" + people, max_length=4000, optional=True),
        field(
            "members_from_channel",
            "channel",
            hint="Everyone in it is asked, as they join and leave" + channel,
            max_length=255,
            optional=True,
        ),
        field(
            "digest_channel", "channel", hint="Where the digest is posted; pmo-bot must be in it" + channel
        ),
        Pick(
            "services",
            FIELD_LABELS["services"],
            services,
            tuple(filter(None, start.get("services", "").split(","))),
            multiple=True,
        ),
        field(
            "schedule",
            "line",
            "0 9 * * mon",
            "minute hour day month weekday: 0 9 * * mon is Mondays at 09:00; at most weekly",
        ),
        field("timezone", "line", default_timezone, "For example Europe/London or America/New_York"),
        field("open_hours", "number", "72", decimals=True),
        field(
            "reminder_after_hours",
            "number",
            "48",
            "Leave empty for no reminder",
            decimals=True,
            optional=True,
        ),
        field(
            "min_responses", "number", "5", f"At least {MIN_RESPONSES_FLOOR}: fewer answers show no scores"
        ),
    ]
    title = f"Edit {editing}" if editing else "Set up a team"
    # Encoded even when empty: the platforms let what the bot encoded win over a typed input.
    slots = {"editing": editing}
    if platform:
        slots["platform"] = platform
    return Form(
        title=title,
        submit_label="Save",
        submit=Action(SUBMIT, slots),
        inputs=tuple(inputs),
        standalone=True,
        # Where the form cannot open at once (a Slack mention or DM), a button opens it.
        open_label="Open the set-up form",
        open=Action(OPEN, {"team": editing}),
        note=note,
        errors=tuple((k, v) for k, v in errors.items()),
    )


def read_team(
    values: Mapping[str, str], platform: str, team_id: str, functions: frozenset[str]
) -> tuple[Team | None, dict[str, str]]:
    """The team a submitted form describes, or the reason for each field that is wrong."""
    errors: dict[str, str] = {}
    if not team_id:
        errors["id"] = "Give the team an id, for example delivery."
    elif not _ID.match(team_id):
        errors["id"] = "Use letters, digits, - _ or . only, starting with a letter or digit (at most 64)."
    elif team_id in BUILTIN_IDS:
        errors["id"] = f"{team_id} is kept for the web chat's demo team: choose another id."
    if platform not in PLATFORMS:
        errors["platform"] = "Choose Slack or Microsoft Teams."
    members, bad = _people(values.get("members", ""), platform)
    if bad:
        errors["members"] = f"Not a {_platform_name(platform)} user id: {', '.join(bad[:3])}."
    from_channel = values.get("members_from_channel", "").strip()
    digest = values.get("digest_channel", "").strip()
    for key, channel in (("members_from_channel", from_channel), ("digest_channel", digest)):
        if channel and platform == "slack" and not _SLACK_CHANNEL.match(channel):
            errors[key] = f"Not a Slack channel id: {channel} (pick the channel from the list)."
        elif channel and platform == "teams" and not _TEAMS_CHANNEL.match(channel.split(";", 1)[0]):
            errors[key] = f"Not a Teams conversation id: {channel} (one looks like 19:…@thread.tacv2)."
    if not digest:
        errors["digest_channel"] = "Choose where the digest is posted."
    if not members and not from_channel and "members" not in errors:
        errors["members"] = "Choose the members, or a channel whose members are asked: otherwise nobody is."
    services = [s for s in _SPLIT.split(values.get("services", "")) if s]
    unknown = [s for s in services if s not in functions]
    if not services:
        errors["services"] = "Choose at least one service to rate."
    elif unknown:
        errors["services"] = f"Not a service here: {', '.join(unknown[:3])}."
    survey, survey_errors = _read_survey(values)
    errors.update(survey_errors)
    if errors:
        return None, errors
    data = {
        "id": team_id,
        "name": values.get("name", "").strip()[:80],
        "platform": platform,
        "members": members,
        "members_from_channel": from_channel or None,
        "digest_channel": digest,
        "services": services,
        "survey": survey,
    }
    try:
        return Team.model_validate(data), {}
    except ValidationError as exc:
        return None, {"name": _message(exc.errors()[0])}


def definition(team: Team) -> dict[str, Any]:
    """The team as it is stored (and as it would stand in a teams file), without its id."""
    return team.model_dump(mode="json", exclude={"id"})


def changes(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """What a save changed, field by field, for the audit trail: {field: [old, new]}."""
    old = _flat(before or {})
    new = _flat(after)
    return {k: [old.get(k), new.get(k)] for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)}


def _flat(data: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in data.items() if k != "survey"}
    survey = data.get("survey")
    if isinstance(survey, Mapping):
        out.update(survey)
    return out


def _read_survey(values: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The survey settings of a submitted form, each field checked on its own first, so that
    every wrong field is named at once; then together (a reminder after the survey closes)."""
    survey: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key in SURVEY_FIELDS:
        text = values.get(key, "").strip()
        if key in ("schedule", "timezone"):
            if not text:
                errors[key] = "This is needed."
                continue
            survey[key] = text
            errors.update(_survey_errors({key: text}))
            continue
        number = number_of(text)
        if key == "min_responses" and not isinstance(number, int):
            number = None  # a whole number of answers
        if text and number is None:
            errors[key] = "A whole number, please." if key == "min_responses" else "A number, please."
        elif number is not None:
            survey[key] = number
            if number <= 0 or (key == "open_hours" and number > MAX_OPEN_HOURS):
                errors[key] = f"More than 0{f' and at most {MAX_OPEN_HOURS}' if key == 'open_hours' else ''}."
        elif key == "reminder_after_hours":
            survey[key] = None  # empty: no reminder
        else:
            errors[key] = "Give a number."
    min_responses = survey.get("min_responses")
    if isinstance(min_responses, int) and min_responses < MIN_RESPONSES_FLOOR:
        errors["min_responses"] = (
            f"At least {MIN_RESPONSES_FLOOR}: a score from fewer could give one person's answers away."
        )
    reminder, open_hours = survey.get("reminder_after_hours"), survey.get("open_hours")
    if isinstance(reminder, int | float) and isinstance(open_hours, int | float) and reminder >= open_hours:
        errors.setdefault("reminder_after_hours", _friendly(REMINDER_ORDER))
    if isinstance(min_responses, int):
        # Comments are shown from this many answers; never fewer than the scores need.
        survey["min_comments"] = max(min_responses, 10)
    if not errors:
        errors.update(_survey_errors(survey))
    return survey, errors


def _survey_errors(survey: Mapping[str, Any]) -> dict[str, str]:
    try:
        SurveySettings.model_validate(survey)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(x) for x in error.get("loc", ())]
            message = _message(error)
            key = loc[0] if loc and loc[0] in SURVEY_FIELDS else _key_of(message)
            errors.setdefault(key, _friendly(message))
        return errors
    return {}


REMINDER_ORDER = "Reminder_after_hours must be less than open_hours"


def _friendly(message: str) -> str:
    if message.startswith(REMINDER_ORDER):
        return "Must be fewer hours than the survey is open for, or the reminder never goes."
    return message


def _key_of(message: str) -> str:
    if "reminder" in message:
        return "reminder_after_hours"
    return "min_responses" if "min_comments" in message else "schedule"


def _message(error: Mapping[str, Any]) -> str:
    text = str(error.get("msg", "not valid")).removeprefix("Value error, ")
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _people(text: str, platform: str) -> tuple[list[str], list[str]]:
    found: list[str] = []
    bad: list[str] = []
    for raw in _SPLIT.split(_MENTION.sub(r" \1 ", text)):
        member = raw.strip().removeprefix(f"{platform}:")
        if not member:
            continue
        ok = (_SLACK_USER if platform == "slack" else _TEAMS_USER).match(member)
        (found if ok else bad).append(member)
    return list(dict.fromkeys(found)), bad


def _platform_name(platform: str) -> str:
    return "Slack" if platform == "slack" else "Teams"


def raw_values(data: Mapping[str, Any]) -> dict[str, str]:
    """A stored definition as form values, as far as it goes (one this build cannot read)."""
    out: dict[str, str] = {}
    for key, value in _flat(data).items():
        if isinstance(value, list | tuple):
            out[key] = ",".join(str(v) for v in value)
        elif isinstance(value, float):
            out[key] = number_text(value)
        elif value is not None:
            out[key] = str(value)
    return out


def _values_of(team: Team | None, default_timezone: str) -> dict[str, str]:
    """The form's starting values: the team's (an edit), or the survey defaults (a new team)."""
    data = (
        {**definition(team), "id": team.id} if team else {"survey": SurveySettings().model_dump(mode="json")}
    )
    values = raw_values(data)
    values.setdefault("timezone", default_timezone)
    return values
