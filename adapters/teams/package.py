"""The Microsoft Teams app package: ``manifest.json`` and two icons, zipped at the root of the zip.

``pmo-bot teams package OUT.zip [--app-id ID] [--domain HOST]`` writes it. Upload it in Teams
(Apps → Manage your apps → Upload an app → "Upload a custom app"), in the Teams Developer Portal, or
to the organisation's catalogue in the Teams admin center. The bot also needs an Azure Bot resource
whose messaging endpoint is ``https://HOST/api/messages`` and whose Teams channel is on.

The icons are drawn here and written as PNG with zlib and struct, so no image library is needed:
``color.png`` is 192×192 full colour, ``outline.png`` is 32×32 white on a transparent background.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST_VERSION = "1.22"  # the current schema (learn.microsoft.com, app manifest reference)
SCHEMA_URL = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
)
APP_VERSION = "1.0.0"
PLACEHOLDER_DOMAIN = "pmo-bot.example.org"  # the same placeholder host as the Slack manifest's URL
ACCENT_COLOR = "#1F3A5F"  # the Slack app's background colour
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
COLOR_SIZE = 192
OUTLINE_SIZE = 32

BOT_SCOPES = ["personal", "team", "groupChat"]
# One command list per scope group: the menu of personal chats, and the menu shown after @mentioning
# the bot in a channel or group chat.
COMMAND_SCOPES = (["personal"], ["team", "groupChat"])
# The words of ``/pmo`` in Slack. Picking one in Teams sends its title as the message text.
COMMANDS = (
    ("help", "What I can do, with examples to try"),
    ("role", "role <role>: the competencies of a PMO role, e.g. role pmo analyst"),
    ("function", "function <function>: what a PMO function does, e.g. function governance"),
    ("check", "check <artefact>: challenge questions for an artefact, e.g. check risk register"),
    ("survey", "survey: your team's pulse survey"),
    ("digest", "digest: the results of your team's latest pulse survey"),
)
COMMAND_TITLES = tuple(title for title, _ in COMMANDS)

SHORT_DESCRIPTION = "A coach for PMO people: register checks, roles, functions and pulse surveys."
FULL_DESCRIPTION = (
    "pmo-bot coaches people who work in a project, programme or portfolio management office (PMO). "
    "Ask it in your own words, or pick a command: it explains what each PMO function does and the "
    "competencies of each PMO role, suggests where to develop next, and gives the challenge questions "
    "to ask of an artefact such as a risk register, RAID log or status report. A PMO team can also run "
    "a short weekly pulse survey in direct messages; the bot then posts an anonymous digest of the "
    "results to the team's channel."
)
# Only with ``supports_files``: Teams sends files to a bot in personal chats only when the manifest says so.
FILES_DESCRIPTION = (
    " Send it a risk register (CSV or Excel) in a personal chat for a review: missing owners, stale "
    "reviews, score mismatches, past-due actions and more."
)

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HOST = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)

RGB = tuple[int, int, int]
NAVY: RGB = (0x1F, 0x3A, 0x5F)
WHITE: RGB = (0xFF, 0xFF, 0xFF)
AMBER: RGB = (0xF2, 0xA9, 0x00)


# -- the manifest ---------------------------------------------------------------------------------


def _short(value: str, limit: int = 60) -> str:
    """A value for a one-line error message."""
    return repr(value if len(value) <= limit else value[:limit] + "…")


def check_app_id(app_id: str) -> str:
    """The app id, trimmed; ValueError when it is not a GUID, as Teams requires."""
    value = app_id.strip()
    if not _GUID.match(value):
        raise ValueError(
            f"the app id must be a GUID like 00000000-0000-0000-0000-000000000000 "
            f"(the bot's Microsoft App ID), not {_short(app_id)}"
        )
    return value


def check_domain(domain: str) -> str:
    """The host name the bot is served at, from a host name or an https URL; ValueError otherwise."""
    value = domain.strip().lower()
    for scheme in ("https://", "http://"):
        value = value.removeprefix(scheme)
    value = value.rstrip("/").rstrip(".")
    if not _HOST.match(value):
        raise ValueError(f"the domain must be a host name like bot.example.org, not {_short(domain)}")
    return value


def _check_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > 30 or "\n" in value:
        raise ValueError(f"the app name must be 1 to 30 characters on one line, not {_short(name)}")
    return value


def manifest(
    app_id: str, domain: str | None = None, name: str = "pmo-bot", supports_files: bool = False
) -> dict[str, Any]:
    """The Teams app manifest (schema 1.22) of the bot whose Microsoft App ID is ``app_id``.

    ``domain`` is the host name the bot is served at: the developer pages point there (the placeholder
    host when it is None) and it is the only valid domain. ``supports_files`` lets people send the bot
    files (registers to review) in personal chats.
    """
    guid = check_app_id(app_id)
    host = check_domain(domain) if domain is not None else None
    short_name = _check_name(name)
    site = f"https://{host or PLACEHOLDER_DOMAIN}"
    return {
        "$schema": SCHEMA_URL,
        "manifestVersion": MANIFEST_VERSION,
        "version": APP_VERSION,
        "id": guid,
        "developer": {
            "name": short_name,
            "websiteUrl": f"{site}/",
            "privacyUrl": f"{site}/privacy",
            "termsOfUseUrl": f"{site}/terms",
        },
        "name": {"short": short_name, "full": f"{short_name}: a coach for people who work in a PMO"},
        "description": {
            "short": SHORT_DESCRIPTION,
            "full": FULL_DESCRIPTION + (FILES_DESCRIPTION if supports_files else ""),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT_COLOR,
        "bots": [
            {
                "botId": guid,
                "scopes": list(BOT_SCOPES),
                "supportsFiles": supports_files,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": list(scopes),
                        "commands": [{"title": title, "description": text} for title, text in COMMANDS],
                    }
                    for scopes in COMMAND_SCOPES
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [host] if host else [],
    }


# -- the icons ------------------------------------------------------------------------------------
#
# One symbol, a ticked box (a register checked), drawn in a unit square: a square ring, and a tick
# that leaves the box at the top right with a thin gap cut around it where it crosses the ring.

_RING = (0.0, 0.16, 0.84, 1.0)  # left, top, right, bottom
_RING_WIDTH = 0.11
_TICK = ((0.28, 0.54), (0.45, 0.71), (0.96, 0.08))
_TICK_WIDTH = 0.075  # half the stroke
_TICK_GAP = 0.06

Coverage = list[list[dict[str, float]]]
Shape = Callable[[float, float], str | None]


def _segment_distance(x: float, y: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
    return float(((x - ax - t * dx) ** 2 + (y - ay - t * dy) ** 2) ** 0.5)


def _ticked_box(x: float, y: float) -> str | None:
    """The part of the symbol at a point of the unit square: "tick", "ring" or None (background)."""
    tick = min(_segment_distance(x, y, _TICK[i], _TICK[i + 1]) for i in range(len(_TICK) - 1))
    if tick <= _TICK_WIDTH:
        return "tick"
    if tick <= _TICK_WIDTH + _TICK_GAP:
        return None
    left, top, right, bottom = _RING
    inside = left <= x <= right and top <= y <= bottom
    hole = left + _RING_WIDTH < x < right - _RING_WIDTH and top + _RING_WIDTH < y < bottom - _RING_WIDTH
    return "ring" if inside and not hole else None


def _coverage(size: int, box: tuple[float, float, float], shape: Shape, samples: int = 4) -> Coverage:
    """For each pixel, the share of it each part of ``shape`` covers (a samples×samples grid a pixel).

    ``box`` places the unit square of the shape: its left and top edge and its side, in pixels.
    """
    left, top, side = box
    grid: Coverage = []
    weight = 1.0 / (samples * samples)
    for py in range(size):
        row: list[dict[str, float]] = []
        for px in range(size):
            parts: dict[str, float] = {}
            for sy in range(samples):
                y = (py + (sy + 0.5) / samples - top) / side
                for sx in range(samples):
                    x = (px + (sx + 0.5) / samples - left) / side
                    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
                        continue
                    part = shape(x, y)
                    if part is not None:
                        parts[part] = parts.get(part, 0.0) + weight
            row.append(parts)
        grid.append(row)
    return grid


def png(width: int, height: int, pixels: bytes, color_type: int) -> bytes:
    """A PNG file of 8-bit ``pixels`` (rows top to bottom), colour type 2 (RGB) or 6 (RGBA)."""
    channels = {2: 3, 6: 4}[color_type]
    stride = width * channels
    if len(pixels) != stride * height:
        raise ValueError(f"{len(pixels)} bytes of pixels for a {width}x{height} image")
    # Each scanline starts with its filter type, 0 (none).
    raw = b"".join(b"\x00" + pixels[y * stride : (y + 1) * stride] for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _mix(parts: dict[str, float], colors: dict[str, RGB], background: RGB) -> bytes:
    rest = 1.0 - sum(parts.values())
    return bytes(
        round(rest * background[c] + sum(share * colors[part][c] for part, share in parts.items()))
        for c in range(3)
    )


@cache
def color_icon() -> bytes:
    """192×192 RGB: a white box with an amber tick on the accent colour, the symbol about 100 px."""
    side = 104.0
    origin = (COLOR_SIZE - side) / 2
    grid = _coverage(COLOR_SIZE, (origin, origin, side), _ticked_box)
    colors = {"ring": WHITE, "tick": AMBER}
    pixels = b"".join(_mix(parts, colors, NAVY) for row in grid for parts in row)
    return png(COLOR_SIZE, COLOR_SIZE, pixels, 2)


@cache
def outline_icon() -> bytes:
    """32×32 RGBA: the same symbol in white, edge to edge, on a fully transparent background."""
    grid = _coverage(OUTLINE_SIZE, (0.0, 0.0, float(OUTLINE_SIZE)), _ticked_box)
    pixels = bytearray()
    for row in grid:
        for parts in row:
            alpha = round(255 * min(1.0, sum(parts.values())))
            pixels += bytes((255, 255, 255, alpha))
    return png(OUTLINE_SIZE, OUTLINE_SIZE, bytes(pixels), 6)


# -- the package ----------------------------------------------------------------------------------


def package_files(
    app_id: str, domain: str | None = None, name: str = "pmo-bot", supports_files: bool = False
) -> dict[str, bytes]:
    """The files of the package, by their name at the root of the zip."""
    text = json.dumps(manifest(app_id, domain, name, supports_files), indent=2, ensure_ascii=False) + "\n"
    return {"manifest.json": text.encode("utf-8"), COLOR_ICON: color_icon(), OUTLINE_ICON: outline_icon()}


def build_package(
    out: Path, app_id: str, domain: str | None = None, name: str = "pmo-bot", supports_files: bool = False
) -> Path:
    """Write the Teams app package to ``out`` (a .zip) and return ``out``.

    ValueError for a bad app id, domain, name or output path; the zip is written to a temporary file
    next to ``out`` and renamed, so a failed build never leaves half a package behind.
    """
    files = package_files(app_id, domain, name, supports_files)
    out = Path(out)
    if out.is_dir():
        raise ValueError(
            f"{out} is a folder: give the name of the zip to write, e.g. {out / 'pmo-bot-teams.zip'}"
        )
    folder = out.parent
    if not folder.is_dir():
        raise ValueError(f"no such folder: {folder}")
    fd, temp = tempfile.mkstemp(prefix=".pmo-bot-teams-", suffix=".zip", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            for filename, data in files.items():
                # A fixed date: the same inputs give the same zip, byte for byte.
                info = zipfile.ZipInfo(filename, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)
        os.chmod(temp, 0o644)
        os.replace(temp, out)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return out
