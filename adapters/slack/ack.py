"""Answering a slash command inside its ack when the reply is ready in time.

Slack waits 3 s for the HTTP 200 (or Socket Mode ack) of a slash command, and the ack may carry the reply
itself. Acking empty and then POSTing to `response_url` costs a second HTTPS exchange per command (the
CPU bench measured it as most of Paperboy's overhead over a bare Bolt app), while most commands are ready
in milliseconds. So the ack waits up to `ACK_ANSWER_BUDGET` for the first reply: a reply that is ready
rides in the ack (same `response_type`, so an ephemeral error stays ephemeral); after the budget the ack
goes out empty and every reply takes `response_url`, still well inside Slack's 3 s for the ack. Only a
command answered by exactly one post uses the ack: with several, a later one through `response_url` could
reach Slack before the ack that carries the first (a contract test caught that order flipping).
"""

from __future__ import annotations

import asyncio
from typing import Any

from adapters.slack.render import SlackPost

# Seconds the ack waits for the reply: a third of Slack's 3 s, leaving room for a slow network and Bolt.
ACK_ANSWER_BUDGET = 1.0


class AckAnswer:
    """The ack of one slash command, which can carry the command's first reply.

    Single event loop, so `offer` and `close` never interleave: a reply is either in the ack or, once the
    ack has been decided, told to go through `response_url`.
    """

    def __init__(self) -> None:
        self._answer: asyncio.Future[tuple[SlackPost, str] | None] = asyncio.get_running_loop().create_future()

    def offer(self, post: SlackPost, response_type: str) -> bool:
        """Put `post` in the ack; False when the ack is decided already (post to `response_url` instead)."""
        if self._answer.done():
            return False
        self._answer.set_result((post, response_type))
        return True

    def close(self) -> None:
        """Nothing (more) goes into the ack: it is sent as it is now."""
        if not self._answer.done():
            self._answer.set_result(None)

    async def decide(self, budget: float, running: asyncio.Future[None]) -> tuple[SlackPost, str] | None:
        """Wait until a reply is offered, the command ends, or `budget` seconds pass; then close the ack."""
        if budget > 0 and not self._answer.done():
            waiting: set[asyncio.Future[Any]] = {self._answer, running}
            await asyncio.wait(waiting, timeout=budget, return_when=asyncio.FIRST_COMPLETED)
        self.close()
        return self._answer.result()
