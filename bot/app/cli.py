"""The ``pmo-bot`` command line.

Heavy imports (knowledge base, router, platform SDKs) happen inside the commands, so that
``pmo-bot --help`` and a one-shot ``ask`` start quickly.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.core import Bot
    from bot.settings import Settings

T = TypeVar("T")

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="pmo-bot: a coach for people who work in a PMO."
)
kb_app = typer.Typer(no_args_is_help=True, help="Inspect and validate the knowledge base.")
app.add_typer(kb_app, name="kb")
slack_app = typer.Typer(no_args_is_help=True, help="Slack app set-up.")
app.add_typer(slack_app, name="slack")
db_app = typer.Typer(no_args_is_help=True, help="The database.")
app.add_typer(db_app, name="db")
teams_app = typer.Typer(no_args_is_help=True, help="Microsoft Teams app set-up.")
app.add_typer(teams_app, name="teams")
survey_app = typer.Typer(no_args_is_help=True, help="Run a team's pulse survey by hand.")
app.add_typer(survey_app, name="survey")

TeamOption = Annotated[str, typer.Option("--team", help="The team's id in PMO_CONFIG.")]

PLACEHOLDER_APP_ID = "00000000-0000-0000-0000-000000000000"


def fail(message: str) -> NoReturn:
    """A user error: one line on stderr and exit code 1, never a traceback."""
    typer.echo(f"pmo-bot: {message}", err=True)
    raise typer.Exit(1)


def _knowledge_dir() -> Path | None:
    from bot.app.main import knowledge_dir

    try:
        return knowledge_dir()
    except ConfigError as exc:
        fail(str(exc))


def _bot() -> Bot:
    from bot.app.main import make_bot

    try:
        return make_bot()
    except ConfigError as exc:
        fail(str(exc))


@app.command()
def route(
    text: Annotated[str | None, typer.Argument(help="The message to route.")] = None,
    file: Annotated[Path | None, typer.Option("--file", help="Route every line of this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Show the router's decision: intent, slots and confidence."""
    if (text is None) == (file is None):
        fail("give either TEXT or --file PATH")
    if file is not None:
        try:
            # One utterance per line: split on newlines only, not on the other characters
            # str.splitlines() treats as line ends, so that output lines match input lines.
            text = file.read_text(encoding="utf-8-sig")
            lines = [line.removesuffix("\r") for line in text.split("\n")]
            if lines and lines[-1] == "":
                lines.pop()
        except (OSError, UnicodeDecodeError) as exc:
            fail(f"cannot read {file}: {exc.__class__.__name__}: {getattr(exc, 'strerror', None) or exc}")
    else:
        lines = [text or ""]
    router = _bot().router
    out = []
    for line in lines:
        result = router.route(line, suggest=False)
        if as_json:
            out.append(json.dumps(result.as_json(), ensure_ascii=False))
        else:
            slots = " ".join(f"{k}={v}" for k, v in result.slots.items())
            out.append(f"{result.intent}\t{slots}\t{result.confidence:.2f}\t{line}")
    sys.stdout.write("".join(f"{row}\n" for row in out))


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help="What you would type to the bot.")],
    user: Annotated[str, typer.Option("--user", help="Your user id (for surveys and permissions).")] = "cli",
) -> None:
    """One turn: the bot's reply as plain text. A follow-up ("and for a manager?") within 30
    minutes follows on from the previous ask of the same user."""
    from bot.app.main import answer

    try:
        typer.echo(answer(text, user))
    except ConfigError as exc:
        fail(str(exc))


@app.command()
def chat(
    user: Annotated[str, typer.Option("--user", help="Your user id.")] = "cli",
) -> None:
    """Talk to the bot in the terminal. Type a number to press a button, 'quit' to leave."""
    from adapters.terminal import run_chat

    run_chat(_bot(), user)


@app.command()
def review(
    file: Annotated[Path, typer.Argument(help="The register: a CSV or XLSX file.")],
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="The workbook sheet that holds the risks.")
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Review date, YYYY-MM-DD (default today).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Findings and summary as JSON.")] = False,
    stale_days: Annotated[
        int, typer.Option("--stale-days", min=1, help="Days before a review is stale.")
    ] = 30,
    owner_share: Annotated[
        float, typer.Option("--owner-share", min=0.1, max=1.0, help="Share of open risks one owner may hold.")
    ] = 0.6,
    escalate_at: Annotated[
        float | None, typer.Option("--escalate-at", help="Score at which a risk must be escalated.")
    ] = None,
) -> None:
    """Review a risk register: findings, and the questions to put to the project manager."""
    import datetime as dt

    from bot.errors import ReviewError
    from bot.review.checks import ReviewSettings
    from bot.review.report import review_file

    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            fail(f"--as-of must be a date as YYYY-MM-DD, not '{as_of}'")
    try:
        settings = ReviewSettings(
            stale_after_days=stale_days, owner_share=owner_share, escalate_at=escalate_at
        )
        result = review_file(file, sheet, day, settings)
    except ReviewError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2, default=str))
    else:
        typer.echo(result.text())


@app.command()
def serve(
    port: Annotated[int | None, typer.Option("--port", help="HTTP port (default PORT, 3978).")] = None,
    socket_mode: Annotated[
        bool, typer.Option("--socket-mode", help="Reach Slack over Socket Mode (SLACK_APP_TOKEN).")
    ] = False,
) -> None:
    """The main job: one process serving Slack and Teams (and, later, the web chat and the scheduler)."""
    from bot.app.serve import run
    from bot.errors import PmoBotError

    try:
        run(port=port, socket_mode=socket_mode)
    except PmoBotError as exc:
        fail(str(exc))


@slack_app.command("manifest")
def slack_manifest(
    url: Annotated[str, typer.Option("--url", help="The public https URL the bot is served at.")] = "",
    socket_mode: Annotated[bool, typer.Option("--socket-mode", help="A manifest for Socket Mode.")] = False,
) -> None:
    """Print the Slack app manifest, to paste into api.slack.com/apps."""
    from adapters.slack.manifest import PLACEHOLDER_URL, manifest_yaml

    typer.echo(manifest_yaml(url or PLACEHOLDER_URL, socket_mode), nl=False)


@teams_app.command("package")
def teams_package(
    out: Annotated[Path, typer.Argument(help="The zip to write, e.g. pmo-bot-teams.zip.")],
    app_id: Annotated[
        str, typer.Option("--app-id", help="The bot's Microsoft App ID (default MICROSOFT_APP_ID).")
    ] = "",
    domain: Annotated[str, typer.Option("--domain", help="The host name the bot is served at.")] = "",
) -> None:
    """Build the Teams app package (manifest and icons) to sideload or upload to Teams."""
    from adapters.teams.package import build_package

    app_id = app_id or _settings().microsoft_app_id or ""
    if not app_id:
        typer.echo("pmo-bot: no MICROSOFT_APP_ID or --app-id: the package uses a placeholder id; rebuild it "
                   "with your bot's id before uploading to Teams.", err=True)  # fmt: skip
        app_id = PLACEHOLDER_APP_ID
    try:
        # supportsFiles: Teams only sends files to a bot in personal chat when the app says so.
        path = build_package(out, app_id, domain or None, supports_files=True)
    except (ValueError, OSError) as exc:
        fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    typer.echo(f"Wrote {path}.")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations (serve does this on start too)."""
    from bot.storage import Storage, StorageError

    try:
        storage = Storage(_settings().database_url)
        storage.upgrade()
        storage.close()
    except StorageError as exc:
        fail(str(exc))
    typer.echo("Database is up to date.")


@kb_app.command("validate")
def kb_validate() -> None:
    """Check the knowledge base (and PMO_KNOWLEDGE_DIR) and list every problem."""
    from knowledge.base import check

    knowledge_dir = _knowledge_dir()
    kb, problems = check(knowledge_dir)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    from bot.snapshot import prepare

    prepare(knowledge_dir, kb)  # ready for the next run (see bot/snapshot.py)
    stats = kb.stats()
    sections = ", ".join(f"{stats[s]} {s.replace('_', ' ')}" for s in kb.sections)
    typer.echo(
        f"Knowledge base is valid: {stats['functions']} functions, {stats['roles']} roles, "
        f"{stats['artefacts']} artefacts, {stats['challenge_questions']} challenge questions, "
        f"{stats['topics']} topics ({sections})."
    )


@kb_app.command("stats")
def kb_stats(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts of functions, services, roles, artefacts, challenge questions and topics by section."""
    from knowledge.base import KnowledgeBaseError, load

    try:
        stats = load(_knowledge_dir()).stats()
    except KnowledgeBaseError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps(stats))
    else:
        for key, value in stats.items():
            typer.echo(f"{key.replace('_', ' '):<22}{value}")


def _settings() -> Settings:
    from bot.settings import read_settings

    try:
        return read_settings()
    except ConfigError as exc:
        fail(str(exc))


def _operate(work: Callable[[Settings], T]) -> T:
    """Runs an operator command with logs on stderr (warnings up); our errors are one line, exit 1."""
    from bot import logs
    from bot.errors import PmoBotError
    from bot.storage import StorageError

    settings = _settings()
    logs.configure(level="WARNING", secrets=settings.secret_values)
    try:
        return work(settings)
    except (PmoBotError, StorageError) as exc:
        fail(str(exc))


@survey_app.command("open")
def survey_open(
    team: TeamOption,
    period: Annotated[
        str | None,
        typer.Option("--period", help="The run's period key (default: this week's, e.g. delivery/2026-W49)."),
    ] = None,
) -> None:
    """Open this period's survey for a team and send the invitations (resumes one already open)."""
    from bot.app import operator

    typer.echo(_operate(lambda s: operator.open_survey(s, team, period)))


@survey_app.command("remind")
def survey_remind(team: TeamOption) -> None:
    """Remind everyone who has not answered the team's open survey."""
    from bot.app import operator

    typer.echo(_operate(lambda s: operator.remind(s, team)))


@survey_app.command("close")
def survey_close(team: TeamOption) -> None:
    """Close the team's open survey; later answers are turned away."""
    from bot.app import operator

    typer.echo(_operate(lambda s: operator.close(s, team)))


@survey_app.command("status")
def survey_status(team: TeamOption, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Invited, reached, answered and delivery counts of the team's latest survey (never anyone's answers)."""
    from bot.app import operator

    result = _operate(lambda s: operator.status(s, team))
    if as_json:
        typer.echo(json.dumps(result))
        return
    if result["run"] is None:
        typer.echo(f"Team {team} has not had a survey yet.")
        return
    typer.echo(
        f"{result['run']} ({result['state']}): {result['turnout']}; "
        f"{result['delivered']} delivered, {result['waiting']} queued, "
        f"{result['not_installed']} not installed, {result['unreachable']} unreachable, "
        f"{result['failed']} failed."
    )


@app.command()
def digest(
    team: TeamOption,
    as_json: Annotated[bool, typer.Option("--json", help="The figures as one JSON object.")] = False,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="The aggregates as CSV (no answer, no comment).")
    ] = False,
    post: Annotated[
        bool, typer.Option("--post", help="Post it to the team's digest channel as well.")
    ] = False,
) -> None:
    """The digest of the team's latest closed survey: response rate, scores, trends, what to look at."""
    from bot.app import operator

    if as_json and as_csv:
        fail("give --json or --csv, not both")
    form = "json" if as_json else "csv" if as_csv else "text"
    typer.echo(_operate(lambda s: operator.digest(s, team, form, post)))


@app.command()
def clock() -> None:
    """The scheduler: opens, reminds and closes surveys on time and sends what is queued. Several may
    start; one is active and the others take over if it stops."""
    from bot.app import operator

    def work(settings: Settings) -> None:
        from bot import logs

        logs.configure(secrets=settings.secret_values)
        operator.run_clock(settings)

    _operate(work)


@app.command()
def worker() -> None:
    """An outbox sender: sends queued survey messages. Run any number beside one clock to send faster."""
    from bot.app import operator

    def work(settings: Settings) -> None:
        from bot import logs

        logs.configure(secrets=settings.secret_values)
        operator.run_worker(settings)

    _operate(work)


def main() -> None:
    """Run the CLI; a usage error is a user error like any other: one line, exit code 1."""
    from bot.app.main import tolerant_output

    tolerant_output()
    try:
        result = app(standalone_mode=False)
    except (typer.Exit, typer.Abort) as exc:
        sys.exit(getattr(exc, "exit_code", 1))
    except Exception as exc:
        # Usage errors come from the command-line parser inside typer (click's UsageError, or
        # typer's own copy of it): anything that can format a message for the user.
        format_message = getattr(exc, "format_message", None)
        if format_message is None:
            raise
        message = str(format_message()).strip()
        if not message:
            sys.exit(0)  # "pmo-bot" alone (or "pmo-bot kb"): the help was printed
        typer.echo(f"pmo-bot: {message} (try 'pmo-bot --help')", err=True)
        sys.exit(1)
    sys.exit(result if isinstance(result, int) else 0)


if __name__ == "__main__":
    main()
