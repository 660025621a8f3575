"""An in-memory chat platform for tests: records what was posted, part by part, and can be told to fail.

A digest with more than `part_size` entries goes out as several parts (the channel message, then
replies under it), as on the real platforms, so the core's part-by-part delivery can be tested without
one: `fail_next` makes the next posts in a channel fail, whichever part they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.ports import CommandPort, PartRecorder, SentMessage
from bot.types import ChannelRef, Digest, FollowUp, Message, Platform


@dataclass(frozen=True, slots=True)
class Posted:
    channel: ChannelRef
    message: Message
    delivery_id: str | None
    message_id: str
    part: int = 0
    parent: str | None = None


@dataclass
class MemoryAdapter:
    """Speaks for one platform (console by default). Failures are queued per channel key."""

    platform_name: Platform = Platform.CONSOLE
    posted: list[Posted] = field(default_factory=list)
    failures: dict[str, list[BaseException | None]] = field(default_factory=dict)
    core: CommandPort | None = None
    link_up: bool = True
    part_size: int = 10

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

    def fail_next(self, channel: ChannelRef, *errors: BaseException, after: int = 0) -> None:
        """The next posts in `channel` raise `errors`, once `after` more posts there have landed."""
        self.failures.setdefault(channel.key, []).extend([None] * after + list(errors))

    def parts_of(self, message: Message) -> int:
        if isinstance(message, Digest):
            return max(1, -(-len(message.entries) // self.part_size))
        return 1

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        delivery_id: str | None = None,
        posted: Mapping[int, str] | None = None,
        on_part: PartRecorder | None = None,
    ) -> SentMessage:
        done = dict(posted or {})
        for part in range(self.parts_of(message)):
            if part in done:
                continue
            queued = self.failures.get(channel.key)
            failure = queued.pop(0) if queued else None
            if failure is not None:
                raise failure
            message_id = f"m{len(self.posted) + 1}"
            # A follow-up goes in the thread of the message that carried its paper; other parts under part 0.
            parent = done.get(0) if part else (message.parent if isinstance(message, FollowUp) else None)
            self.posted.append(Posted(channel, message, delivery_id, message_id, part, parent))
            done[part] = message_id
            if on_part is not None:
                await on_part(part, message_id)
        ids = [done[p] for p in sorted(done)]
        return SentMessage(ids[0], tuple(ids[1:]))

    async def find_parts(
        self,
        channel: ChannelRef,
        delivery_id: str,
        since: datetime,
        posted: Mapping[int, str],
        *,
        under: str | None = None,
    ) -> dict[int, str]:
        return {p.part: p.message_id for p in self.posted if p.channel == channel and p.delivery_id == delivery_id}

    def in_channel(self, channel: ChannelRef) -> list[Message]:
        """The messages posted in `channel` (each once, whatever its number of parts)."""
        return [p.message for p in self.posted if p.channel == channel and p.part == 0]
