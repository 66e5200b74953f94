"""The Teams app package: a zip of manifest.json, color.png and outline.png at its root.

The manifest's JSON schema cannot be fetched offline, so a structural validator here checks what the
Teams 1.22 schema and Teams' upload checks require: keys, types, length limits, GUIDs, https URLs,
command lists and the icon files. The icons are read back by parsing the PNG chunks by hand.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from adapters.slack.manifest import PLACEHOLDER_URL
from adapters.slack.manifest import manifest as slack_manifest
from adapters.teams.package import COMMANDS, PLACEHOLDER_DOMAIN, build_package, manifest
from tests.conftest import ROOT

APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
ZERO_ID = "00000000-0000-0000-0000-000000000000"  # the CLI's placeholder when no id is set

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
HTTPS_URL = re.compile(r"^https://[^\s/$.?#][^\s]*$")
HEX_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
DOMAIN = re.compile(r"^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")

TOP_LEVEL = {
    "$schema",
    "manifestVersion",
    "version",
    "id",
    "localizationInfo",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
    "configurableTabs",
    "staticTabs",
    "bots",
    "connectors",
    "composeExtensions",
    "permissions",
    "devicePermissions",
    "validDomains",
    "webApplicationInfo",
    "showLoadingIndicator",
    "isFullScreen",
    "activities",
    "defaultInstallScope",
    "defaultGroupCapability",
    "packageName",
    "authorization",
}
REQUIRED = {
    "$schema",
    "manifestVersion",
    "version",
    "id",
    "developer",
    "name",
    "description",
    "icons",
    "accentColor",
}
SCOPES = {"personal", "team", "groupChat"}
BOT_KEYS = {"botId", "scopes", "supportsFiles", "isNotificationOnly", "needsChannelSelector", "commandLists"}


# -- a structural validator for the Teams 1.22 manifest -------------------------------------------


def _string(
    problems: list[str], where: str, value: Any, max_length: int, pattern: re.Pattern[str] | None = None
) -> None:
    if not isinstance(value, str):
        problems.append(f"{where}: not a string: {value!r}")
    elif not value.strip():
        problems.append(f"{where}: empty")
    elif len(value) > max_length:
        problems.append(f"{where}: {len(value)} characters, more than {max_length}")
    elif pattern is not None and not pattern.match(value):
        problems.append(f"{where}: {value!r} does not match {pattern.pattern}")


def _object(
    problems: list[str], where: str, value: Any, required: set[str], allowed: set[str]
) -> dict[str, Any]:
    if not isinstance(value, dict):
        problems.append(f"{where}: not an object")
        return {}
    problems.extend(f"{where}: missing {key}" for key in sorted(required - value.keys()))
    problems.extend(f"{where}: unknown key {key}" for key in sorted(value.keys() - allowed))
    return value


def _scopes(problems: list[str], where: str, value: Any) -> list[str]:
    if not isinstance(value, list) or not value:
        problems.append(f"{where}: not a non-empty list")
        return []
    if len(value) > 3 or len(set(value)) != len(value):
        problems.append(f"{where}: more than 3 scopes, or a repeated one: {value}")
    problems.extend(f"{where}: unknown scope {s!r}" for s in value if s not in SCOPES)
    return list(value)


def validate(data: Any, files: set[str]) -> list[str]:
    """Every problem of a manifest, given the names of the files next to it in the package."""
    problems: list[str] = []
    m = _object(problems, "manifest", data, REQUIRED, TOP_LEVEL)
    if not m:
        return problems
    version = m.get("manifestVersion")
    _string(problems, "manifestVersion", version, 16, re.compile(r"^1\.(1[3-9]|2\d)$"))
    _string(problems, "$schema", m.get("$schema"), 2048, HTTPS_URL)
    schema = m.get("$schema")
    if isinstance(schema, str) and not schema.endswith(f"/teams/v{version}/MicrosoftTeams.schema.json"):
        problems.append(f"$schema: {schema} is not the schema of version {version}")
    _string(problems, "version", m.get("version"), 256, SEMVER)
    _string(problems, "id", m.get("id"), 36, GUID)

    developer = _object(
        problems,
        "developer",
        m.get("developer"),
        {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl"},
        {"name", "websiteUrl", "privacyUrl", "termsOfUseUrl", "mpnId"},
    )
    _string(problems, "developer.name", developer.get("name"), 32)
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        _string(problems, f"developer.{key}", developer.get(key), 2048, HTTPS_URL)

    name = _object(problems, "name", m.get("name"), {"short", "full"}, {"short", "full"})
    _string(problems, "name.short", name.get("short"), 30)
    _string(problems, "name.full", name.get("full"), 100)
    description = _object(problems, "description", m.get("description"), {"short", "full"}, {"short", "full"})
    _string(problems, "description.short", description.get("short"), 80)
    _string(problems, "description.full", description.get("full"), 4000)

    icons = _object(problems, "icons", m.get("icons"), {"color", "outline"}, {"color", "outline"})
    for key in ("color", "outline"):
        path = icons.get(key)
        _string(problems, f"icons.{key}", path, 2048)
        if isinstance(path, str) and path not in files:
            problems.append(f"icons.{key}: {path} is not in the package")
    _string(problems, "accentColor", m.get("accentColor"), 7, HEX_COLOR)

    bots = m.get("bots", [])
    if not isinstance(bots, list) or len(bots) > 1:
        problems.append("bots: not a list of at most one bot")
        bots = []
    for i, raw in enumerate(bots):
        where = f"bots[{i}]"
        bot = _object(problems, where, raw, {"botId", "scopes"}, BOT_KEYS)
        _string(problems, f"{where}.botId", bot.get("botId"), 36, GUID)
        bot_scopes = _scopes(problems, f"{where}.scopes", bot.get("scopes"))
        for key in ("supportsFiles", "isNotificationOnly", "needsChannelSelector"):
            if key in bot and not isinstance(bot[key], bool):
                problems.append(f"{where}.{key}: not a boolean")
        lists = bot.get("commandLists", [])
        if not isinstance(lists, list) or len(lists) > 3:
            problems.append(f"{where}.commandLists: not a list of at most 3")
            lists = []
        seen: list[str] = []
        for j, raw_list in enumerate(lists):
            lw = f"{where}.commandLists[{j}]"
            command_list = _object(problems, lw, raw_list, {"scopes", "commands"}, {"scopes", "commands"})
            list_scopes = _scopes(problems, f"{lw}.scopes", command_list.get("scopes"))
            problems.extend(
                f"{lw}: scope {s} is not a scope of the bot" for s in list_scopes if s not in bot_scopes
            )
            problems.extend(f"{lw}: scope {s} has two command lists" for s in list_scopes if s in seen)
            seen.extend(list_scopes)
            commands = command_list.get("commands")
            if not isinstance(commands, list) or not 1 <= len(commands) <= 10:
                problems.append(f"{lw}.commands: not a list of 1 to 10 commands")
                continue
            titles = [c.get("title") for c in commands if isinstance(c, dict)]
            if len(set(titles)) != len(titles):
                problems.append(f"{lw}.commands: a title is repeated: {titles}")
            for k, raw_command in enumerate(commands):
                cw = f"{lw}.commands[{k}]"
                command = _object(
                    problems, cw, raw_command, {"title", "description"}, {"title", "description"}
                )
                _string(problems, f"{cw}.title", command.get("title"), 32)
                _string(problems, f"{cw}.description", command.get("description"), 128)

    permissions = m.get("permissions", [])
    if not isinstance(permissions, list) or not set(permissions) <= {"identity", "messageTeamMembers"}:
        problems.append(f"permissions: {permissions!r}")
    domains = m.get("validDomains", [])
    if not isinstance(domains, list) or len(set(domains)) != len(domains):
        problems.append(f"validDomains: not a list of distinct domains: {domains!r}")
    else:
        for i, domain in enumerate(domains):
            _string(problems, f"validDomains[{i}]", domain, 2048, DOMAIN)
    return problems


def test_the_validator_catches_what_teams_rejects() -> None:
    files = {"color.png", "outline.png"}
    good = manifest(APP_ID, None)
    assert validate(good, files) == []
    bad = json.loads(json.dumps(good))
    bad["id"] = "pmo-bot"
    bad["name"]["short"] = "x" * 31
    bad["description"]["short"] = "y" * 81
    bad["developer"]["privacyUrl"] = "http://example.org/privacy"
    bad["accentColor"] = "navy"
    bad["icons"]["outline"] = "icons/outline.png"
    bad["bots"][0]["commandLists"][0]["commands"][0]["title"] = "t" * 33
    bad["bots"][0]["commandLists"][1]["commands"][0]["description"] = "d" * 129
    bad["bots"][0]["commandLists"][1]["scopes"] = ["team", "groupchat"]
    bad["validDomains"] = ["https://bot.example.org"]
    bad["extra"] = True
    problems = "\n".join(validate(bad, files))
    for fragment in (
        "id:",
        "name.short: 31",
        "description.short: 81",
        "developer.privacyUrl",
        "accentColor",
        "icons.outline: icons/outline.png is not in the package",
        "commands[0].title: 33",
        "commands[0].description: 129",
        "unknown scope 'groupchat'",
        "validDomains[0]",
        "unknown key extra",
    ):
        assert fragment in problems
    del bad["developer"]
    assert "manifest: missing developer" in validate(bad, files)


# -- PNG reading ----------------------------------------------------------------------------------


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    chunks: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body), f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert pos == len(data), "bytes after the last chunk"
    kinds = [kind for kind, _ in chunks]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds, kinds
    return chunks


def png_header(data: bytes) -> tuple[int, int, int, int]:
    """Width, height, bit depth and colour type, from the IHDR chunk."""
    _, body = png_chunks(data)[0]
    width, height, depth, color_type, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    assert (compression, filtering, interlace) == (0, 0, 0)
    return width, height, depth, color_type


def predictor(kind: int, a: int, b: int, c: int) -> int:
    """The value a PNG filter predicts from the left (a), upper (b) and upper-left (c) bytes."""
    if kind == 4:
        p = a + b - c
        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
        return a if pa <= pb and pa <= pc else b if pb <= pc else c
    return {0: 0, 1: a, 2: b, 3: (a + b) // 2}[kind]


def png_pixels(data: bytes) -> list[tuple[int, ...]]:
    """Every pixel of an 8-bit RGB or RGBA, non-interlaced PNG, row by row (all five filters)."""
    width, height, depth, color_type = png_header(data)
    assert depth == 8
    channels = {2: 3, 6: 4}[color_type]
    raw = zlib.decompress(b"".join(body for kind, body in png_chunks(data) if kind == b"IDAT"))
    stride = width * channels
    assert len(raw) == height * (stride + 1)
    previous = bytearray(stride)
    pixels: list[tuple[int, ...]] = []
    for y in range(height):
        line = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        kind, row = line[0], bytearray(line[1:])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up_left = previous[i - channels] if i >= channels else 0
            row[i] = (row[i] + predictor(kind, left, previous[i], up_left)) & 0xFF
        pixels.extend(tuple(row[x : x + channels]) for x in range(0, stride, channels))
        previous = row
    return pixels


# -- the package ----------------------------------------------------------------------------------


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return build_package(tmp_path / "pmo-bot-teams.zip", APP_ID, "bot.example.org")


def read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_package_holds_exactly_the_manifest_and_two_icons_at_its_root(package: Path) -> None:
    assert package.name == "pmo-bot-teams.zip"
    files = read(package)
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]
    text = files["manifest.json"]
    assert not text.startswith(b"\xef\xbb\xbf"), "Teams rejects a BOM"
    data = json.loads(text.decode("utf-8"))
    assert validate(data, set(files)) == []
    assert data == manifest(APP_ID, "bot.example.org")
    assert data["icons"] == {"color": "color.png", "outline": "outline.png"}


def test_the_manifest_is_a_teams_1_17_bot_manifest() -> None:
    m = manifest(APP_ID, "bot.example.org")
    schema = "https://developer.microsoft.com/json-schemas/teams/v1.22/MicrosoftTeams.schema.json"
    assert m["$schema"] == schema
    assert m["manifestVersion"] == "1.22"
    assert m["version"] == "1.0.0"
    assert m["id"] == APP_ID
    assert m["permissions"] == ["identity", "messageTeamMembers"]
    assert m["validDomains"] == ["bot.example.org"]
    assert m["developer"]["websiteUrl"].startswith("https://bot.example.org")
    for key in ("privacyUrl", "termsOfUseUrl"):
        assert m["developer"][key].startswith("https://bot.example.org/")
    assert len(m["name"]["short"]) <= 30 and len(m["description"]["short"]) <= 80
    assert len(m["description"]["full"]) <= 4000
    [bot] = m["bots"]
    assert bot["botId"] == APP_ID
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    assert [c["scopes"] for c in bot["commandLists"]] == [["personal"], ["team", "groupChat"]]


def test_each_command_list_mirrors_the_slack_pmo_command() -> None:
    usage = slack_manifest()["features"]["slash_commands"][0]["usage_hint"]
    slack_words = [part.split()[0] for part in usage.split("|") if not part.strip().startswith("<")]
    assert slack_words == ["help", "role", "function", "check", "survey", "digest"]
    for command_list in manifest(APP_ID, None)["bots"][0]["commandLists"]:
        commands = command_list["commands"]
        assert [c["title"] for c in commands] == slack_words
        for command in commands:
            assert set(command) == {"title", "description"}
            assert 0 < len(command["title"]) <= 32 and 0 < len(command["description"]) <= 128
    assert [title for title, _ in COMMANDS] == slack_words


def test_without_a_domain_the_developer_pages_use_the_project_placeholder() -> None:
    m = manifest(APP_ID, None)
    assert m["validDomains"] == []
    assert f"https://{PLACEHOLDER_DOMAIN}" == PLACEHOLDER_URL
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        assert m["developer"][key].startswith(PLACEHOLDER_URL + "/")
    assert validate(m, {"color.png", "outline.png"}) == []


def test_the_placeholder_app_id_of_the_cli_is_a_guid(tmp_path: Path) -> None:
    data = json.loads(read(build_package(tmp_path / "app.zip", ZERO_ID))["manifest.json"])
    assert data["id"] == data["bots"][0]["botId"] == ZERO_ID


@pytest.mark.parametrize(
    "app_id",
    ["", "pmo-bot", "28:3f2504e0-4f89-41d3-9a0c-0305e82c3301", "{3f2504e0-4f89-41d3-9a0c-0305e82c3301}",
     "3f2504e04f8941d39a0c0305e82c3301", "3f2504e0-4f89-41d3-9a0c-0305e82c330g", APP_ID + "\nx", "x" * 500],
)  # fmt: skip
def test_an_app_id_that_is_not_a_guid_is_a_one_line_value_error(tmp_path: Path, app_id: str) -> None:
    with pytest.raises(ValueError) as error:
        manifest(app_id, None)
    message = str(error.value)
    assert "GUID" in message and "\n" not in message and len(message) < 200
    with pytest.raises(ValueError):
        build_package(tmp_path / "app.zip", app_id)
    assert list(tmp_path.iterdir()) == []


def test_spaces_around_the_app_id_are_dropped() -> None:
    assert manifest(f"  {APP_ID.upper()}\n", None)["id"] == APP_ID.upper()


@pytest.mark.parametrize(
    ("given", "host"),
    [("bot.example.org", "bot.example.org"), ("https://Bot.Example.org/", "bot.example.org"),
     ("pmo-bot.azurewebsites.net", "pmo-bot.azurewebsites.net")],
)  # fmt: skip
def test_the_domain_is_a_host_name(given: str, host: str) -> None:
    m = manifest(APP_ID, given)
    assert m["validDomains"] == [host]
    assert m["developer"]["websiteUrl"] == f"https://{host}/"


@pytest.mark.parametrize(
    "domain",
    ["", "bot example.org", "https://bot.example.org/teams", "bot.example.org:8443", "-bot.example.org",
     "*.example.org"],
)  # fmt: skip
def test_a_bad_domain_is_a_one_line_value_error(domain: str) -> None:
    with pytest.raises(ValueError, match="host name") as error:
        manifest(APP_ID, domain)
    assert "\n" not in str(error.value)


def test_the_name_is_the_short_name(tmp_path: Path) -> None:
    path = build_package(tmp_path / "app.zip", APP_ID, name="PMO coach")
    data = json.loads(read(path)["manifest.json"])
    assert data["name"]["short"] == "PMO coach"
    assert validate(data, {"color.png", "outline.png"}) == []
    with pytest.raises(ValueError, match="30 characters"):
        build_package(tmp_path / "other.zip", APP_ID, name="x" * 31)


def test_files_in_personal_chats_are_off_unless_asked_for(tmp_path: Path) -> None:
    assert "CSV" not in manifest(APP_ID, None)["description"]["full"]
    path = build_package(tmp_path / "app.zip", APP_ID, supports_files=True)
    data = json.loads(read(path)["manifest.json"])
    assert data["bots"][0]["supportsFiles"] is True
    assert "CSV or Excel" in data["description"]["full"]
    assert validate(data, {"color.png", "outline.png"}) == []


def test_the_package_is_the_same_byte_for_byte_each_time(tmp_path: Path) -> None:
    first = build_package(tmp_path / "a.zip", APP_ID, "bot.example.org").read_bytes()
    second = build_package(tmp_path / "b.zip", APP_ID, "bot.example.org").read_bytes()
    assert first == second


def test_an_existing_package_is_replaced_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    out = tmp_path / "app.zip"
    out.write_bytes(b"old")
    assert build_package(out, APP_ID) == out
    assert zipfile.is_zipfile(out)
    assert [p.name for p in tmp_path.iterdir()] == ["app.zip"]


def test_a_folder_or_a_missing_folder_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is a folder"):
        build_package(tmp_path, APP_ID)
    with pytest.raises(ValueError, match="no such folder"):
        build_package(tmp_path / "missing" / "app.zip", APP_ID)
    assert list(tmp_path.iterdir()) == []


# -- the icons ------------------------------------------------------------------------------------


def test_the_color_icon_is_a_192_pixel_full_colour_png(package: Path) -> None:
    data = read(package)["color.png"]
    width, height, depth, color_type = png_header(data)
    assert (width, height, depth) == (192, 192, 8)
    assert color_type in (2, 6)  # RGB or RGBA: full colour
    pixels = png_pixels(data)
    assert len(pixels) == 192 * 192
    assert len(set(pixels)) > 3
    assert any(len(set(p[:3])) > 1 for p in pixels), "a grey-scale image"
    if color_type == 6:
        assert all(p[3] == 255 for p in pixels)
    # A full square (Teams rounds the corners): the background reaches every edge.
    corners = {pixels[0], pixels[191], pixels[-192], pixels[-1]}
    assert len(corners) == 1


def test_the_outline_icon_is_32_pixels_of_white_on_transparent(package: Path) -> None:
    data = read(package)["outline.png"]
    assert png_header(data) == (32, 32, 8, 6)
    pixels = png_pixels(data)
    assert len(pixels) == 32 * 32
    for pixel in pixels:
        r, g, b, a = pixel
        assert a == 0 or (r, g, b) == (255, 255, 255), f"{pixel} is neither white nor fully transparent"
    alphas = [p[3] for p in pixels]
    assert alphas.count(0) > 100 and alphas.count(255) > 100
    # No padding: the symbol touches all four edges.
    rows = [alphas[y * 32 : (y + 1) * 32] for y in range(32)]
    assert any(rows[0]) and any(rows[-1]) and any(r[0] for r in rows) and any(r[-1] for r in rows)


def test_the_png_reader_reads_filtered_images() -> None:
    """The reader undoes all five PNG filters (the package writes filter 0 only)."""
    assert [predictor(k, 10, 20, 15) for k in range(5)] == [0, 10, 20, 15, 15]
    assert predictor(4, 10, 20, 5) == 20 and predictor(4, 20, 10, 5) == 20 and predictor(4, 9, 9, 9) == 9
    width, channels = 3, 4
    rows = [bytes((37 * (y + 1) * (i + 3)) % 256 for i in range(width * channels)) for y in range(5)]
    raw = b""
    previous = bytes(width * channels)
    for kind, row in enumerate(rows):  # row y uses filter y
        filtered = bytes(
            (row[i] - predictor(kind, row[i - channels] if i >= channels else 0, previous[i],
                                previous[i - channels] if i >= channels else 0)) & 0xFF
            for i in range(len(row))
        )  # fmt: skip
        raw += bytes([kind]) + filtered
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, len(rows), 8, 6, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    data = b"\x89PNG\r\n\x1a\n" + chunks
    expected = [tuple(row[x : x + channels]) for row in rows for x in range(0, len(row), channels)]
    assert png_pixels(data) == expected


# -- the command line -----------------------------------------------------------------------------


def pmo_bot(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMO_", "SLACK_", "MICROSOFT_"))}
    env["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "bot.app.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=60, check=False)


def test_pmo_bot_teams_package_writes_the_zip(tmp_path: Path) -> None:
    result = pmo_bot(tmp_path, "teams", "package", "app.zip", "--app-id", APP_ID,
                     "--domain", "bot.example.org")  # fmt: skip
    assert result.returncode == 0, result.stderr
    files = read(tmp_path / "app.zip")
    assert validate(json.loads(files["manifest.json"]), set(files)) == []
    assert sorted(files) == ["color.png", "manifest.json", "outline.png"]


def test_pmo_bot_teams_package_with_a_bad_app_id_is_a_one_line_error(tmp_path: Path) -> None:
    result = pmo_bot(tmp_path, "teams", "package", "app.zip", "--app-id", "not-a-guid")
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "GUID" in result.stderr
    assert not (tmp_path / "app.zip").exists()
