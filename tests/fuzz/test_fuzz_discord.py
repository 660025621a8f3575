"""Generated interactions through discord.py's gateway and interaction parsing, with the real engine.

Every interaction is answered within Discord's 3 seconds (a deferral followed by a reply, a private
error, or suggestions), logs no error or traceback, and no reply is the generic internal-error one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import given

from tests.fakes.common import wait_for
from tests.fuzz.stack import FUZZ, Stack
from tests.fuzz.strategies import interactions

DEFERRED = 5


async def answer_of(stack: Stack, payload: dict[str, Any]) -> list[str]:
    fake = stack.discord_fake
    assert fake is not None
    await fake.push_interaction(payload)
    await wait_for(lambda: any(c["interaction_id"] == payload["id"] for c in fake.callbacks), 3, what="an answer")
    callback = next(c for c in fake.callbacks if c["interaction_id"] == payload["id"])
    said = [str(callback.get("data", {}).get("content", ""))]
    if callback["type"] == DEFERRED:
        done = f"followup:{payload['token']}"
        await wait_for(lambda: done in fake.events, 10, what="the reply after the deferral")
        said += [p.content + str(p.embeds) for p in fake.posted if p.channel_id == done]
    return said


def test_generated_interactions_are_all_answered(tmp_path: Path, clean_log: Callable[[], None]) -> None:
    with asyncio.Runner() as runner:
        stack = runner.run(Stack.start(tmp_path, discord=True))
        try:

            @FUZZ
            @given(payload=interactions())
            def one(payload: dict[str, Any]) -> None:
                said = runner.run(answer_of(stack, payload))
                assert not [s for s in said if "Something went wrong" in s], payload["data"]
                clean_log()

            one()
        finally:
            runner.run(stack.stop())
