"""Settings read from the environment (and a ``.env`` file in the working folder).

The names are those of the interface contract. Secrets are ``SecretStr`` so that printing the
settings object never shows them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import unquote, unquote_plus, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field(default="sqlite:///pmo-bot.db", alias="DATABASE_URL")
    port: int = Field(default=3978, alias="PORT", ge=1, le=65535)
    # Loopback unless told otherwise: put a reverse proxy or tunnel in front, or set 0.0.0.0 in a
    # container whose platform routes to it.
    pmo_host: str = Field(default="127.0.0.1", alias="PMO_HOST")
    pmo_config: Path = Field(default=Path("pmo-bot.yaml"), alias="PMO_CONFIG")
    pmo_admins: str = Field(default="", alias="PMO_ADMINS")
    pmo_timezone: str = Field(default="Europe/London", alias="PMO_TIMEZONE")
    pmo_scheduler: Literal["embedded", "off"] = Field(default="embedded", alias="PMO_SCHEDULER")
    pmo_knowledge_dir: Path | None = Field(default=None, alias="PMO_KNOWLEDGE_DIR")
    # The key of the keyed hash that stands for a person in survey answers. Unset, one is made and
    # kept in the database; set it when the database is shared more widely than the bot.
    pmo_response_secret: SecretStr | None = Field(default=None, alias="PMO_RESPONSE_SECRET")
    # Messages a second the survey sender allows itself per Slack workspace and Teams tenant.
    pmo_slack_rate: float = Field(default=50.0, alias="PMO_SLACK_RATE", gt=0, le=1000)
    pmo_teams_rate: float = Field(default=50.0, alias="PMO_TEAMS_RATE", gt=0, le=1000)
    # How long a sender holds a message it is sending; a sender that dies lets go after this.
    pmo_outbox_lease_s: float = Field(default=60.0, alias="PMO_OUTBOX_LEASE_S", ge=1, le=3600)
    # How often the clock looks for surveys to open, remind and close (its cron jobs aside).
    pmo_clock_tick_s: float = Field(default=60.0, alias="PMO_CLOCK_TICK_S", ge=1, le=3600)
    # What one person may ask at once, so that one person's flood cannot starve the others
    # (bot/limits.py): messages and clicks together, then file reviews, which cost far more.
    pmo_turn_burst: int = Field(default=20, alias="PMO_TURN_BURST", ge=1, le=100_000)
    pmo_turns_per_minute: float = Field(default=60.0, alias="PMO_TURNS_PER_MINUTE", gt=0, le=600_000)
    pmo_file_burst: int = Field(default=3, alias="PMO_FILE_BURST", ge=1, le=10_000)
    pmo_files_per_minute: float = Field(default=3.0, alias="PMO_FILES_PER_MINUTE", gt=0, le=60_000)

    # The web chat on an address other than loopback needs a token (shared as /#token=...).
    pmo_web_token: SecretStr | None = Field(default=None, alias="PMO_WEB_TOKEN", min_length=16)
    # The web chat's demo team (made-up answers): auto means on until Slack or Teams is connected.
    pmo_demo: Literal["auto", "on", "off"] = Field(default="auto", alias="PMO_DEMO")

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    microsoft_app_id: str | None = Field(default=None, alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(default=None, alias="MICROSOFT_APP_PASSWORD")
    microsoft_app_tenant_id: str | None = Field(default=None, alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: str | None = Field(default=None, alias="MICROSOFT_APP_TYPE")

    @field_validator("pmo_knowledge_dir", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # PMO_KNOWLEDGE_DIR= (blank) means no override, as the one-shot ``ask`` reads it, not "."
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.pmo_admins.split(",") if a.strip())

    @property
    def secret_values(self) -> tuple[str, ...]:
        """Every secret set, for the logs to remove wherever a library prints one: the tokens and
        passwords, the response key, and the database password as written in the URL and decoded."""
        values = [
            s.get_secret_value()
            for s in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.microsoft_app_password,
                self.pmo_web_token,
                self.pmo_response_secret,
            )
            if s is not None
        ]
        try:
            password = urlsplit(self.database_url).password
        except ValueError:
            password = None
        if password:
            values += [password, unquote(password), unquote_plus(password)]
        return tuple(dict.fromkeys(v for v in values if v))

    @property
    def demo_enabled(self) -> bool:
        if self.pmo_demo != "auto":
            return self.pmo_demo == "on"
        connected = self.slack_bot_token is not None or self.microsoft_app_id is not None
        return not connected

    @property
    def slack_http_enabled(self) -> bool:
        return self.slack_bot_token is not None and self.slack_signing_secret is not None


def read_settings() -> Settings:
    """The settings, or ConfigError in one line: a bad value, or a .env that cannot be read."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"bad setting {'.'.join(str(x) for x in first['loc'])}: {first['msg']}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        # A .env file that is not UTF-8 text, or cannot be read.
        detail = f"{type(exc).__name__}: {exc}".splitlines()[0]
        raise ConfigError(f"cannot read the settings (.env or environment): {detail}") from None
