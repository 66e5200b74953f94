"""Fuzzing the Teams endpoint over real HTTP on loopback: Bot Framework activities of every type
the bot meets (messages, card submits, shared files, installs and removals) with random fields,
and JSON that is no activity, posted to /api/messages of one running server in local mode. The
server must answer each with a 2xx or 4xx within Bot Framework's fifteen seconds, never fail inside
the turn, and keep answering /healthz; everything the bot sends goes to the fake connector on
loopback.

The server is started once for the module, on an event loop of its own thread, and every
Hypothesis example talks to it. The number of examples comes from tests/fuzzing.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

import tests.fuzzing  # noqa: F401  (chooses the Hypothesis profile)
from bot.app.web import Parts, build_app
from bot.core import Bot
from bot.intents import BY_NAME
from bot.reply import Action
from bot.settings import Settings
from bot.storage import Storage
from knowledge.base import KnowledgeBase
from tests.fake_connector import FakeConnector
from tests.fuzzing import Errors, LoopThread, Stop, serving
from tests.loopback import serve

HERE = Path(__file__).parent
BOT = {"id": "28:11111111-2222-3333-4444-555555555555", "name": "pmo-bot"}
USER = {"id": "29:1aBcD", "name": "Ann Example", "aadObjectId": "6f1c2d3e-0000-4000-8000-000000000001"}
TENANT = "72f9a1b2-0000-4000-8000-0000000000aa"
FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
# Bot Framework's connector waits fifteen seconds for the answer to an activity.
TURN_LIMIT_S = 15.0


@dataclass
class Server:
    thread: LoopThread
    connector: FakeConnector
    url: str
    session: aiohttp.ClientSession
    errors: Errors

    def post(self, body: str, content_type: str = "application/json") -> tuple[int, float]:
        async def send() -> tuple[int, float]:
            started = time.perf_counter()
            headers = {"Content-Type": content_type}
            async with self.session.post(
                f"{self.url}/api/messages", data=body.encode(), headers=headers
            ) as r:
                await r.read()
                return r.status, time.perf_counter() - started

        return self.thread.run(send(), timeout=TURN_LIMIT_S + 30)

    def healthy(self) -> bool:
        async def get() -> bool:
            async with self.session.get(f"{self.url}/healthz") as response:
                return response.status == 200 and (await response.json()) == {"status": "ok"}

        return self.thread.run(get())


@pytest.fixture(scope="module")
def server(kb: KnowledgeBase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("fuzz-teams")
    connector = FakeConnector()
    errors = Errors()

    async def start(thread: LoopThread) -> tuple[Server, Stop]:
        await connector.start()
        url = f"sqlite:///{folder / 'bot.db'}"
        storage = Storage(url)
        storage.upgrade()
        # No MICROSOFT_APP_ID: local mode, on loopback, without authentication.
        parts = Parts(
            Settings.model_validate({"DATABASE_URL": url, "PMO_SCHEDULER": "off"}), Bot(kb), storage
        )
        runner, port = await serve(build_app(parts))
        assert parts.teams is not None
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TURN_LIMIT_S + 15))
        running = Server(thread, connector, f"http://127.0.0.1:{port}", session, errors)

        async def stop() -> None:
            await session.close()
            await runner.cleanup()
            await connector.stop()

        return running, stop

    with serving(folder, errors, start) as running:
        yield running


# -- strategies ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
ids = st.one_of(st.sampled_from([USER["id"], BOT["id"], "29:other", "a:1XyZ"]), st.text(max_size=30))
accounts = st.one_of(
    st.sampled_from([USER, BOT]),
    st.fixed_dictionaries(
        {"id": ids}, optional={"name": st.text(max_size=20), "aadObjectId": st.uuids().map(str)}
    ),
)
# Conversation ids as Teams makes them, and any text: the adapter refuses (400) an id that no reply
# could carry (empty, a control character, a snowman, braces).
conversation_ids = st.one_of(
    st.sampled_from(["a:1XyZ", "19:abc@thread.tacv2;messageid=1", "19:g@thread.v2"]),
    st.from_regex(r"[!-z|~][ -z|~]{0,40}[!-z|~]", fullmatch=True),
    st.text(max_size=20),
)
# Activity ids go in the reply's URL: braces, dots alone, anything but the ASCII a connector gives
# are refused (400). (No lone surrogates: JSON cannot carry them to the server.)
activity_ids = st.one_of(
    st.sampled_from(["1", "f:123", "1672354433643", ".", "..", "1}", "{id}"]),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=20),
)
conversations = st.fixed_dictionaries(
    {"id": conversation_ids},
    optional={
        "conversationType": st.sampled_from(["personal", "groupChat", "channel"]) | st.text(max_size=10),
        "isGroup": st.booleans(),
        "tenantId": st.just(TENANT),
    },
)
channel_data = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "tenant": st.fixed_dictionaries({"id": st.just(TENANT) | st.text(max_size=10)}),
            "channel": st.fixed_dictionaries({}, optional={"id": ids}),
            "team": st.fixed_dictionaries({}, optional={"id": ids}),
            "eventType": st.text(max_size=15),
        },
    ),
)
TEXTS = [
    "help", "role analyst", "function risk", "check raid", "survey", "digest", "what is governance",
    "<at>pmo-bot</at> help", "<at>pmo-bot</at>", "<at>Someone Else</at> what is a RAID log", "<at>",
    "and for a manager?", "how do I become one?", "/pmo role pmo manager", "P3O or MSP?",
]  # fmt: skip
texts = st.one_of(st.none(), st.sampled_from(TEXTS), st.text(max_size=300))
SLOT_NAMES = ["role", "function", "artefact", "topic", "with", "q", "v", "survey", "run", "team", "comment"]
actions = st.builds(
    Action,
    st.one_of(
        st.sampled_from(
            [
                *BY_NAME,
                "survey_answer",
                "survey_submit",
                "demo_pulse",
                "demo_close",
                "demo_digest",
                "demo_restart",
            ]
        ),
        st.text(max_size=15),
    ),
    st.dictionaries(
        st.one_of(st.sampled_from(SLOT_NAMES), st.text(max_size=8)),
        st.one_of(st.sampled_from(["pmo_manager", "raid_log", "governance", "1", "5"]), st.text(max_size=20)),
        max_size=4,
    ),
    st.sampled_from(["", "more", "manager", "become"]) | st.text(max_size=8),
)
card_values = st.one_of(
    actions.map(lambda a: {"pmo": a.encode()}),
    st.builds(
        lambda a, extra: {"pmo": a.encode(), **extra},
        actions,
        st.dictionaries(st.text(max_size=8), st.text()),
    ),
    json_values,
)
REGISTERS = sorted(p for p in (HERE / "registers").iterdir() if p.suffix in (".csv", ".xlsx"))
file_bytes = st.one_of(st.sampled_from(REGISTERS).map(Path.read_bytes), st.binary(max_size=2000))


@st.composite
def attachment(draw: st.DrawFn, server: Server) -> dict[str, Any]:
    name = draw(
        st.one_of(st.sampled_from(["reg.csv", "reg.xlsx", "photo.png", "R.TSV"]), st.text(max_size=20))
    )
    content: dict[str, Any] = {"fileType": name.rpartition(".")[2], "uniqueId": "u1"}
    where = draw(st.sampled_from(["served", "missing", "none", "not a url"]))
    if where == "served":
        # The fake serves files by a name of its own: what the activity calls it is another matter.
        content["downloadUrl"] = server.connector.add_file(
            f"f{len(server.connector.files)}", draw(file_bytes)
        )
    elif where == "missing":
        content["downloadUrl"] = f"{server.connector.service_url}files/none-such"
    elif where == "not a url":
        content["downloadUrl"] = "not a url"
    kind = draw(
        st.sampled_from([FILE_INFO, FILE_INFO, "text/html", "application/vnd.microsoft.card.adaptive"])
    )
    return {"contentType": kind, "name": name, "content": content}


@st.composite
def activity(draw: st.DrawFn, server: Server) -> dict[str, Any]:
    if draw(st.integers(0, 9)) == 0:
        kind = draw(st.one_of(st.just("invoke"), st.text(max_size=12)))
    else:
        # Mostly messages: they reach furthest into the bot.
        kind = draw(st.sampled_from(["message"] * 5 + ["conversationUpdate", "installationUpdate", "event"]))
    body: dict[str, Any] = {
        "type": kind,
        "id": draw(activity_ids),
        "channelId": draw(st.sampled_from(["msteams", "emulator", "webchat"])),
        # Replies go where serviceUrl says: always the fake connector here.
        "serviceUrl": server.connector.service_url,
        "from": draw(accounts),
        "recipient": draw(st.sampled_from([BOT, BOT, USER])),
        "conversation": draw(conversations),
        "locale": draw(st.sampled_from(["en-GB", "en-US", "fr-FR", ""])),
        "textFormat": "plain",
    }
    data = draw(channel_data)
    if data is not None:
        body["channelData"] = data
    if kind == "message":
        body["text"] = draw(texts)
        if draw(st.integers(0, 3)) == 0:
            body["value"] = draw(card_values)
            body["replyToId"] = draw(st.text(max_size=12))
        if draw(st.integers(0, 3)) == 0:
            body["attachments"] = draw(st.lists(attachment(server), min_size=1, max_size=2))
        if draw(st.booleans()):
            body["entities"] = [{"type": "mention", "mentioned": BOT, "text": "<at>pmo-bot</at>"}]
    elif kind == "conversationUpdate":
        body["membersAdded"] = draw(st.lists(accounts, max_size=3))
        body["membersRemoved"] = draw(st.lists(accounts, max_size=2))
    elif kind == "installationUpdate":
        body["action"] = draw(
            st.sampled_from(["add", "remove", "add-upgrade", "remove-upgrade"]) | st.text(max_size=8)
        )
    elif kind == "event":
        body["name"] = draw(
            st.sampled_from(["adaptiveCard/action", "composeExtension/query"]) | st.text(max_size=15)
        )
        body["value"] = draw(card_values)
    for key, value in draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2)).items():
        body.setdefault(key, value)  # fields Teams may add one day
    return body


BENT_FIELDS = [
    "from", "recipient", "conversation", "channelData", "text", "value", "attachments", "entities",
    "membersAdded", "membersRemoved", "id", "type", "serviceUrl", "replyToId", "locale", "action",
]  # fmt: skip


def _bent(draw: st.DrawFn, server: Server) -> dict[str, Any] | object:
    """An activity with one field of the wrong kind, or a JSON value that is no activity at all."""
    base = draw(activity(server))
    if draw(st.booleans()):
        return draw(json_values)
    key = draw(st.sampled_from(BENT_FIELDS))
    replacement = draw(json_values)
    if key == "serviceUrl":
        # Never a random host: only what cannot reach beyond loopback. Nor a connector that is not
        # there (http://127.0.0.1:9/): the reply cannot be sent, and the adapter answers that 500
        # today, as for the reproducers below; the connector client's retries take ten seconds.
        replacement = draw(st.sampled_from([None, "", "not a url", "ftp://127.0.0.1/", "http:", 42]))
    if key == "conversation" and isinstance(replacement, dict) and isinstance(replacement.get("id"), str):
        replacement["id"] = draw(conversation_ids)
    if key == "id":
        # A list or an object as the activity's id: refused (400), as is any id no reply URL takes.
        replacement = draw(st.none() | st.booleans() | st.integers() | st.lists(st.integers()) | activity_ids)
    base[key] = replacement
    return base


@st.composite
def request_body(draw: st.DrawFn, server: Server) -> str:
    if draw(st.integers(0, 2)) == 0:
        return json.dumps(_bent(draw, server))
    return json.dumps(draw(activity(server)))


# -- properties ------------------------------------------------------------------------------


def _exchange(server: Server, body: str, content_type: str = "application/json") -> int:
    server.errors.records.clear()
    before = len(server.connector.sent)
    status, took = server.post(body, content_type)
    assert status < 500, f"{status} for {body[:400]!r}\n{server.errors.report()}"
    assert took < TURN_LIMIT_S, f"answered in {took:.1f} s"
    assert not server.errors.crashes(), f"for {body[:400]!r}\n{server.errors.report()}"
    assert server.healthy()
    if currently_in_test_context():
        # What the examples reached, in Hypothesis's statistics (--hypothesis-show-statistics).
        event(f"answered {status}")
        event(f"the bot sent {min(len(server.connector.sent) - before, 3)} (3 or more as 3)")
    return status


@given(data=st.data())
def test_any_activity_is_answered_without_a_crash(server: Server, data: st.DataObject) -> None:
    _exchange(server, data.draw(request_body(server), label="activity"))


@given(body=st.text(max_size=300), content_type=st.sampled_from(["application/json", "text/plain", ""]))
@example(body="{not json", content_type="application/json")
@example(body='"a string"', content_type="application/json")
def test_any_body_is_answered_without_a_crash(server: Server, body: str, content_type: str) -> None:
    status = _exchange(server, body, content_type)
    if content_type != "application/json":
        assert status == 415


def test_everything_the_bot_sent_went_to_the_fake_connector(server: Server) -> None:
    """The bot's replies, here and in the fuzzers before, reached the fake connector (the suite's
    loopback guard fails any other address), and the server still answers."""
    message = _reproducer(
        server,
        conversation={"conversationType": "personal", "id": "a:1XyZ"},
        channelData={"tenant": {"id": TENANT}},
        text="help",
    )
    assert _exchange(server, message) == 201
    assert any(s.conversation == "a:1XyZ" for s in server.connector.sent)


# -- crashes the fuzzer found in adapters/teams, each kept as a test of its own since the fix --


def _reproducer(server: Server, **fields: Any) -> str:
    activity = {
        "type": "message",
        "id": "1",
        "channelId": "msteams",
        "serviceUrl": server.connector.service_url,
        "from": USER,
        "recipient": BOT,
        "conversation": {"id": "a:1XyZ"},
    }
    return json.dumps({**activity, **fields})


def test_an_adaptive_card_action_invoke_is_answered(server: Server) -> None:
    _exchange(server, _reproducer(server, type="invoke", name="adaptiveCard/action", value={}))


def test_an_invoke_the_bot_does_not_handle_is_answered(server: Server) -> None:
    _exchange(server, _reproducer(server, type="invoke", name="composeExtension/query", value={}))


@pytest.mark.parametrize(
    "fields",
    [
        # Conversation ids that pass the adapter's shape check but cannot go in the reply's header.
        {"conversation": {"id": ""}},
        {"conversation": {"id": " "}},
        {"conversation": {"id": "a:1\r"}},
        {"conversation": {"id": "a:\u2603"}},
        # Braces in a conversation id: the connector client reads them as its URL's placeholders.
        {"conversation": {"id": "a:{1}"}},
        # An activity id with braces, a dot, a lone surrogate, or one that is no string: the
        # reply's URL is one the connector does not have, or none at all.
        {"id": "1}"},
        {"id": "."},
        {"id": "\ud800"},
        {"id": {}},
    ],
    ids=[
        "empty",
        "space",
        "return",
        "snowman",
        "braces",
        "brace in id",
        "dot id",
        "surrogate id",
        "object id",
    ],
)
def test_a_message_whose_reply_cannot_be_sent_is_answered_without_a_500(
    server: Server, fields: dict[str, Any]
) -> None:
    _exchange(server, _reproducer(server, text="help", **fields))


def test_a_demo_button_from_teams_is_answered(server: Server) -> None:
    # The restart opens the demo week whatever the fuzzers left it in, then offers it to the person.
    value = {"pmo": Action("demo_restart").encode()}
    _exchange(server, _reproducer(server, value=value))
