"""The Slack app manifest: paste it into "Create an app → From a manifest" at api.slack.com/apps.

``pmo-bot slack manifest [--url URL] [--socket-mode]`` prints it; a copy for HTTP mode with a
placeholder URL is kept in ``slack-manifest.yaml`` at the top of the repository.
"""

from __future__ import annotations

from typing import Any

import yaml

PLACEHOLDER_URL = "https://pmo-bot.example.org"

BOT_SCOPES = [
    "app_mentions:read",  # mentions in channels
    "channels:read",  # digest channels and their members
    "chat:write",  # answers and digests
    "commands",  # /pmo
    "files:read",  # registers shared with the bot
    "files:write",  # digest charts
    "groups:read",
    "im:history",  # direct messages to the bot
    "im:read",
    "im:write",  # opening a DM for surveys and App Home clicks
    "users:read",  # names and time zones for surveys
]
BOT_EVENTS = ["app_home_opened", "app_mention", "message.im"]


def manifest(url: str = PLACEHOLDER_URL, socket_mode: bool = False) -> dict[str, Any]:
    endpoint = url.rstrip("/") + "/slack/events"
    command: dict[str, Any] = {
        "command": "/pmo",
        "description": "PMO coach: register checks, roles, functions, surveys and digests",
        "usage_hint": "help | role <role> | function <function> | check <artefact> | survey | digest | "
        "<question>",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": BOT_EVENTS}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket_mode:
        command["url"] = endpoint
        events["request_url"] = endpoint
        interactivity["request_url"] = endpoint
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "pmo-bot",
            "description": "A coach for people who work in a PMO: register checks, roles, pulse surveys.",
            "background_color": "#1f3a5f",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "pmo-bot", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": BOT_SCOPES}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def manifest_yaml(url: str = PLACEHOLDER_URL, socket_mode: bool = False) -> str:
    return yaml.safe_dump(manifest(url, socket_mode), sort_keys=False, width=110)
