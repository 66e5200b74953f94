"""Reading a register sent from the page: one multipart part called ``file``, within the review's
10 MB, read in chunks so that nothing larger is ever held, and with few other parts allowed (a
body of many tiny parts would keep the event loop busy for seconds)."""

from __future__ import annotations

from pathlib import PurePath

from aiohttp import BodyPartReader, web

from adapters.web.guard import WebError
from bot.review.reader import MAX_BYTES

MAX_PARTS = 4
MAX_NAME = 200
ENVELOPE = 64 * 1024  # multipart headers and boundaries on top of the file itself
SUFFIXES = (".csv", ".xlsx", ".xlsm")
CHUNK = 256 * 1024
NO_FILE = "Send the register as a file upload (multipart form, field 'file')."


async def read_upload(request: web.Request) -> tuple[str, bytes]:
    """The file's name and bytes, or WebError saying why not."""
    if request.content_length is not None and request.content_length > MAX_BYTES + ENVELOPE:
        raise WebError(too_big(request.content_length), 413)
    if request.content_type != "multipart/form-data":
        raise WebError(NO_FILE)
    read = 0
    try:
        reader = await request.multipart()
        for _ in range(MAX_PARTS):
            part = await reader.next()
            if part is None:
                break
            if not isinstance(part, BodyPartReader):
                raise WebError(NO_FILE)
            if part.name == "file":
                name = _name(part.filename)
                data = bytearray()
                while chunk := await part.read_chunk(CHUNK):
                    data.extend(chunk)
                    if len(data) > MAX_BYTES:
                        raise WebError(too_big(None), 413)
                if not part.at_eof():  # the body ended before the part's closing boundary
                    raise WebError("That upload could not be read: it was cut off. Send the file again.")
                return name, bytes(data)
            # Another field: read it (the reader would anyway) and count it against the limit.
            while chunk := await part.read_chunk(CHUNK):
                read += len(chunk)
                if read > ENVELOPE:
                    raise WebError(NO_FILE)
    except WebError:
        raise
    except Exception as exc:
        # A broken body (bad boundary, a header line without a colon, a cut-off stream) is the
        # sender's mistake: one line back, not a traceback in the log.
        raise WebError("That upload could not be read; send the file again.") from exc
    raise WebError(NO_FILE)


def _name(given: str | None) -> str:
    name = PurePath((given or "register").replace("\\", "/")).name or "register"
    if len(name) > MAX_NAME:  # shortened in the middle: the suffix says what the file is
        name = name[: MAX_NAME - 12] + "\u2026" + name[-11:]
    if not name.lower().endswith(SUFFIXES):
        raise WebError(f"{name} is not a CSV or Excel file (.csv, .xlsx or .xlsm).", 415)
    return name


def too_big(size: int | None) -> str:
    measured = f" is {size / 1024 / 1024:.1f} MB;" if size else " is over 10 MB;"
    return f"That file{measured} registers over 10 MB are not reviewed. Split it, or remove old rows."
