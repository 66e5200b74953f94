"""The storage error, and one-line messages that never show a password."""

from __future__ import annotations

import re
from urllib.parse import quote_plus

from sqlalchemy import URL, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from bot.errors import PmoBotError

# Used only when SQLAlchemy cannot parse the URL, so the password has to be found by shape.
_USERINFO = re.compile(r"(://[^:/@\s]*:)([^@\s]*)@")


class StorageError(PmoBotError):
    """The database cannot be opened, migrated or used."""


def redact(url: str | URL) -> str:
    """The URL as text with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):
        return _USERINFO.sub(r"\1***@", str(url))


def _passwords(url: str | URL) -> set[str]:
    found: set[str] = set()
    try:
        password = make_url(url).password
    except (SQLAlchemyError, ValueError):
        password = None
    if password:
        found |= {str(password), quote_plus(str(password))}
    match = _USERINFO.search(str(url))
    if match and match.group(2):
        found.add(match.group(2))
    return found


def reason(error: BaseException, url: str | URL) -> str:
    """The first line of what went wrong, without the SQL, the parameters or the password."""
    if isinstance(error, DBAPIError) and error.orig is not None:
        text = str(error.orig)
    elif isinstance(error, SQLAlchemyError) and error.args:
        # str() of a SQLAlchemy error adds the statement and a link to its docs; the first
        # argument is the message alone.
        text = str(error.args[0])
    else:
        text = str(error)
    line = next((part.strip() for part in text.splitlines() if part.strip()), type(error).__name__)
    for password in _passwords(url):
        line = line.replace(password, "***")
    return line


def cannot_open(url: str | URL, error: BaseException) -> StorageError:
    return StorageError(f"cannot open the database at {redact(url)}: {reason(error, url)}")


def failed(url: str | URL, error: BaseException) -> StorageError:
    return StorageError(f"the database at {redact(url)} failed: {reason(error, url)}")
