"""An in-memory chat platform for tests: records what was posted, can be told to fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.ports import CommandPort, SentMessage
from bot.types import ChannelRef, Message, Platform


@dataclass(frozen=True, slots=True)
class Posted:
    channel: ChannelRef
    message: Message
    delivery_id: str | None
    message_id: str


@dataclass
class MemoryAdapter:
    """Speaks for one platform (console by default). Failures are queued per channel key."""

    platform_name: Platform = Platform.CONSOLE
    posted: list[Posted] = field(default_factory=list)
    failures: dict[str, list[Exception]] = field(default_factory=dict)
    core: CommandPort | None = None
    link_up: bool = True

    @property
    def connected(self) -> bool:
        return self.link_up

    @property
    def platform(self) -> Platform:
        return self.platform_name

    async def start(self, core: CommandPort) -> None:
        self.core = core

    async def stop(self) -> None:
        self.core = None

    def fail_next(self, channel: ChannelRef, *errors: Exception) -> None:
        self.failures.setdefault(channel.key, []).extend(errors)

    async def send(self, channel: ChannelRef, message: Message, *, delivery_id: str | None = None) -> SentMessage:
        queued = self.failures.get(channel.key)
        if queued:
            raise queued.pop(0)
        message_id = f"m{len(self.posted) + 1}"
        self.posted.append(Posted(channel, message, delivery_id, message_id))
        return SentMessage(message_id)

    async def find_delivery(self, channel: ChannelRef, delivery_id: str, since: datetime) -> str | None:
        for p in self.posted:
            if p.channel == channel and p.delivery_id == delivery_id:
                return p.message_id
        return None

    def in_channel(self, channel: ChannelRef) -> list[Message]:
        return [p.message for p in self.posted if p.channel == channel]
