"""Reading a register file into rows of cells: CSV (any common separator and encoding) or XLSX.

Nothing here knows what a risk is; it only turns bytes into sheets of rows, refusing what cannot be
a register with one plain sentence.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.errors import ReviewError

MAX_BYTES = 10 * 1024 * 1024
# What a workbook's parts may unpack to in all: ten times the largest file taken (the registers in
# tests/ unpack to about five times their size). A zip bomb, a small file that unpacks to
# gigabytes, would otherwise be read into memory whole.
MAX_UNPACKED = 100 * 1024 * 1024
MAX_ROWS = 50_000
MAX_CELL = 1024 * 1024  # csv's default limit of 131,072 characters a field is too low for some exports
# A spreadsheet's styled but empty rows can run to a million; past this many in a row, stop.
EMPTY_ROWS_BEFORE_STOP = 500
TOP_ROWS = 40  # rows of each sheet read to find the header

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_SEPARATORS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Row:
    number: int  # the line (CSV) or row (spreadsheet) a person would look at
    cells: tuple[Any, ...]

    def is_empty(self) -> bool:
        return all(c is None or (isinstance(c, str) and not c.strip()) for c in self.cells)


@dataclass
class Sheet:
    name: str | None
    rows: list[Row]
    notes: list[str] = field(default_factory=list)
    # For a workbook sheet, ``rows`` holds only its top; this reads the whole sheet.
    loader: Callable[[], list[Row]] | None = None

    def load(self) -> list[Row]:
        if self.loader is not None:
            self.rows, self.loader = self.loader(), None
        return self.rows


def read_sheets(data: bytes, filename: str) -> list[Sheet]:
    """Every sheet of the file (one for a CSV), with empty rows dropped."""
    if len(data) > MAX_BYTES:
        raise ReviewError(
            f"{filename} is {len(data) / 1024 / 1024:.1f} MB; registers over 10 MB are not reviewed."
        )
    if not data.strip():
        raise ReviewError(f"{filename} is empty.")
    if data.startswith(_OLE_MAGIC):
        raise ReviewError(
            f"{filename} is password-protected or an old .xls workbook; "
            "save it as an unprotected .xlsx or CSV."
        )
    if data.startswith(_ZIP_MAGIC):
        return _read_xlsx(data, filename)
    return [_read_csv(data, filename)]


# -- CSV ------------------------------------------------------------------------------------


def _decode(data: bytes, filename: str) -> tuple[str, str]:
    if b"\x00" in data[:8192]:
        raise ReviewError(f"{filename} is not a text or spreadsheet file (it holds binary data).")
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1252", errors="replace")
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\r\n\t")
    if controls > 8 or text.count("\ufffd") > max(8, len(text) // 100):
        raise ReviewError(f"{filename} is not a text or spreadsheet file (it holds binary data).")
    return text, "Windows-1252"


def _separator(text: str) -> str:
    """The separator that splits the first lines into the most, and most even, fields."""
    sample = [line[:MAX_CELL] for line in text.splitlines()[:50] if line.strip()]
    best, best_score = ",", -1.0
    for sep in _SEPARATORS:
        try:
            counts = [len(next(csv.reader([line], delimiter=sep))) for line in sample[:30]]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        common = max(set(counts), key=counts.count)
        score = common * counts.count(common) / len(counts)
        if score > best_score:
            best, best_score = sep, score
    return best


def _read_csv(data: bytes, filename: str) -> Sheet:
    text, encoding = _decode(data, filename)
    sep = _separator(text)
    csv.field_size_limit(MAX_CELL)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    rows: list[Row] = []
    try:
        # Numbered by record, as a spreadsheet shows the file: a cell holding line breaks is
        # still one row.
        for number, cells in enumerate(reader, start=1):
            stripped = tuple(map(str.strip, cells))
            if not any(stripped):
                continue  # an empty line, or one of separators only
            rows.append(Row(number, stripped))
            if len(rows) > MAX_ROWS + 1:
                raise ReviewError(f"{filename} has more than {MAX_ROWS:,} rows; split it before review.")
    except csv.Error as exc:
        raise ReviewError(f"{filename} could not be read as CSV near line {reader.line_num}: {exc}.") from exc
    names = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars"}
    return Sheet(None, rows, [f"read as {encoding} text separated by {names[sep]}"])


# -- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(data: bytes, filename: str) -> list[Sheet]:
    # openpyxl is imported here so that chat answers that never see a workbook do not pay for it.
    from openpyxl import load_workbook

    try:
        unpacked = _unpacked_size(data)
    except Exception as exc:  # the same damage load_workbook would meet
        raise ReviewError(f"{filename} is not a readable Excel workbook ({type(exc).__name__}).") from exc
    if unpacked > MAX_UNPACKED:
        raise ReviewError(
            f"{filename} unpacks to {unpacked / 1024 / 1024:,.0f} MB; "
            f"workbooks that unpack to over {MAX_UNPACKED // 1024 // 1024} MB are not reviewed."
        )
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile, XML and openpyxl's own errors for a damaged workbook
        raise ReviewError(f"{filename} is not a readable Excel workbook ({type(exc).__name__}).") from exc
    sheets = []
    for ws in book.worksheets:
        # Only the top of each sheet is read now, to choose the one with the risks; a big
        # lookup sheet beside a small register must not stop the review.
        sheets.append(Sheet(ws.title, _top_rows(ws, filename), loader=_full_loader(book, ws.title, filename)))
    return sheets


def _unpacked_size(data: bytes) -> int:
    """The sizes the zip's directory gives its parts, added up. They can be trusted as a bound:
    zipfile stops a part at its stated size (and reports a bad CRC), however much more its
    compressed data would give."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(part.file_size for part in archive.infolist())


def _top_rows(ws: Any, filename: str) -> list[Row]:
    try:
        return list(itertools.islice(_sheet_rows(ws, filename), TOP_ROWS))
    except ReviewError:
        raise
    except Exception as exc:
        raise ReviewError(f"{filename} has a damaged sheet '{ws.title}' ({type(exc).__name__}).") from exc


def _full_loader(book: Any, title: str, filename: str) -> Callable[[], list[Row]]:
    def load() -> list[Row]:
        try:
            return list(_sheet_rows(book[title], filename))
        except ReviewError:
            raise
        except Exception as exc:
            raise ReviewError(f"{filename} has a damaged sheet '{title}' ({type(exc).__name__}).") from exc
        finally:
            book.close()

    return load


def _cell_value(cell: Any) -> object:
    value = cell.value
    # A probability typed as 20% is stored as 0.2 and shown through its number format: read it as
    # the person who typed it sees it.
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric and "%" in (getattr(cell, "number_format", None) or ""):
        return f"{value * 100:.10g}%"
    return value


def _sheet_rows(ws: Any, filename: str) -> Iterator[Row]:
    empty_run = 0
    kept = 0
    for number, cells in enumerate(ws.iter_rows(), start=1):
        row = Row(number, tuple(_cell_value(cell) for cell in cells))
        if row.is_empty():
            empty_run += 1
            if empty_run > EMPTY_ROWS_BEFORE_STOP:
                return
            continue
        empty_run = 0
        kept += 1
        if kept > MAX_ROWS + 1:
            raise ReviewError(
                f"{filename} has more than {MAX_ROWS:,} rows in sheet '{ws.title}'; split it first."
            )
        yield row
