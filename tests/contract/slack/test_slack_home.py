"""The App Home tab: a person's follows and matches from the core's `following`, and its Unfollow buttons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from adapters.slack.render import escape
from bot import actions as codec
from bot.types import (
    Action,
    ActionStyle,
    ChannelRef,
    CommandInvocation,
    ListedPaper,
    Message,
    PaperList,
    Platform,
    TextReply,
    TopicList,
    TopicSummary,
)
from tests.fakes.common import ScriptedCore
from tests.fakes.slack import (
    FakeSlack,
    ServeFactory,
    action_form,
    home_action_payload,
    home_opened_event,
    make_paper,
    wait_for,
)

FORM = "application/x-www-form-urlencoded"
SCHEDULE = "Your DM comes daily at 08:00 (Europe/Paris)."


def unfollow(topic_id: int) -> Action:
    return Action("unfollow", (str(topic_id),), f"Unfollow #{topic_id}", ActionStyle.DANGER)


class FollowsCore(ScriptedCore):
    """A core that knows one person's follows: `following` lists them, `unfollow <id>` drops one."""

    def __init__(self) -> None:
        self.follows = {3: "mixture of experts", 9: "speculative decoding"}
        self.broken = False
        super().__init__(self._answer)

    async def _answer(self, inv: CommandInvocation) -> Sequence[Message]:
        if inv.command == "following":
            if self.broken:
                raise RuntimeError("database is down")
            topics = tuple(TopicSummary(i, q, 2, actions=(unfollow(i),)) for i, q in sorted(self.follows.items()))
            papers = tuple(ListedPaper(make_paper(i), matched=("mixture of experts",)) for i in (1, 2))
            return [
                TopicList(inv.channel, topics, limit=10, private=True, personal=True),
                TextReply(SCHEDULE, private=True),
                PaperList("Your latest matches (DM of Tue 1 Dec)", papers, private=True),
            ]
        if inv.command == "unfollow":
            query = self.follows.pop(int(inv.args[0]))
            return [TextReply(f"You no longer follow `{query}` (follow #{inv.args[0]}).", private=True)]
        if inv.command == "similar":
            return [PaperList(f"Papers like {inv.args[0]}", (ListedPaper(make_paper(5)),), private=True)]
        return [TextReply(f"Unknown subcommand {inv.text!r}", private=True, is_error=True)]


@pytest.fixture
def core() -> FollowsCore:
    return FollowsCore()


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("type") == "button"]


def texts(view: dict[str, Any]) -> list[str]:
    return [json.dumps(b, ensure_ascii=False) for b in view["blocks"]]


def index_of(view: dict[str, Any], needle: str) -> int:
    return next(i for i, text in enumerate(texts(view)) if needle in text)


async def open_home(served: Any, fake: FakeSlack, user: str = "U7", views: int = 1) -> dict[str, Any]:
    resp = await served.post(json.dumps(home_opened_event(user=user)), content_type="application/json")
    assert resp.status == 200
    await wait_for(lambda: len(fake.home_views) == views, what="views.publish")
    published_for, view = fake.home_views[-1]
    assert published_for == user
    return view


async def test_the_home_tab_shows_the_persons_follows_and_matches(
    fake: FakeSlack, core: FollowsCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    view = await open_home(served, fake)
    [asked] = core.invocations
    assert asked.command == "following" and asked.text == "following"
    assert asked.channel == ChannelRef.dm(Platform.SLACK, "T1", "U7") and asked.is_direct_message
    assert asked.user.user_id == "U7" and not asked.permission.can_manage_channel
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    # How-to, then the follows, then the matches, then the commands.
    how_to = index_of(view, "follow &lt;query&gt;")
    follows = index_of(view, "Your follows (2/10)")
    matches = index_of(view, "Your latest matches")
    commands = index_of(view, json.dumps("`" + escape(core.specs()[0].usage))[1:-1])
    assert how_to < follows < index_of(view, "speculative decoding") < matches < commands
    assert follows < index_of(view, SCHEDULE) < matches
    assert [b["action_id"] for b in buttons(view)] == [codec.encode(unfollow(3)), codec.encode(unfollow(9))]
    assert [b["text"]["text"] for b in buttons(view)] == ["Unfollow #3", "Unfollow #9"]
    paper = make_paper(1)
    assert f"<{paper.hf_url}|" in texts(view)[matches + 1] and f"arXiv:{paper.id}" in texts(view)[matches + 1]


async def test_an_unfollow_press_on_the_home_tab_runs_for_the_person_and_republishes(
    fake: FakeSlack, core: FollowsCore, serve_http: ServeFactory
) -> None:
    served = await serve_http()
    view = await open_home(served, fake)
    pressed = next(b for b in buttons(view) if b["action_id"] == codec.encode(unfollow(3)))
    resp = await served.post(action_form(home_action_payload(view, pressed, user="U7")), content_type=FORM)
    assert resp.status == 200
    await wait_for(lambda: len(fake.home_views) == 2, what="the Home tab published again")
    unfollowed = next(i for i in core.invocations if i.command == "unfollow")
    assert unfollowed.args == ("3",) and unfollowed.text == "unfollow 3"
    assert unfollowed.channel == ChannelRef.dm(Platform.SLACK, "T1", "U7") and unfollowed.is_direct_message
    assert unfollowed.user.user_id == "U7"
    user, again = fake.home_views[1]
    assert user == "U7"
    assert "mixture of experts`" not in json.dumps(again["blocks"][index_of(again, "Your follows") :])
    assert [b["action_id"] for b in buttons(again)] == [codec.encode(unfollow(9))]
    assert "Your follows (1/10)" in json.dumps(again)
    assert "You no longer follow `mixture of experts`" in texts(again)[1], "what the press did, at the top"
    assert not fake.posts and not fake.responses, "a Home tab press posts in no channel"


async def test_a_home_press_that_answers_with_papers_sends_them_to_the_persons_im(
    fake: FakeSlack, core: FollowsCore, serve_http: ServeFactory
) -> None:
    fake.add_user("U7")
    served = await serve_http()
    view = await open_home(served, fake)
    similar = Action("similar", ("2411.10001",), "More like this")
    button = {"action_id": codec.encode(similar), "text": {"type": "plain_text", "text": "More like this"}}
    await served.post(action_form(home_action_payload(view, button, user="U7")), content_type=FORM)
    await wait_for(lambda: len(fake.home_views) == 2, what="the Home tab published again")
    im = fake.im_of("U7")
    assert im is not None and [p.channel for p in fake.posts] == [im]
    assert "Papers like 2411.10001" in fake.posts[0].text


async def test_the_home_tab_still_shows_the_how_to_when_the_core_fails(
    fake: FakeSlack, core: FollowsCore, serve_http: ServeFactory
) -> None:
    core.broken = True
    served = await serve_http()
    view = await open_home(served, fake)
    text = json.dumps(view)
    assert "Messages" in text and json.dumps(escape(core.specs()[-1].usage))[1:-1] in text
    assert "Your follows" not in text and not buttons(view)
