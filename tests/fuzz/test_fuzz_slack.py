"""Generated requests through the real Bolt app over signed HTTP, with the real engine behind it.

Every one is answered 200 or 400 (never 5xx), logs no error or traceback, and whatever Paperboy replies
(response_url, messages, ephemerals) is never the generic internal-error reply.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from hypothesis import given

from tests.fuzz.stack import FUZZ, Stack
from tests.fuzz.strategies import RESPONSE_URL, SlackRequest, slack_requests


def test_generated_slack_requests_get_200_or_400_and_no_internal_error(
    tmp_path: Path, clean_log: Callable[[], None]
) -> None:
    with asyncio.Runner() as runner:
        stack = runner.run(Stack.start(tmp_path, slack=True))
        fake = stack.slack_fake
        assert fake is not None
        try:

            @FUZZ
            @given(request=slack_requests)
            def one(request: SlackRequest) -> None:
                # Replies go to the fake's response URL: Paperboy posts where a signed request says.
                body = request.body.replace(RESPONSE_URL.encode(), fake.response_url().encode())
                body = body.replace(b"%7Bresponse_url%7D", fake.response_url().replace(":", "%3A").encode())
                status = runner.run(stack.post_slack(body, request.content_type))
                runner.run(stack.slack_settled())
                assert status in (200, 400), (status, body[:300])
                said = [p.text for p in fake.posts + fake.ephemerals] + [str(r) for _, r in fake.responses]
                fake.posts.clear()
                fake.ephemerals.clear()
                fake.responses.clear()
                assert not [s for s in said if "Something went wrong" in s], body[:300]
                clean_log()

            one()
        finally:
            runner.run(stack.stop())
