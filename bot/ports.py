"""The outbound port: how jobs (surveys, digests) reach people and channels without knowing the
platform. Each chat adapter offers it; nothing here imports a platform SDK."""

from __future__ import annotations

from typing import Literal, Protocol

from bot.reply import Reply

# sent: delivered. unknown: the platform cannot reach this person yet (Teams: the app is not
# installed for them). inactive: the person blocked or removed the bot; do not try again.
Delivery = Literal["sent", "unknown", "inactive"]


class Outbound(Protocol):
    platform: str

    async def send_to_user(self, user_id: str, reply: Reply) -> Delivery: ...

    async def post_to_channel(self, channel_id: str, reply: Reply) -> Delivery: ...
