"""Fuzzing the register review: random bytes, damaged copies of real registers, CSV files of any
shape and workbooks built in memory with openpyxl, and zip bombs. Whatever arrives, the review
either gives its findings or refuses the file with one line of the project's own (ReviewError),
in bounded time and memory.

The number of examples comes from tests/fuzzing.py (PMO_FUZZ=1 for the long run).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import struct
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook

import tests.fuzzing  # noqa: F401  (chooses the Hypothesis profile)
from bot.errors import ReviewError
from bot.review.reader import MAX_BYTES
from bot.review.report import Review, review_bytes
from tests.fuzzing import peak_memory

HERE = Path(__file__).parent
AS_OF = dt.date(2025, 6, 2)  # fixed, so that a failing example fails again
# A small file reviews in tens of milliseconds; seconds mean work that grows faster than the file.
REVIEW_LIMIT_S = 5.0
# What a review of a small fuzzed file may allocate at its peak (Python allocations).
SMALL_FILE_MEMORY = 64 * 1024 * 1024
# A zip bomb must be refused before it is unpacked: quickly, and without its unpacked size.
BOMB_LIMIT_S = 2.0
BOMB_MEMORY = 32 * 1024 * 1024

SEEDS = sorted(
    p for p in (HERE / "registers").iterdir() if p.suffix in (".csv", ".tsv", ".xlsx") and p.stat().st_size
)

HEADERS = [
    "ID", "Risk ID", "Ref", "Title", "Description", "Risk description", "Cause", "Effect", "Owner",
    "Risk owner", "Probability", "Likelihood", "Impact", "Severity", "Score", "Rating", "RAG",
    "Status", "Mitigation", "Response", "Action", "Action owner", "Due date", "Target date",
    "Last reviewed", "Date raised", "Residual probability", "Residual impact", "Residual score",
    "Type", "Category", "Escalated", "Proximity", "Cost impact (£)", "Expected value", "Comments",
    "Closure reason", "Provider", "Need by", "", "Notes",
]  # fmt: skip
CELL_WORDS = [
    "1", "2", "3", "4", "5", "10", "25", "0", "-1", "99", "3.5", "1e9", "nan", "inf", "20%", "150%",
    "£50,000", "$1m", "€-3", "High", "Medium", "Low", "H", "M", "L", "VH", "Very high", "Red",
    "Amber", "Green", "R", "A", "G", "Open", "Closed", "Done", "Accept", "Monitor", "TBC", "N/A",
    "-", "?", "Yes", "No", "IT team", "J. Smith", "PMO", "Risk", "Issue", "Assumption",
    "Dependency", "01/02/2024", "31/12/2023", "2024-02-30", "12/31/2024", "0/0/0", "99/99/9999",
    "2024-01-01T10:00", "yesterday", "Q3 2024", "1900-01-01", "9999-12-31", "0001-01-01",
    "Supplier may be late because of the strike, causing a delay to go-live",
    "Escalate to SteerCo when score >= 16", "any open risk scoring 12 or above must be escalated",
    "Escalation: any open risk with an expected value of £50,000 or more goes to the board",
    "Scoring: 1-5 x 1-5", "=A1*B1", "#REF!", "#N/A", '"', "''", "\\", "\r", "\n", ",", ";", "|",
]  # fmt: skip

# Rows wider than their header, each reaching a different column finder of bot/review/register.py.
PAST_THE_HEADER = {
    "ids": b"Title,Title\r\n1,,1",
    "description": b"ID,Owner\r\nR1,Ann,The supplier may be late and delay go-live\r\n",
    "title beside description": (
        b"ID,Risk,Owner\r\n"
        b"R1,Late kit,Ann,The supplier may be late and delay the go-live date by weeks\r\n"
        b"R2,Strike,Bob,A strike at the port could hold up the cranes for a month or more\r\n"
    ),
    "RAID types": (
        b"ID,Description\r\n"
        b"R1,The supplier may be late,Issue\r\n"
        b"R2,The port may strike,Risk\r\n"
        b"R3,Funding is agreed,Assumption\r\n"
    ),
}


def _check_outcome(data: bytes, filename: str, limit_s: float = REVIEW_LIMIT_S) -> Review | None:
    """Review ``data``; the review, or None when it was refused as it should be."""
    started = time.perf_counter()
    try:
        review = review_bytes(data, filename, as_of=AS_OF)
    except ReviewError as exc:
        message = str(exc)
        assert message.startswith(filename), message
        assert "\n" not in message and "\r" not in message, message
        assert message.endswith("."), message
        review = None
    else:
        # Every way of showing the review works too.
        assert review.text()
        assert review.reply().title
        review.full_reply()
        review.as_json()
    took = time.perf_counter() - started
    assert took < limit_s, f"reviewing {len(data)} bytes took {took:.1f} s"
    return review


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """Imports and first-use caches (openpyxl, the thesaurus, the stemmer) are paid once, here,
    not by the first example's time and memory."""
    for path in SEEDS:
        review_bytes(path.read_bytes(), path.name, as_of=AS_OF)


# -- random bytes ----------------------------------------------------------------------------

MAGICS = [b"", b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", codecs.BOM_UTF8, codecs.BOM_UTF16_LE]


@given(
    prefix=st.sampled_from(MAGICS),
    body=st.binary(max_size=4096),
    name=st.sampled_from(["fuzz.csv", "fuzz.xlsx", "fuzz.txt", "fuzz"]),
)
@example(prefix=b"", body=b"", name="fuzz.csv")
@example(prefix=b"", body=b" \r\n\t", name="fuzz.csv")
@example(prefix=b"PK\x03\x04", body=b"", name="fuzz.xlsx")
def test_random_bytes_are_reviewed_or_refused(prefix: bytes, body: bytes, name: str) -> None:
    _check_outcome(prefix + body, name)


@st.composite
def damaged_seed(draw: st.DrawFn) -> tuple[str, bytes]:
    """A real register with a few bytes changed, cut or inserted: a download cut short, a file
    touched by a tool that did not understand it."""
    path = draw(st.sampled_from(SEEDS))
    data = bytearray(path.read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, max(0, len(data) - 1)))
        kind = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "repeat"]))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "truncate":
            del data[at:]
        elif kind == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 256))] * draw(st.integers(1, 20))
    return path.name, bytes(data)


@given(seed=damaged_seed())
def test_damaged_real_registers_are_reviewed_or_refused(seed: tuple[str, bytes]) -> None:
    name, data = seed
    _check_outcome(data, name)


# -- CSV of any shape ------------------------------------------------------------------------

cell_text = st.one_of(
    st.sampled_from(CELL_WORDS),
    st.text(max_size=40),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.dates().map(str),
    st.dates().map(lambda d: f"{d.day}/{d.month}/{d.year}"),
    st.just(""),
)


@st.composite
def csv_file(draw: st.DrawFn) -> bytes:
    width = draw(st.integers(1, 14))
    header = draw(
        st.lists(st.one_of(st.sampled_from(HEADERS), st.text(max_size=20)), min_size=width, max_size=width)
    )
    rows = [header]
    # Rows as spreadsheets export them: mostly the header's width, some shorter or longer.
    for _ in range(draw(st.integers(0, 30))):
        size = draw(st.one_of(st.just(width), st.integers(0, width + 4)))
        rows.append(draw(st.lists(cell_text, min_size=size, max_size=size)))
    # A title and blank lines above the header, as many registers have.
    above = draw(st.lists(st.lists(cell_text, max_size=3), max_size=4))
    separator = draw(st.sampled_from([",", ";", "\t", "|", " "]))
    ending = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    out = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(out, delimiter=separator, lineterminator=ending)
        writer.writerows([*above, *rows])
    else:
        # Written by hand, without quoting: stray separators and quotes stay where they fall.
        out.write(ending.join(separator.join(r) for r in [*above, *rows]))
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@given(data=csv_file(), name=st.sampled_from(["fuzz.csv", "fuzz.tsv", "fuzz.txt"]))
@example(data=b"ID,Description,Owner\r\n" + b'R1,"never closed\r\n' * 3, name="fuzz.csv")
@example(data=b"ID,Owner,Probability,Impact\n" + b"R1,A,5,5\n" * 2000, name="fuzz.csv")
@example(data=PAST_THE_HEADER["ids"], name="fuzz.csv")  # found by this fuzzer: see below
def test_csv_files_of_any_shape_are_reviewed_or_refused(data: bytes, name: str) -> None:
    with peak_memory() as peak:
        _check_outcome(data, name)
    assert peak() < SMALL_FILE_MEMORY, f"peak {peak() / 1e6:.0f} MB for a {len(data)}-byte file"


@pytest.mark.parametrize("data", PAST_THE_HEADER.values(), ids=PAST_THE_HEADER.keys())
def test_a_column_past_the_header_is_no_column_of_the_register(data: bytes) -> None:
    """Found by these fuzzers: the column finders looked past the header and mapped a field to a
    column with no header, and the review then failed with IndexError (in Review.columns, or in
    build's note on a RAID log's type column)."""
    review = _check_outcome(data, "wide.csv")
    assert review is not None
    columns = review.register.columns
    assert all(index < len(columns.headers) for index in columns.fields.values())
    assert "Columns found:" in review.text()


# -- workbooks of any shape ------------------------------------------------------------------

# openpyxl refuses control characters in cells; Excel cannot hold them either.
sheet_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)
cell_value = st.one_of(
    st.none(),
    st.sampled_from([w for w in CELL_WORDS if w not in ("\r", "\n")]),
    sheet_text,
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)),
    st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(9999, 12, 31)),
    st.times(),
    st.timedeltas(dt.timedelta(days=-1000), dt.timedelta(days=1000)),
)
NUMBER_FORMATS = ["General", "0%", "0.00%", "dd/mm/yyyy", "£#,##0", "0.0", "@", "[h]:mm"]
# Excel's rule for sheet titles: up to 31 characters, none of \ / ? * [ ] :
sheet_title = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\\/?*[]:"),
    min_size=1,
    max_size=31,
).filter(lambda t: t.strip("'") == t and t.strip())


@st.composite
def workbook(draw: st.DrawFn) -> bytes:
    book = Workbook()
    titles = draw(st.lists(sheet_title, min_size=1, max_size=3, unique_by=str.lower))
    book.active.title = titles[0]
    for title in titles[1:]:
        book.create_sheet(title)
    for ws in book.worksheets:
        width = draw(st.integers(0, 12))
        header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width))
        top = draw(st.integers(1, 5))  # the header row, below a title or two
        for column, name in enumerate(header, start=1):
            ws.cell(top, column, name or None)
        for row in range(top + 1, top + 1 + draw(st.integers(0, 25))):
            for column in range(1, draw(st.integers(0, width + 3)) + 1):
                cell = ws.cell(row, column, draw(cell_value))
                if draw(st.integers(0, 5)) == 0:
                    cell.number_format = draw(st.sampled_from(NUMBER_FORMATS))
        if width > 1 and draw(st.booleans()):
            # Merged cells: a risk whose id and text span two rows, or a banner over the header.
            first = draw(st.integers(1, top + 5))
            ws.merge_cells(start_row=first, start_column=1, end_row=first + 1, end_column=2)
        if draw(st.integers(0, 4)) == 0:
            # A styled but empty tail, as spreadsheets keep after rows were deleted.
            ws.cell(draw(st.integers(100, 5000)), draw(st.integers(1, 60))).number_format = "0%"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@given(data=workbook(), name=st.sampled_from(["fuzz.xlsx", "fuzz.xlsm"]))
def test_workbooks_of_any_shape_are_reviewed_or_refused(data: bytes, name: str) -> None:
    with peak_memory() as peak:
        _check_outcome(data, name)
    assert peak() < SMALL_FILE_MEMORY, f"peak {peak() / 1e6:.0f} MB for a {len(data)}-byte workbook"


# -- zip bombs -------------------------------------------------------------------------------

BOMB_SIZE = 1 << 30  # what the bombed member unpacks to: a gigabyte
MEGABYTE = b"A" * (1 << 20)


def _deflate_many(head: bytes, chunk: bytes, repeats: int, tail: bytes) -> tuple[bytes, int, int]:
    """A raw deflate stream of ``head``, ``chunk`` ``repeats`` times and ``tail``; its CRC-32 and
    unpacked size. After a full flush the compressor starts afresh, so every chunk compresses to the same
    bytes: compressed once and repeated, a gigabyte costs a second to make."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)
    assert packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH) == block
    end = packer.compress(tail) + packer.flush()
    crc = zlib.crc32(head)
    for _ in range(repeats):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return start + block * repeats + end, crc, len(head) + repeats * len(chunk) + len(tail)


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip file of already-deflated members: (name, stream, CRC-32, declared unpacked size)."""
    out = io.BytesIO()
    central = []
    for name, stream, crc, declared in members:
        offset = out.tell()
        raw = name.encode()
        # Local header: version 20, no flags, deflated, no date; sizes and name length.
        out.write(
            struct.pack(
                "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), declared, len(raw), 0
            )
        )
        out.write(raw + stream)
        # Central directory entry: made by and needs version 20, the same fields, no comment or
        # attributes, then the local header's offset.
        fields = (20, 20, 0, 8, 0, 0, crc, len(stream), declared, len(raw), 0, 0, 0, 0, 0, offset)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", *fields) + raw)
    start = out.tell()
    for entry in central:
        out.write(entry)
    size = out.tell() - start
    out.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))
    return out.getvalue()


MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHARED_TYPE = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def _workbook_members() -> dict[str, bytes]:
    """The parts of a small real workbook; with a shared strings part, which openpyxl does not
    write but Excel always does."""
    book = Workbook()
    ws = book.active
    ws.title = "Risks"
    ws.append(["ID", "Description", "Owner", "Probability", "Impact"])
    ws.append(["R1", "The supplier may be late, delaying go-live", "Ann", 3, 4])
    out = io.BytesIO()
    book.save(out)
    with zipfile.ZipFile(out) as z:
        members = {name: z.read(name) for name in z.namelist()}
    types = members["[Content_Types].xml"]
    override = b'<Override PartName="/xl/sharedStrings.xml" ContentType="' + SHARED_TYPE + b'"/>'
    members["[Content_Types].xml"] = types.replace(b"</Types>", override + b"</Types>")
    members["xl/sharedStrings.xml"] = b"<sst " + MAIN_NS + b' count="1"><si><t>Risk</t></si></sst>'
    return members


# Where each part is cut for its bombed version, and what opens and closes the endless text put
# there: the part stays well-formed XML, which a parser reads to the end.
_BOMB_CUTS = {
    "xl/worksheets/sheet1.xml": (
        b"<sheetData>",
        b'<row r="1"><c r="A1" t="inlineStr"><is><t>',
        b"</t></is></c></row>",
    ),
    "xl/sharedStrings.xml": (b' count="1">', b"<si><t>", b"</t></si>"),
    "xl/styles.xml": (
        MAIN_NS + b">",
        b'<numFmts count="1"><numFmt numFmtId="164" formatCode="',
        b'"/></numFmts>',
    ),
}


def _bombed(
    target: str,
    declared: int | None = None,
    chunk: bytes = MEGABYTE,
    chunks: int = BOMB_SIZE // len(MEGABYTE),
) -> bytes:
    """A real workbook whose ``target`` part is replaced by one that unpacks to ``chunks`` times
    ``chunk`` (a gigabyte by default): a valid XML start, then "A" over and over, so that a parser
    keeps reading. ``declared`` is the size its headers claim, by default the true one."""
    members = []
    for name, content in _workbook_members().items():
        if name == target:
            cut, opening, closing = _BOMB_CUTS[target]
            at = content.index(cut) + len(cut)
            stream, crc, size = _deflate_many(content[:at] + opening, chunk, chunks, closing + content[at:])
        else:
            packer = zlib.compressobj(9, zlib.DEFLATED, -15)
            stream, crc, size = packer.compress(content) + packer.flush(), zlib.crc32(content), len(content)
        told = declared if declared is not None and name == target else size
        members.append((name, stream, crc, told))
    return _zip(members)


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {
        "sheet": _bombed("xl/worksheets/sheet1.xml"),
        "shared strings": _bombed("xl/sharedStrings.xml"),
        # Headers that understate the member: the reader must not trust them to unpack it whole.
        "understated": _bombed("xl/worksheets/sheet1.xml", declared=4096),
    }


def test_the_bomb_is_small_and_a_real_zip(bombs: dict[str, bytes]) -> None:
    for data in bombs.values():
        assert len(data) < MAX_BYTES // 4  # it gets past the size limit on the file itself
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            assert "xl/workbook.xml" in z.namelist()


@pytest.mark.parametrize("kind", ["sheet", "shared strings"])
def test_a_zip_bomb_is_refused_before_it_is_unpacked(bombs: dict[str, bytes], kind: str) -> None:
    started = time.perf_counter()
    with peak_memory() as peak, pytest.raises(ReviewError) as refused:
        review_bytes(bombs[kind], "bomb.xlsx", as_of=AS_OF)
    took = time.perf_counter() - started
    assert str(refused.value) == (
        "bomb.xlsx unpacks to 1,024 MB; workbooks that unpack to over 100 MB are not reviewed."
    )
    assert took < BOMB_LIMIT_S, f"{took:.1f} s"
    assert peak() < BOMB_MEMORY, f"peak {peak() / 1e6:.0f} MB"


def test_a_bomb_that_understates_its_size_is_not_unpacked_past_it(bombs: dict[str, bytes]) -> None:
    started = time.perf_counter()
    with peak_memory() as peak:
        review = _check_outcome(bombs["understated"], "bomb.xlsx", limit_s=BOMB_LIMIT_S)
    assert review is None
    assert time.perf_counter() - started < BOMB_LIMIT_S
    assert peak() < BOMB_MEMORY, f"peak {peak() / 1e6:.0f} MB"


@given(
    target=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml", "xl/styles.xml"]),
    chunks=st.integers(0, 64),
    declared=st.one_of(st.none(), st.integers(0, 1 << 32 - 1)),
)
@example(target="xl/worksheets/sheet1.xml", chunks=64, declared=0)
@example(target="xl/sharedStrings.xml", chunks=1, declared=(1 << 32) - 1)
def test_workbooks_that_unpack_to_any_size_are_bounded(
    target: str, chunks: int, declared: int | None
) -> None:
    """Between a normal workbook and a bomb: whatever a member unpacks to (here up to 4 MB, in
    steps of 64 KB), and whatever size its headers claim, the review ends in bounded time and
    memory."""
    data = _bombed(target, declared, chunks=chunks, chunk=MEGABYTE[: 1 << 16])
    with peak_memory() as peak:
        _check_outcome(data, "fuzz.xlsx")
    assert peak() < SMALL_FILE_MEMORY, f"peak {peak() / 1e6:.0f} MB"
