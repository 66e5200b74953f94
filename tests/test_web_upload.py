"""Register uploads to the web chat over real HTTP on loopback: a real register reviewed, refusals,
the multipart body's parts, broken bodies, chunked bodies and the 10 MB limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.review.reader import MAX_BYTES
from knowledge.base import KnowledgeBase
from tests.test_review import REAL
from tests.test_web_html import parse
from tests.web_client import (
    BOUNDARY,
    MULTIPART,
    Browser,
    browser,
    multipart,
    one_line_error,
    part,
    part_head,
    register_csv,
    register_part,
    send_multipart,
    served,
    sqlite,
    titles,
)


@pytest.fixture
async def chat(kb: KnowledgeBase, tmp_path: Path) -> AsyncIterator[Browser]:
    async with served(kb, sqlite(tmp_path), tmp_path) as base, browser(base) as one:
        yield one


# -- uploads --------------------------------------------------------------------------------------


async def test_a_real_register_is_reviewed(chat: Browser) -> None:
    path = REAL / "data_migration_register_broken_rows.csv"
    if not path.exists():
        pytest.skip(f"{path} is not beside this checkout")
    response = await chat.upload(path.name, path.read_bytes())
    assert response.status == 200
    summary, report = (await response.json())["messages"]
    assert (summary["intent"], report["intent"]) == ("review", "review")
    assert titles([summary, report]) == [f"Review of {path.name}", f"Full report: {path.name}"]
    assert "Needs a thorough rework: 46 findings on 44 of 48 risks" in summary["html"]
    assert "Ask the project manager first" in parse(summary["html"]).text["h3"]
    assert "How the file was read" in parse(report["html"]).text["h3"]


@pytest.mark.parametrize(
    ("filename", "size", "status", "words"),
    [
        pytest.param("notes.txt", 100, 415, "notes.txt is not a CSV or Excel file", id="not-a-register"),
        pytest.param("big.csv", MAX_BYTES + 1, 413, "over 10 MB", id="just-over-10-MB"),
        pytest.param("huge.csv", MAX_BYTES + 200 * 1024, 413, "is 10.2 MB", id="announced-over-10-MB"),
    ],
)
async def test_uploads_refused_with_one_line(
    chat: Browser, filename: str, size: int, status: int, words: str
) -> None:
    response = await chat.upload(filename, b"a" * size)
    assert response.status == status
    assert words in one_line_error(await response.json())
    await still_serving(chat)


async def still_serving(chat: Browser) -> None:
    """The server carries on after a refused upload: it answers, and still reviews a register."""
    health = await chat.fetch("GET", "/healthz")
    assert await health.json() == {"status": "ok"}
    fine = await chat.upload("small.csv", register_csv("Supplier late", "Ana"))
    assert titles((await fine.json())["messages"])[0] == "Review of small.csv"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        pytest.param(None, None, id="no-file-field"),
        pytest.param(b'{"file": "x.csv"}', "application/json", id="json"),
        pytest.param(b"file=x.csv", "application/x-www-form-urlencoded", id="url-encoded-form"),
        pytest.param(b"R1,Supplier late,Ana\n", "text/csv", id="the-file-alone"),
    ],
)
async def test_an_upload_without_a_file_is_400(
    chat: Browser, data: bytes | None, content_type: str | None
) -> None:
    if data is None:
        response = await chat.upload("x.csv", b"a,b\n1,2\n", field="register")
    else:
        response = await chat.post("/web/upload", data=data, headers={"Content-Type": str(content_type)})
    assert response.status == 400
    assert "field 'file'" in one_line_error(await response.json())
    await still_serving(chat)


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        pytest.param([1, 1, 1], 200, id="three-small-fields"),
        pytest.param([1] * 4, 400, id="four-small-fields"),
        pytest.param([1] * 5, 400, id="five-small-fields"),
        pytest.param([1] * 5000, 400, id="five-thousand-tiny-fields"),
        pytest.param([60_000], 200, id="one-60-KB-field"),
        pytest.param([40_000, 30_000], 400, id="fields-over-64-KB"),
    ],
)
async def test_fields_before_the_file_are_few_and_small(
    chat: Browser, fields: list[int], status: int
) -> None:
    # At most four parts are read, the file among them, and other fields up to 64 KB in all.
    others = [part(f"field{n}", b"v" * size) for n, size in enumerate(fields)]
    response = await send_multipart(chat, multipart(*others, register_part()))
    assert response.status == status, await response.text()
    if status == 200:
        assert titles((await response.json())["messages"])[0] == "Review of register.csv"
    else:
        assert "field 'file'" in one_line_error(await response.json())
    await still_serving(chat)


@pytest.mark.parametrize(
    ("content_type", "data"),
    [
        pytest.param("multipart/form-data", multipart(part("file", b"R1", "x.csv")), id="no-boundary"),
        pytest.param(
            "multipart/form-data; boundary=another",
            multipart(part("file", b"R1", "x.csv")),
            id="bad-boundary",
        ),
        pytest.param(
            MULTIPART,
            multipart(part("file", b"R1", "x.csv").replace(b"Disposition:", b"Disposition")),
            id="header-line-without-a-colon",
        ),
        pytest.param(MULTIPART, part("file", b"R1", "x.csv")[:40], id="cut-off-in-the-part-headers"),
        pytest.param(MULTIPART, part("file", b"Risk ID,Owner\r\nR1,Ana", "x.csv"), id="cut-off-in-the-file"),
    ],
)
async def test_a_broken_multipart_body_is_400_and_one_line(
    chat: Browser, content_type: str, data: bytes
) -> None:
    response = await send_multipart(chat, data, content_type)
    assert response.status == 400, await response.text()
    assert "could not be read" in one_line_error(await response.json())
    await still_serving(chat)


@pytest.mark.parametrize(("size", "status"), [(10_000, 200), (MAX_BYTES + 1024 * 1024, 413)])
async def test_a_chunked_upload_is_measured_as_it_arrives(chat: Browser, size: int, status: int) -> None:
    # No Content-Length: the size is known only as the body is read.
    rows = b"R2,Supplier late,Ana,5,5,Open,2020-01-01\r\n" * 1000

    async def body() -> AsyncIterator[bytes]:
        yield part_head("file", "big.csv") + register_csv("Supplier late", "Ana")
        for _ in range(size // len(rows) + 1):
            yield rows
        yield f"\r\n--{BOUNDARY}--\r\n".encode()

    response = await send_multipart(chat, body())
    assert response.request_info.headers["Transfer-Encoding"] == "chunked"
    assert response.status == status, await response.text()
    if status == 200:
        assert titles((await response.json())["messages"])[0] == "Review of big.csv"
    else:
        assert "over 10 MB" in one_line_error(await response.json())
    await still_serving(chat)


async def test_a_malformed_register_gets_a_friendly_answer(chat: Browser) -> None:
    garbage = bytes(range(256)) * 64
    response = await chat.upload("x.csv", garbage)
    assert response.status == 200
    [answer] = (await response.json())["messages"]
    assert titles([answer]) == ["I couldn't review that file"]
    assert "x.csv is not a text or spreadsheet file" in answer["html"]


async def test_a_register_with_a_long_name_is_still_a_register(chat: Browser) -> None:
    name = "q3-" + "risk-register-" * 15 + "final.csv"
    response = await chat.upload(name, register_csv("Supplier late", "Ana"))
    assert response.status == 200
