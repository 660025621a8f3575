"""The contract between the core and a chat platform."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.types import ChannelRef, CommandInvocation, CommandSpec, Message, Platform

OnCommand = Callable[[CommandInvocation], Awaitable[Sequence[Message]]]
"""Runs one invocation and returns the replies, in order. Never raises for user errors."""


@dataclass(frozen=True, slots=True)
class SentMessage:
    """Where a message landed: the platform's id of the first (channel-level) message."""

    message_id: str
    extra_ids: tuple[str, ...] = ()


class ChatAdapter(Protocol):
    """One platform connection. Adapters translate inbound events and render outbound messages.

    `send` raises `bot.errors.RetryableDeliveryError` or `PermanentDeliveryError`; `delivery_id`,
    when given, is attached to the posted message as a marker (Slack metadata, Discord nonce) so that
    `find_delivery` can tell, after a crash, whether the post already happened.
    """

    @property
    def platform(self) -> Platform: ...

    @property
    def connected(self) -> bool:
        """Whether the platform connection is up (for /readyz)."""
        ...

    async def start(self, commands: Sequence[CommandSpec], on_command: OnCommand) -> None: ...

    async def stop(self) -> None: ...

    async def send(
        self, channel: ChannelRef, message: Message, *, delivery_id: str | None = None
    ) -> SentMessage: ...

    async def find_delivery(self, channel: ChannelRef, delivery_id: str, since: datetime) -> str | None:
        """The message id of an earlier post carrying `delivery_id`, or None if there is none."""
        ...
