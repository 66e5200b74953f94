"""The local web chat over real HTTP on loopback: the page and its static files, questions and their
buttons, hostile strings, and the demo team's week from the pulse to the digest."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core import DEMO_ACTIONS
from bot.reply import Action
from bot.storage import Storage
from bot.storage.surveys import Run, SurveyStore
from jobs import demo
from knowledge.base import KnowledgeBase
from tests.test_web_html import parse
from tests.web_client import (
    ADMIN,
    RISK_REGISTER,
    Browser,
    assert_inert,
    assert_security_headers,
    browser,
    button_actions,
    checked,
    form_action,
    joined,
    one_line_error,
    radio_action,
    radios,
    register_csv,
    served,
    sqlite,
    titles,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_PNG = "data:image/png;base64,"
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "javascript:alert(1)")
MARKUP = ("<script>alert(1)</script>", '"><img/src=x/onerror=alert(1)>')  # markup with no spaces
SERVICES = tuple(demo.TRENDS)


@pytest.fixture
async def chat(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Browser]:
    async with served(kb, sqlite(tmp_path), tmp_path) as base, browser(base) as one:
        yield one


@pytest.fixture
async def demo_chat(kb: KnowledgeBase, database_url: str, tmp_path: Path) -> AsyncIterator[Browser]:
    """A browser on a server whose demo team's weeks live in SQLite or PostgreSQL."""
    async with served(kb, database_url, tmp_path) as base, browser(base) as one:
        yield one


# -- the page -------------------------------------------------------------------------------------


async def test_the_page_comes_with_security_headers_and_no_cookie(chat: Browser) -> None:
    response = await chat.fetch("GET", "/")
    assert response.status == 200 and response.content_type == "text/html"
    assert '<script src="/static/chat.js"' in await response.text()
    assert_security_headers(response)
    # The page holds nothing of the person's: the browser's id comes with its first API call.
    assert "Set-Cookie" not in response.headers


@pytest.mark.parametrize(("name", "kind"), [("chat.js", "text/javascript"), ("chat.css", "text/css")])
async def test_static_files_are_served_with_their_types(chat: Browser, name: str, kind: str) -> None:
    response = await chat.fetch("GET", f"/static/{name}")
    assert response.status == 200 and response.content_type == kind
    assert len(await response.text()) > 1000
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "name", ["..%2F..%2Fetc%2Fpasswd", "..%5C..%5Cetc%5Cpasswd", "index.html", "nope.js"]
)
async def test_only_the_named_static_files_are_served(chat: Browser, name: str) -> None:
    response = await chat.fetch("GET", f"/static/{name}")
    assert response.status == 404
    assert one_line_error(await response.json()) == "No such file."
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_a_dotted_path_never_reaches_a_file(chat: Browser) -> None:
    # Unencoded, the slashes keep it from matching /static/{name} at all: the router's own 404.
    response = await chat.fetch("GET", "/static/../../etc/passwd")
    assert response.status == 404 and "root:" not in await response.text()


# -- questions and buttons ----------------------------------------------------------------------------


async def test_a_question_is_answered_with_buttons_that_lead_on(chat: Browser) -> None:
    [answer] = await chat.say("what should I check in a risk register?")
    assert answer["intent"] == "challenge_questions" and answer["replace"] is False
    assert titles([answer]) == ["Checking a risk register"]
    actions = button_actions(answer["html"])
    good = Action("challenge_questions", {"artefact": "risk_register"}, "good")
    assert good in actions and all(a.intent == "challenge_questions" for a in actions)
    [follow_up] = await chat.click(good)
    assert titles([follow_up]) == ["Risk register: what good looks like"]
    assert "What good looks like" in parse(follow_up["html"]).text["h3"]


async def test_an_unclear_question_offers_suggestions(chat: Browser) -> None:
    [answer] = await chat.say("asdf risk")
    assert answer["intent"] == "unknown"
    assert "Did you mean:" in parse(answer["html"]).text["span"]
    suggested = button_actions(answer["html"])
    assert RISK_REGISTER in suggested
    [chosen] = await chat.click(RISK_REGISTER)
    assert titles([chosen]) == ["Checking a risk register"]


async def test_the_welcome_offers_the_demo_pulse(chat: Browser) -> None:
    answer = await (await chat.fetch("GET", "/web/welcome")).json()
    [welcome] = answer["messages"]
    assert answer["demo"] is True
    assert Action("demo_pulse") in button_actions(welcome["html"])


# -- hostile strings ------------------------------------------------------------------------------


async def test_hostile_text_and_actions_come_back_inert(chat: Browser) -> None:
    # The bot does not say back what it was sent (the register's name and cells, and survey
    # comments, which it does say back, have tests of their own); should it start to, escaped.
    for hostile in (*HOSTILE, *MARKUP):
        assert_inert(joined(await chat.say(f"what about {hostile} in a risk register?")))
        assert_inert(joined(await chat.say(hostile)))
        assert_inert(joined(await chat.click(Action("challenge_questions", {"artefact": hostile}, hostile))))
        assert_inert(joined(await chat.click(Action(hostile, {hostile: hostile}))))


async def test_a_hostile_register_is_reviewed_with_everything_escaped(chat: Browser) -> None:
    # The review echoes the file's name and its cells: both carry markup here.
    name = '"><img src=x onerror=alert(1)>.csv'
    description = " ".join(HOSTILE)
    response = await chat.upload("..\\..\\" + name, register_csv(description, HOSTILE[1]))
    assert response.status == 200
    messages = (await response.json())["messages"]
    page = joined(messages)
    assert_inert(page)
    assert titles(messages) == [f"Review of {name}", f"Full report: {name}"]  # the path is dropped
    bullets = parse(page).text["li"]
    assert any("'<script>alert(1)</script>" in b for b in bullets)  # echoed, as text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_a_hostile_survey_comment_is_shown_back_escaped(demo_chat: Browser) -> None:
    pulse = await demo_chat.demo("demo_pulse")
    comment = " ".join(HOSTILE)
    [recorded] = await demo_chat.click(form_action(pulse["html"]), {"comment": comment})
    assert_inert(recorded["html"])
    assert parse(recorded["html"]).text["textarea"] == [comment]
    # The digest says every comment back, to everyone who sees it: as text.
    digest = await demo_chat.demo("demo_close")
    assert_inert(digest["html"])
    assert comment in parse(digest["html"]).text["li"]


# -- the demo team ------------------------------------------------------------------------------------


def demo_runs(url: str) -> tuple[Run | None, list[Run]]:
    """The demo team's latest run and the closed runs before it, read straight from the database."""
    with Storage(url) as storage:
        store = SurveyStore(storage)
        latest = store.latest_run(demo.TEAM_ID)
        return latest, store.runs_before(demo.TEAM_ID, latest, 100) if latest else []


def answered(page: str) -> re.Match[str]:
    found = re.search(r"reached (\d+), answered (\d+)", page)
    assert found is not None, page
    return found


async def test_the_demo_week_from_pulse_to_digest_and_again(demo_chat: Browser) -> None:
    pulse = await demo_chat.demo("demo_pulse")
    assert titles([pulse]) == ["Demo PMO (sample data) weekly PMO pulse"]
    assert len(radios(pulse["html"])) == 6 * len(SERVICES) and checked(pulse["html"]) == {}
    assert Action("demo_close") in button_actions(pulse["html"])

    # A pick is recorded at once, and the survey is redrawn in place.
    [picked] = await demo_chat.click(radio_action(pulse["html"], "reporting", "4"))
    assert picked["replace"] is True
    assert f"Recorded: 1 of {len(SERVICES)} services." in picked["html"]
    assert checked(picked["html"]) == {"q:reporting": "4"}

    # The form sends every choice and the comment together.
    choices = {"q:reporting": "5", "q:risk_management": "3", "q:governance": "na", "q:planning": "2"}
    [sent] = await demo_chat.click(
        form_action(picked["html"]), {**choices, "comment": "More notice, please."}
    )
    assert f"Recorded: {len(SERVICES)} of {len(SERVICES)} services and your comment." in sent["html"]
    assert checked(sent["html"]) == choices
    assert parse(sent["html"]).text["textarea"] == ["More notice, please."]

    # Closing shows the digest: the made-up people and this browser, a chart and the scores.
    digest = await demo_chat.demo("demo_close")
    assert digest["intent"] == "digest"
    found = answered(digest["html"])
    members = len(demo.PEOPLE) + 1
    assert found.group(0) == f"reached {members}, answered {demo.ANSWERED_THIS_WEEK + 1}"
    [image] = parse(digest["html"]).tags("img")
    assert str(image["src"]).startswith(DATA_PNG)
    assert base64.b64decode(str(image["src"])[len(DATA_PNG) :]).startswith(PNG_SIGNATURE)
    doc = parse(digest["html"])
    assert "Scores by service" in doc.text["h3"]
    assert [a.get("class") for a in doc.tags("li")].count("score-row") == len(SERVICES)
    assert "More notice, please." in doc.text["li"]

    # The last digest is the same period; the closed week turns a late pulse away.
    again = await demo_chat.demo("demo_digest")
    assert titles([again]) == titles([digest]) and answered(again["html"]).group(0) == found.group(0)
    closed = await demo_chat.demo("demo_pulse")
    assert titles([closed]) == ["This week's demo survey is closed"] and radios(closed["html"]) == []

    # Starting again reopens the week with nothing chosen.
    restarted = await demo_chat.demo("demo_restart")
    assert titles([restarted]) == titles([pulse])
    assert len(radios(restarted["html"])) == 6 * len(SERVICES) and checked(restarted["html"]) == {}
    assert "Recorded:" not in restarted["html"]


async def test_asking_for_a_survey_points_to_the_demo_until_one_is_joined(demo_chat: Browser) -> None:
    [nothing] = await demo_chat.say("my pulse survey")
    assert nothing["intent"] == "pulse_survey" and radios(nothing["html"]) == []
    offered = button_actions(nothing["html"])
    assert Action("demo_pulse") in offered and Action("demo_digest") in offered
    [digest] = await demo_chat.say("show me the team digest")
    assert titles([digest]) == ["Which team?"] and Action("demo_digest") in button_actions(digest["html"])
    await demo_chat.demo("demo_pulse")
    [survey] = await demo_chat.say("my pulse survey")
    assert titles([survey]) == ["Demo PMO (sample data) weekly PMO pulse"]
    assert len(radios(survey["html"])) == 6 * len(SERVICES)


async def test_a_second_browser_is_one_more_member_with_its_own_answers(demo_chat: Browser) -> None:
    first = await demo_chat.demo("demo_pulse")
    await demo_chat.click(radio_action(first["html"], "planning", "5"))
    async with browser(demo_chat.base) as other:
        second = await other.demo("demo_pulse")
        assert other.id != demo_chat.id
        assert len(radios(second["html"])) == 6 * len(SERVICES) and checked(second["html"]) == {}
        assert "Recorded:" not in second["html"]
        digest = await other.demo("demo_close")
    members = len(demo.PEOPLE) + 2
    assert answered(digest["html"]).group(0) == f"reached {members}, answered {demo.ANSWERED_THIS_WEEK + 1}"


async def test_the_past_weeks_are_made_once_however_often_the_server_starts(
    kb: KnowledgeBase, database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seen = []
    for _ in range(2):
        async with served(kb, database_url, tmp_path):
            pass
        this_week, past = demo_runs(database_url)
        assert this_week is not None and this_week.is_open
        assert len(past) == demo.PAST_WEEKS and all(r.state == "closed" for r in past)
        weeks = [this_week, *past]
        assert len({r.period_key for r in weeks}) == demo.PAST_WEEKS + 1
        with Storage(database_url) as storage:
            store = SurveyStore(storage)
            seen.append([(r.id, r.period_key, store.answered_count(r.id)) for r in weeks])
    assert seen[0] == seen[1]
    assert all(answers > 0 for _, _, answers in seen[0])
    assert "could not make the demo team's weeks" not in caplog.text


async def test_with_the_demo_off_there_is_no_demo(
    kb: KnowledgeBase, database_url: str, tmp_path: Path
) -> None:
    async with served(kb, database_url, tmp_path, PMO_DEMO="off") as base, browser(base) as visitor:
        welcome = await (await visitor.fetch("GET", "/web/welcome")).json()
        [hello] = welcome["messages"]
        assert welcome["demo"] is False and Action("demo_pulse") not in button_actions(hello["html"])
        [survey] = await visitor.say("my pulse survey")
        assert survey["intent"] == "pulse_survey"
        assert Action("demo_pulse") not in button_actions(survey["html"])
        for intent in sorted(DEMO_ACTIONS):
            assert titles([await visitor.demo(intent)]) == ["The demo is off here"]
    assert demo_runs(database_url) == (None, [])


ADMIN_COMMANDS = [
    f"/pmo survey {c}{t}" for c in ("status", "open", "close", "remind") for t in ("", " demo", " web-demo")
]


def demo_week(url: str) -> tuple[Run, int, dict[tuple[str, str], int]]:
    """This week's demo run, how many answered it, and its messages counted by kind and state."""
    this_week, _ = demo_runs(url)
    assert this_week is not None
    with Storage(url) as storage:
        store = SurveyStore(storage)
        return this_week, store.answered_count(this_week.id), store.delivery_counts(this_week.id)


async def test_admins_cannot_run_surveys_from_the_web_chat(demo_chat: Browser, database_url: str) -> None:
    # The cookie is all that names a browser, so being in PMO_ADMINS is no credential here.
    before = demo_week(database_url)
    demo_chat.be(ADMIN)
    for command in ADMIN_COMMANDS:
        assert titles(await demo_chat.say(command)) == ["Survey commands are for Slack and Teams admins"]
    assert demo_chat.id == ADMIN
    after = demo_week(database_url)
    assert after == before and after[0].is_open and ("reminder", "pending") not in after[2]


async def test_a_browser_not_in_pmo_admins_is_told_the_same(demo_chat: Browser) -> None:
    [refused] = await demo_chat.say("/pmo survey close demo")
    assert titles([refused]) == ["Survey commands are for Slack and Teams admins"]
    assert f"web:{demo_chat.id}" not in refused["html"]
