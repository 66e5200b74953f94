"""Fuzzing the Slack endpoint over real HTTP on loopback: signed requests of every kind Slack sends
(events, slash commands, button clicks, form submissions) with random fields, and signed bodies
that are no Slack request at all, posted to one running server. The server must answer each with
a 2xx or 4xx, within Slack's three seconds, never fail behind the acknowledgement, and keep
answering /healthz; everything the bot sends goes to the fake Slack on loopback.

The server is started once for the module, on an event loop of its own thread, and every
Hypothesis example talks to it. The number of examples comes from tests/fuzzing.py.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

import tests.fuzzing  # noqa: F401  (chooses the Hypothesis profile)
from adapters.slack.app import SlackAdapter
from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.intents import BY_NAME
from bot.reply import Action
from bot.settings import Settings
from bot.storage import Storage
from knowledge.base import KnowledgeBase
from tests.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.fuzzing import Errors, LoopThread, Stop, serving
from tests.loopback import serve

SECRET = "fuzz-signing-secret"
ADMIN = "U0ADMIN001"
MEMBERS = ["U0USER0001", "U0P0000001", "U0P0000002", "U0P0000003"]
HERE = Path(__file__).parent
# Slack gives up on an acknowledgement after three seconds.
ACK_LIMIT_S = 3.0
# Work after the acknowledgement (a file review, a survey sent) must end within this.
AFTER_LIMIT_S = 30.0


@dataclass
class Server:
    thread: LoopThread
    fake: FakeSlack
    slack: SlackAdapter
    url: str
    session: aiohttp.ClientSession
    errors: Errors

    def post(self, body: str, content_type: str, signed: bool = True) -> tuple[int, dict[str, str], float]:
        """Post ``body`` as Slack would; the status, the headers and how long the answer took."""
        ts = str(int(time.time()))
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts}
        if signed:
            headers["X-Slack-Signature"] = SignatureVerifier(SECRET).generate_signature(
                timestamp=ts, body=body
            )

        async def send() -> tuple[int, dict[str, str], float]:
            started = time.perf_counter()
            async with self.session.post(
                f"{self.url}/slack/events", data=body.encode(), headers=headers
            ) as r:
                await r.read()
                return r.status, dict(r.headers), time.perf_counter() - started

        return self.thread.run(send())

    def healthy(self) -> bool:
        async def get() -> bool:
            async with self.session.get(f"{self.url}/healthz") as response:
                return response.status == 200 and (await response.json()) == {"status": "ok"}

        return self.thread.run(get())

    def settle(self) -> None:
        """Wait for the work started after the acknowledgement."""
        self.thread.run(self.slack.drain(AFTER_LIMIT_S), timeout=AFTER_LIMIT_S + 5)


@pytest.fixture(scope="module")
def server(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("fuzz-slack")
    config = folder / "pmo-bot.yaml"
    config.write_text(
        "teams:\n"
        "  - id: t\n"
        "    name: Delivery PMO\n"
        "    platform: slack\n"
        f"    members: [{', '.join(MEMBERS)}]\n"
        "    digest_channel: C0DIGEST01\n"
        "    services: [reporting, risk_management, governance]\n"
        "    survey: {schedule: '0 9 * * mon', open_hours: 72, reminder_after_hours: 48, min_responses: 3}\n",
        encoding="utf-8",
    )
    fake = FakeSlack()
    # Slack refusing a call (a message gone before its form was sent, say) is the platform's
    # answer, which the adapter logs; any other exception logged is a crash.
    errors = Errors(tolerated=(SlackApiError,))

    async def start(thread: LoopThread) -> tuple[Server, Stop]:
        await fake.start()
        url = f"sqlite:///{folder / 'bot.db'}"
        storage = Storage(url)
        storage.upgrade()
        settings = Settings.model_validate(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "DATABASE_URL": url,
                "PMO_CONFIG": str(config),
                "PMO_ADMINS": f"slack:{ADMIN}",
                "PMO_SCHEDULER": "off",
            }
        )
        parts = Parts(settings, Bot(kb), storage)
        runner, port = await serve(build_app(parts))
        assert parts.slack is not None
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=AFTER_LIMIT_S))
        running = Server(thread, fake, parts.slack, f"http://127.0.0.1:{port}", session, errors)

        async def stop() -> None:
            await session.close()
            await runner.cleanup()
            await fake.stop()

        return running, stop

    with serving(folder, errors, start) as running:
        yield running


# -- strategies ------------------------------------------------------------------------------

users = st.one_of(
    # The admin often: only the admin's survey commands open, remind and close a survey.
    st.sampled_from([*MEMBERS, ADMIN, ADMIN, ADMIN, ADMIN, "U0BOT00001", "W0ENTERPRS1"]),
    st.from_regex(r"[UW][A-Z0-9]{8,10}", fullmatch=True),
    st.text(max_size=12),
)
channels = st.one_of(
    st.sampled_from(["D0DM000001", "C0CHAN0001", "G0GROUP001", "C0DIGEST01"]),
    st.from_regex(r"[CDG][A-Z0-9]{8,10}", fullmatch=True),
    st.text(max_size=12),
)
stamps = st.one_of(
    st.builds(
        lambda s, n: f"{s}.{n:06d}", st.integers(1_000_000_000, 2_000_000_000), st.integers(0, 999_999)
    ),
    st.text(max_size=20),
)
TEXTS = [
    "help", "hi", "thanks", "role analyst", "role pmo manager", "function risk", "check raid",
    "check", "role", "survey", "digest", "digest t", "survey status", "survey status t",
    "survey open t", "survey close t", "survey remind t", "survey open", "survey close nowhere",
    "what should I check in the RAID log?", "how do I become a PMO manager?", "and for a manager?",
    "how do I become one?", "<@U0BOT00001> help", "<!channel> hello", "P3O or MSP?",
]  # fmt: skip
texts = st.one_of(
    st.sampled_from(TEXTS),
    st.sampled_from(TEXTS).map(lambda t: f"/pmo {t}"),
    st.text(max_size=300),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
SLOT_NAMES = ["role", "function", "artefact", "topic", "with", "q", "v", "survey", "run", "team", "comment"]
actions = st.builds(
    Action,
    st.one_of(
        st.sampled_from(
            [
                *BY_NAME,
                "survey_answer",
                "survey_submit",
                "survey_form",
                "demo_pulse",
                "demo_close",
                "demo_digest",
            ]
        ),
        st.text(max_size=15),
    ),
    st.dictionaries(
        st.one_of(st.sampled_from(SLOT_NAMES), st.text(max_size=8)),
        st.one_of(
            st.sampled_from(["pmo_manager", "raid_log", "governance", "1", "5", "x"]), st.text(max_size=20)
        ),
        max_size=4,
    ),
    st.sampled_from(["", "more", "manager", "become"]) | st.text(max_size=8),
)
button_values = st.one_of(actions.map(lambda a: a.encode()), st.text(max_size=60))
REGISTERS = sorted(p for p in (HERE / "registers").iterdir() if p.suffix in (".csv", ".xlsx"))
file_bytes = st.one_of(st.sampled_from(REGISTERS).map(Path.read_bytes), st.binary(max_size=2000))


def _extra(draw: st.DrawFn, into: dict[str, Any]) -> dict[str, Any]:
    """Add fields Slack may add one day: the adapter must not depend on their absence."""
    for key, value in draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2)).items():
        into.setdefault(key, value)
    return into


@st.composite
def shared_file(draw: st.DrawFn, server: Server) -> dict[str, Any]:
    name = draw(
        st.one_of(
            st.sampled_from(["register.csv", "register.xlsx", "notes.pdf", "r.TSV"]), st.text(max_size=20)
        )
    )
    item: dict[str, Any] = {"id": draw(st.from_regex(r"F[A-Z0-9]{8}", fullmatch=True)), "name": name}
    if draw(st.booleans()):
        item["size"] = draw(st.integers(0, 12 * 1024 * 1024))
    choice = draw(st.sampled_from(["served", "missing", "none"]))
    if choice == "served":
        item["url_private_download"] = server.fake.add_file(item["id"], draw(file_bytes))
    elif choice == "missing":
        # A file the fake does not have: Slack would answer 404.
        item["url_private"] = f"{server.fake.base_url}/files-pri/{TEAM}-{item['id']}x/download"
    return _extra(draw, item)


@st.composite
def event_request(draw: st.DrawFn, server: Server) -> tuple[str, str]:
    kind = draw(st.sampled_from(["message", "app_mention", "app_home_opened", "reaction_added", "team_join"]))
    event: dict[str, Any] = {"type": kind}
    if kind in ("message", "app_mention"):
        event["channel"] = draw(channels)
        event["user"] = draw(users)
        event["text"] = draw(texts)
        event["ts"] = draw(stamps)
        event["team"] = draw(st.sampled_from([TEAM, "T0OTHER001"]))
        if kind == "message":
            event["channel_type"] = draw(st.sampled_from(["im", "channel", "group", "mpim"]))
            subtype = draw(st.sampled_from([None, None, "file_share", "message_changed", "bot_message"]))
            if subtype is not None:
                event["subtype"] = subtype
        if draw(st.booleans()):
            event["thread_ts"] = draw(stamps)
        if draw(st.integers(0, 3)) == 0:
            event["files"] = draw(st.lists(shared_file(server), min_size=1, max_size=2))
    elif kind == "app_home_opened":
        event["user"] = draw(users)
        event["tab"] = draw(st.sampled_from(["home", "messages"]))
    envelope = {
        "token": "x",
        "team_id": TEAM,
        "api_app_id": "A0APP",
        "type": "event_callback",
        # Sometimes a repeat of an earlier delivery: answered once.
        "event_id": draw(st.one_of(st.from_regex(r"Ev[A-Z0-9]{8}", fullmatch=True), st.just("Ev0REPEAT"))),
        "event_time": int(time.time()),
        "event": _extra(draw, event),
    }
    return json.dumps(envelope), "application/json"


@st.composite
def command_request(draw: st.DrawFn, server: Server) -> tuple[str, str]:
    fields = {
        "token": "x",
        "team_id": draw(st.sampled_from([TEAM, "T0OTHER001"])),
        "channel_id": draw(channels),
        "user_id": draw(users),
        "command": draw(st.sampled_from(["/pmo", "/pmo", "/other"])),
        "text": draw(texts),
        "trigger_id": "1.2.3",
    }
    if draw(st.booleans()):
        fields["response_url"] = server.fake.response_url("cmd")
    for key in draw(st.lists(st.sampled_from(sorted(fields)), max_size=2, unique=True)):
        del fields[key]  # a field missing
    return urllib.parse.urlencode(fields), "application/x-www-form-urlencoded"


@st.composite
def click_request(draw: st.DrawFn, server: Server) -> tuple[str, str]:
    channel = draw(channels)
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": draw(st.sampled_from([TEAM, "T0OTHER001"]))},
        "user": {"id": draw(users)},
        "api_app_id": "A0APP",
        "channel": {"id": channel},
        "container": {
            "type": "message",
            "message_ts": draw(stamps),
            "channel_id": channel,
            "is_ephemeral": draw(st.booleans()),
        },
        "actions": [
            {
                "action_id": draw(st.sampled_from(["pmo:0", "pmo:q:q1:5", "pmo:form", "other"])),
                "block_id": "pmo_buttons",
                "type": "button",
                "value": draw(button_values),
                "action_ts": "1",
            }
            for _ in range(draw(st.integers(1, 2)))
        ],
    }
    if draw(st.booleans()):
        payload["trigger_id"] = "1.2.3"
    if draw(st.booleans()):
        payload["response_url"] = server.fake.response_url("click")
    return "payload=" + urllib.parse.quote(
        json.dumps(_extra(draw, payload))
    ), "application/x-www-form-urlencoded"


@st.composite
def form_request(draw: st.DrawFn, server: Server) -> tuple[str, str]:
    metadata: dict[str, Any] = {"a": draw(actions).encode(), "c": draw(channels), "t": draw(stamps)}
    if draw(st.booleans()):
        metadata["r"] = server.fake.response_url("form")
    private = draw(
        st.one_of(st.just(json.dumps(metadata)), st.text(max_size=40), json_values.map(json.dumps))
    )
    values = draw(
        st.dictionaries(
            st.text(max_size=8),
            st.dictionaries(
                st.text(max_size=8),
                st.one_of(
                    st.fixed_dictionaries(
                        {"type": st.just("plain_text_input"), "value": st.none() | st.text(max_size=200)}
                    ),
                    json_values,
                ),
                max_size=2,
            ),
            max_size=3,
        )
    )
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM},
        "user": {"id": draw(users)},
        "view": {
            "id": "V0MODAL001",
            "type": "modal",
            "callback_id": draw(st.sampled_from(["pmo:form", "pmo:form", "other"])),
            "private_metadata": private,
            "state": {"values": values},
        },
    }
    return "payload=" + urllib.parse.quote(
        json.dumps(_extra(draw, payload))
    ), "application/x-www-form-urlencoded"


def _any_body(draw: st.DrawFn, server: Server) -> tuple[str, str]:
    """A signed body that is no Slack request: broken JSON or form, another type, a stray payload."""
    body = draw(
        st.one_of(
            st.text(max_size=200),
            json_values.map(json.dumps),
            st.builds(lambda v: "payload=" + urllib.parse.quote(json.dumps(v)), json_values),
            st.builds(lambda t: "payload=" + t, st.text(max_size=50)),
            st.just(json.dumps({"type": "url_verification", "challenge": "abc"})),
        )
    )
    kind = draw(st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain"]))
    return body, kind


@st.composite
def slack_request(draw: st.DrawFn, server: Server) -> tuple[str, str]:
    kind = draw(st.sampled_from(["event", "command", "click", "form", "other"]))
    if kind == "event":
        return draw(event_request(server))
    if kind == "command":
        return draw(command_request(server))
    if kind == "click":
        return draw(click_request(server))
    if kind == "form":
        return draw(form_request(server))
    return _any_body(draw, server)


# -- properties ------------------------------------------------------------------------------


def _exchange(server: Server, body: str, content_type: str) -> int:
    server.errors.records.clear()
    before = len(server.fake.calls)
    status, headers, took = server.post(body, content_type)
    assert status < 500, f"{status} for {body[:300]!r}"
    # The adapter answers 200 with this header when a listener raised (Bolt's 500), so that Slack
    # does not retry: a crash all the same.
    assert "X-Slack-No-Retry" not in headers, (
        f"a listener failed for {body[:300]!r}\n{server.errors.report()}"
    )
    assert took < ACK_LIMIT_S, f"answered in {took:.1f} s"
    server.settle()
    assert not server.errors.crashes(), server.errors.report()
    assert server.healthy()
    if currently_in_test_context():
        # What the examples reached, in Hypothesis's statistics (--hypothesis-show-statistics).
        event(f"answered {status}")
        for method in sorted({c.method for c in server.fake.calls[before:]}):
            event(f"the bot called {method}")
    return status


@given(data=st.data())
def test_any_signed_slack_request_is_answered_without_a_crash(server: Server, data: st.DataObject) -> None:
    body, content_type = data.draw(slack_request(server), label="request")
    _exchange(server, body, content_type)


@given(body=st.text(max_size=300), content_type=st.sampled_from(["application/json", "text/plain"]))
@example(body="payload=%7B", content_type="application/json")
def test_unsigned_requests_are_refused(server: Server, body: str, content_type: str) -> None:
    before = len(server.fake.calls)
    status, _, _ = server.post(body, content_type, signed=False)
    assert status == 401
    assert len(server.fake.calls) == before
    assert server.healthy()


def test_everything_the_bot_sent_went_to_the_fake_slack(server: Server) -> None:
    """Every call the bot made, in this test and in the fuzzers before it, reached the fake (the
    suite's loopback guard fails any other) with the bot token, and the server still answers."""
    message = {
        "type": "message",
        "channel": "D0DM000001",
        "channel_type": "im",
        "user": MEMBERS[0],
        "text": "help",
    }
    envelope = {"type": "event_callback", "team_id": TEAM, "event_id": "Ev0LAST001", "event": message}
    assert _exchange(server, json.dumps(envelope), "application/json") == 200
    assert server.fake.of("chat.postMessage")
    for call in server.fake.calls:
        if call.method not in ("response_url", "upload"):
            assert call.headers.get("Authorization") == f"Bearer {BOT_TOKEN}", call
    assert server.healthy()
