"""Structured logs: one JSON object a line, with secrets removed whatever a library logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys

# Slack tokens (xoxb-, xoxp-, xapp- ...), bearer headers and the like never reach a log line.
_SECRET = re.compile(r"\b(xox[abeoprs]|xapp)-[A-Za-z0-9-]+|(?i:bearer)\s+[A-Za-z0-9._~+/=-]+")
_STANDARD = set(vars(logging.makeLogRecord({})))


# Shorter than this, a "secret" would blank every word that holds it and make the log unreadable;
# a password that short protects nothing anyway.
MIN_SECRET = 4


def redact(text: str, extra: tuple[str, ...] = ()) -> str:
    text = _SECRET.sub("[redacted]", text)
    for secret in extra:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def _as_logged(secrets: tuple[str, ...]) -> tuple[str, ...]:
    """Each secret as it stands in a log line: as it is, and escaped the way JSON writes it (a
    quote or a backslash in a password); the longest first, so that none is left half-replaced."""
    forms = {s for s in secrets if len(s) >= MIN_SECRET}
    forms |= {json.dumps(s, ensure_ascii=False)[1:-1] for s in forms}
    return tuple(sorted(forms, key=len, reverse=True))


class JsonFormatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = _as_logged(secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if isinstance(value, int | float | bool) or value is None else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False), self.secrets)


def configure(level: str = "INFO", secrets: tuple[str, ...] = ()) -> None:
    """Send every log line to stderr as JSON; quieten the chattier libraries."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("slack_sdk", "slack_bolt", "aiohttp.access", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    handler.addFilter(_not_bolt_token_notice)


def _not_bolt_token_notice(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself, then warns that the client we hand
    # it (with the same token, and our retry handlers) wins. True, harmless, and alarming to read.
    return not (record.name.startswith("slack_bolt") and "`token` will be unused" in record.getMessage())
