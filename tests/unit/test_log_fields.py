"""JSON log lines carry platform, workspace, channel and delivery as fields, per asyncio task."""

from __future__ import annotations

import asyncio
import io
import json
import logging

import pytest

from bot.logs import JsonFormatter, log_fields


@pytest.fixture
def lines() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.log_fields")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, out


def records(out: io.StringIO) -> list[dict[str, str]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


async def test_fields_belong_to_the_task_that_set_them(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = lines

    async def deliver(channel: str, delivery: str) -> None:
        with log_fields(platform="slack", workspace="T1", channel=channel, delivery=delivery):
            await asyncio.sleep(0)  # the other task runs in between
            logger.info("posted")

    await asyncio.gather(deliver("C1", "11"), deliver("C2", "22"))
    logger.info("outside")
    got = records(out)
    by_channel = {r["channel"]: r for r in got if "channel" in r}
    assert by_channel["C1"]["delivery"] == "11" and by_channel["C2"]["delivery"] == "22"
    assert by_channel["C1"]["platform"] == "slack" and by_channel["C1"]["workspace"] == "T1"
    outside = [r for r in got if r["message"] == "outside"]
    assert outside and "channel" not in outside[0] and "delivery" not in outside[0]


def test_nested_blocks_add_fields_and_unknown_names_are_refused(lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = lines
    with log_fields(platform="discord"), log_fields(channel="9"):
        logger.info("inner xoxb-123-secret")
    (entry,) = records(out)
    assert entry["platform"] == "discord" and entry["channel"] == "9"
    assert "xoxb-123-secret" not in entry["message"]
    with pytest.raises(ValueError, match="unknown log fields"), log_fields(token="x"):  # type: ignore[arg-type]
        pass
