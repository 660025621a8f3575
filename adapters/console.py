"""The console channel: `paperboy chat` and the demo. Same commands, same messages, rendered as text."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from datetime import datetime
from typing import TextIO

from adapters.text import render_text
from bot.clock import Clock
from bot.ports import CommandPort, PartRecorder, SentMessage
from bot.types import ChannelRef, CommandInvocation, Message, Permission, Platform, UserRef

CONSOLE_CHANNEL = ChannelRef(Platform.CONSOLE, "local", "console")
CONSOLE_USER = UserRef("operator", "you")


class ConsoleAdapter:
    """One local channel in the terminal. The person at the terminal manages the channel."""

    def __init__(self, clock: Clock, out: TextIO | None = None, channel: ChannelRef = CONSOLE_CHANNEL) -> None:
        self._clock = clock
        self._given_out = out
        self.channel = channel
        self._core: CommandPort | None = None
        self._posted: dict[str, str] = {}

    @property
    def connected(self) -> bool:
        return True

    @property
    def _out(self) -> TextIO:
        # Read at each write, so a caller can send posts elsewhere (`digest run --json` keeps stdout JSON).
        return self._given_out or sys.stdout

    @property
    def platform(self) -> Platform:
        return Platform.CONSOLE

    async def start(self, core: CommandPort) -> None:
        self._core = core

    async def stop(self) -> None:
        self._core = None

    def invocation(self, line: str) -> CommandInvocation:
        text = line.strip()
        if text.startswith("/papers"):
            text = text[len("/papers") :].strip()
        return CommandInvocation(
            channel=self.channel,
            user=CONSOLE_USER,
            text=text,
            permission=Permission(True, "the console's operator"),
            received_at=self._clock.now(),
        )

    async def command(self, line: str) -> list[Message]:
        """Run one `/papers ...` line as if typed in the channel, and print the replies."""
        if self._core is None:
            raise RuntimeError("console adapter is not started")
        replies = list(await self._core.handle(self.invocation(line)))
        for reply in replies:
            self.print(reply)
        return replies

    def print(self, message: Message, *, prefix: str = "") -> None:
        marker = "(only you can see this) " if message.private else ""
        self._out.write(prefix + marker + render_text(message) + "\n\n")
        self._out.flush()

    async def send(
        self,
        channel: ChannelRef,
        message: Message,
        *,
        delivery_id: str | None = None,
        posted: Mapping[int, str] | None = None,
        on_part: PartRecorder | None = None,
    ) -> SentMessage:
        """The terminal shows a message whole: one part."""
        if posted and 0 in posted:
            return SentMessage(posted[0])
        where = f"direct message to {channel.dm_user}" if channel.dm_user else f"posted to #{channel.channel_id}"
        self.print(message, prefix=f"[{where}]\n")
        message_id = f"console-{len(self._posted) + 1}"
        if delivery_id:
            self._posted[delivery_id] = message_id
        if on_part is not None:
            await on_part(0, message_id)
        return SentMessage(message_id)

    async def find_parts(
        self,
        channel: ChannelRef,
        delivery_id: str,
        since: datetime,
        posted: Mapping[int, str],
        *,
        under: str | None = None,
    ) -> dict[int, str]:
        found = self._posted.get(delivery_id)
        return {0: found} if found else {}

    async def repl(self, stdin: TextIO | None = None, *, interactive: bool = True) -> None:
        """Read `/papers ...` lines until EOF or `quit` (not `interactive`: no banner, no prompts)."""
        source = stdin or sys.stdin
        if interactive:
            self._out.write("Paperboy console channel. Type `/papers help`, or `quit`.\n")
        while True:
            if interactive:
                self._out.write("> ")
            self._out.flush()
            line = await asyncio.to_thread(source.readline)
            if not line or line.strip() in ("quit", "exit"):
                break
            if line.strip():
                await self.command(line)
