"""The web chat in a real headless Chromium, against `pmo-bot serve` started as a process the way
`make run` starts it: a question and its follow-up, a register dropped on the page, the demo pulse
answered and its digest with the chart, markup in what is typed, dropped or commented staying text,
and the page's Slack and Teams instructions.

The browser is the system's (Debian's ``chromium`` package), driven by Playwright for Python, which
downloads nothing. Without one the tests skip and say why; ``.ci/run`` installs it and sets
PMO_REQUIRE_BROWSER=1, which turns that skip into a failure. With PMO_SCREENSHOTS=DIR each journey
leaves a screenshot there (the ones in docs/ were made so).
"""

from __future__ import annotations

import base64
import csv
import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.test_review import REAL
from tests.test_serve import start, stop

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_MS = 20_000
# Read at import: the autouse clean_env fixture removes PMO_ variables before each test runs.
REQUIRE_BROWSER = os.environ.get("PMO_REQUIRE_BROWSER") == "1"
SCREENSHOTS = os.environ.get("PMO_SCREENSHOTS")
CHROMIUM = os.environ.get("PMO_CHROMIUM")
HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
# A file's name may hold almost any character; so may a register's cells and a survey comment.
HOSTILE_NAME = "<img src=x onerror=window.__pwned=3>.csv"
HOSTILE_DESCRIPTION = "<script>window.__pwned=4</script>"
HOSTILE_OWNER = '"><img src=x onerror=window.__pwned=5>'
HOSTILE_COMMENT = "Noted <img src=x onerror=window.__pwned=6> and <script>window.__pwned=7</script>"


def _browser() -> str | None:
    if CHROMIUM:
        return CHROMIUM
    return next((found for b in BROWSERS if (found := shutil.which(b))), None)


def _unavailable() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if _browser() is None:
        return "no Chromium found (apt-get install chromium, or set PMO_CHROMIUM)"
    return None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    why = _unavailable()
    if why is not None:
        if REQUIRE_BROWSER:
            pytest.fail(f"PMO_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    folder = tmp_path_factory.mktemp("web")
    proc, port = start(folder, {"PMO_CONFIG": str(folder / "no-teams.yaml")})
    yield f"http://127.0.0.1:{port}"
    code, lines = stop(proc)
    assert code == 0
    assert not [line for line in lines if line.get("level") == "error"], lines


@pytest.fixture
def page(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=_browser(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        tab = context.new_page()
        tab.set_default_timeout(TIMEOUT_MS)
        problems: list[str] = []
        tab.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.goto(server + "/")
        tab.wait_for_selector("body[data-ready='1']")
        yield tab
        # No script error and no Content-Security-Policy violation on any journey.
        assert problems == []
        browser.close()


def settle(page: Any) -> None:
    # Waits are selectors, not page.wait_for_function: that evaluates strings in the page, which the
    # page's Content-Security-Policy (no 'unsafe-eval') rightly refuses.
    page.wait_for_selector("body:not([data-busy])", state="attached")


def bot_turns(page: Any) -> Any:
    return page.locator("#log .turn.bot article.reply")


def shoot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=False)


def ask(page: Any, text: str) -> None:
    before = bot_turns(page).count()
    page.fill("#message", text)
    page.press("#message", "Enter")
    bot_turns(page).nth(before).wait_for()
    settle(page)


def test_a_question_then_a_follow_up(page: Any) -> None:
    assert "Hello, I'm pmo-bot" in bot_turns(page).first.inner_text()
    ask(page, "what should I check in a risk register?")
    answer = bot_turns(page).last
    assert "risk register" in answer.locator("h2").inner_text().lower()
    follow_up = answer.locator("button.action").first
    label = follow_up.inner_text()
    follow_up.click()
    page.locator("#log .turn.bot").nth(2).wait_for()
    settle(page)
    # The click shows as the person's turn, and the core answers it without routing the label.
    assert label in page.locator("#log .turn.user").last.inner_text()
    assert bot_turns(page).last.locator("h2").inner_text() != ""
    shoot(page, "web-chat-question.png")


def assert_nothing_ran(page: Any) -> None:
    """No markup from a hostile string became an element: no script ran, no image was made."""
    assert page.evaluate("window.__pwned") is None
    assert page.locator("img[src='x']").count() == 0


def test_typed_markup_stays_text(page: Any) -> None:
    ask(page, HOSTILE)
    assert HOSTILE in page.locator("#log .turn.user").last.inner_text()
    assert_nothing_ran(page)


def _drop(page: Any, name: str, data: bytes, mime: str) -> None:
    """A real drop: a File made in the page from the bytes, in a DataTransfer, through dragenter,
    dragover and drop on the page, as a browser fires them when a file is dragged in."""
    page.evaluate(
        """([name, b64, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type: mime}));
            for (const type of ['dragenter', 'dragover', 'drop']) {
                document.body.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,
                                                                  dataTransfer: transfer}));
            }
        }""",
        [name, base64.b64encode(data).decode("ascii"), mime],
    )


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/registers is not beside this checkout")
def test_a_register_dropped_on_the_page_is_reviewed(page: Any) -> None:
    register = REAL / "data_migration_register_broken_rows.csv"
    before = bot_turns(page).count()
    _drop(page, register.name, register.read_bytes(), "text/csv")
    bot_turns(page).nth(before + 1).wait_for()
    settle(page)
    assert register.name in page.locator("#log .turn.user").last.inner_text()
    summary, report = (bot_turns(page).nth(before).inner_text(), bot_turns(page).nth(before + 1).inner_text())
    assert register.name in summary
    assert "Full report" in report
    bot_turns(page).nth(before).scroll_into_view_if_needed()
    shoot(page, "web-chat-register.png")


def hostile_register() -> bytes:
    """Six risks of one owner, so that the review names the owner, and one with no owner, so that it
    quotes that risk's description."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Risk ID", "Description", "Owner", "Likelihood", "Impact", "Status"])
    for n in range(1, 7):
        writer.writerow(
            [f"R{n}", f"Supplier may deliver release {n} late, delaying testing", HOSTILE_OWNER, 3, 3, "Open"]
        )
    writer.writerow(["R7", HOSTILE_DESCRIPTION, "", 5, 5, "Open"])
    return out.getvalue().encode()


def test_a_hostile_register_dropped_on_the_page_stays_text(page: Any) -> None:
    before = bot_turns(page).count()
    _drop(page, HOSTILE_NAME, hostile_register(), "text/csv")
    bot_turns(page).nth(before + 1).wait_for()
    settle(page)
    assert HOSTILE_NAME in page.locator("#log .turn.user").last.inner_text()
    summary, report = bot_turns(page).nth(before), bot_turns(page).nth(before + 1)
    assert summary.locator("h2").inner_text() == f"Review of {HOSTILE_NAME}"
    assert report.locator("h2").inner_text() == f"Full report: {HOSTILE_NAME}"
    said = report.inner_text()
    assert f"R7 ('{HOSTILE_DESCRIPTION}') has no named owner" in said
    assert f"{HOSTILE_OWNER} owns 6 of the 7 open risks" in said
    assert_nothing_ran(page)


def test_a_file_that_is_not_a_register_is_refused_in_the_page(page: Any) -> None:
    _drop(page, "notes.pdf", b"%PDF-1.4", "application/pdf")
    page.wait_for_selector("#log .notice")
    assert "notes.pdf" in page.locator("#log .notice").last.inner_text()


def test_the_demo_pulse_then_its_digest_with_the_chart(page: Any) -> None:
    page.click("#demo button.action >> nth=3")  # start the demo week afresh: the module shares a database
    page.wait_for_selector("#log fieldset.question")
    settle(page)
    survey = bot_turns(page).last
    assert "Demo PMO (sample data)" in survey.locator("h2").inner_text()
    questions = survey.locator("fieldset.question")
    assert questions.count() == 4
    for index in range(4):
        # The fourth choice of each question, by its label, as a person clicks it.
        bot_turns(page).last.locator("fieldset.question").nth(index).locator("label").nth(1).click()
        settle(page)
    page.locator("#log article.reply", has_text="Recorded: 4 of 4").last.wait_for()
    current = bot_turns(page).last
    assert current.locator("input[type=radio]:checked").count() == 4
    current.locator("textarea").fill(HOSTILE_COMMENT)
    current.locator("button[type=submit]").click()
    page.locator("#log article.reply", has_text="and your comment").last.wait_for()
    settle(page)
    bot_turns(page).last.locator("h2").scroll_into_view_if_needed()
    shoot(page, "web-chat-pulse.png")

    page.click("#demo button.action >> nth=1")  # close the survey and see the digest
    chart = page.locator("#log article.reply img[src^='data:image/png;base64,']").last
    chart.wait_for()
    settle(page)
    assert chart.evaluate("img => img.decode().then(() => img.naturalWidth)") > 300
    digest = bot_turns(page).last.inner_text()
    assert "reached 12, answered" in digest  # eleven made-up people and this browser
    assert "Demo data" in digest
    assert HOSTILE_COMMENT in digest  # said back to the whole team, as text
    assert_nothing_ran(page)
    chart.evaluate("img => img.scrollIntoView({block: 'start'})")  # the chart at the top of the shot
    page.wait_for_timeout(400)  # the log scrolls smoothly
    shoot(page, "web-chat-digest.png")


def test_the_page_says_how_to_connect_slack_and_teams(page: Any) -> None:
    page.click("#connect summary")
    text = page.locator("#connect").inner_text()
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "/slack/events",
        "MICROSOFT_APP_ID",
        "/api/messages",
    ):
        assert name in text
    page.locator("#connect").scroll_into_view_if_needed()
    shoot(page, "web-chat-connect.png")


def test_a_team_set_up_in_the_web_form_of_this_machine(page: Any) -> None:
    # The web chat on a loopback address is this machine's operator's: the set-up form is theirs.
    ask(page, "/pmo survey setup")
    form = bot_turns(page).last.locator("form")
    assert form.locator("select[name=platform]").count() == 1
    form.locator("input[name=id]").fill("webteam")
    form.locator("input[name=name]").fill("Web PMO")
    form.locator("input[name=members]").first.fill("U0WEB00001, U0WEB00002")
    form.locator("input[name=digest_channel]").fill("C0WEBDIG01")
    form.locator("input[name=min_responses]").fill("2")
    form.locator("fieldset.pick label", has_text="Reporting").first.click()
    form.locator("fieldset.pick label", has_text="Governance").first.click()
    form.locator("button[type=submit]").click()
    refused = page.locator("#log article.reply", has_text="Not saved yet").last
    refused.wait_for()
    settle(page)
    assert "At least 3" in refused.locator(".form-error").first.inner_text()
    refused.locator(".form-error").first.scroll_into_view_if_needed()
    shoot(page, "web-chat-team-setup-refused.png")
    # Fixed in the form shown again, which kept what was typed and ticked.
    again = refused.locator("form")
    assert again.locator("input[name=id]").input_value() == "webteam"
    assert again.locator("input[type=checkbox]:checked").count() == 2
    again.locator("input[name=min_responses]").fill("3")
    again.locator("button[type=submit]").click()
    page.locator("#log article.reply", has_text="Web PMO set up").last.wait_for()
    settle(page)
    shoot(page, "web-chat-team-setup.png")
    ask(page, "/pmo survey list")
    assert "webteam (Web PMO)" in bot_turns(page).last.inner_text()
