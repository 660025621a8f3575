"""Multi-workspace OAuth: install into two workspaces via the fake, then each is served with its own token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.config import SlackPermissionRule
from bot.errors import PermanentDeliveryError
from bot.types import ChannelRef, Platform, TextReply
from tests.fakes.slack import (
    FORM,
    FakeCore,
    FakeSlack,
    Served,
    ServeFactory,
    digest,
    form,
    mention_event,
    slash_body,
    wait_for,
)


async def install(served: Served, fake: FakeSlack, code: str, team: str, token: str) -> None:
    fake.oauth_code(code, team, token)
    async with served.session.get(served.url + "slack/install", allow_redirects=False) as resp:
        assert resp.status == 302
        location = resp.headers["Location"]
        cookie = resp.headers["Set-Cookie"].split(";")[0]
    query = parse_qs(urlsplit(location).query)
    assert query["client_id"] == ["111.222"]
    assert "chat:write" in query["scope"][0] and "commands" in query["scope"][0]
    state = query["state"][0]
    url = f"{served.url}slack/oauth_redirect?code={code}&state={state}"
    async with served.session.get(url, headers={"Cookie": cookie}, allow_redirects=False) as resp:
        body = await resp.text()
        assert resp.status == 200, body


async def start_oauth(serve_http: ServeFactory, tmp_path: Path, removed: list[str], **extra: Any) -> Served:
    async def on_removed(team_id: str) -> None:
        removed.append(team_id)

    return await serve_http(
        **extra,
        bot_token=None,
        client_id="111.222",
        client_secret="client-secret",
        installation_db_url=f"sqlite+aiosqlite:///{tmp_path / 'paperboy.db'}",
        on_workspace_removed=on_removed,
        permission=SlackPermissionRule.ADMINS,
    )


async def test_install_two_workspaces_and_serve_each_with_its_token(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory, tmp_path: Path
) -> None:
    removed: list[str] = []
    served = await start_oauth(serve_http, tmp_path, removed)
    await install(served, fake, "code-a", "TA", "xoxb-ta-token")
    await install(served, fake, "code-b", "TB", "xoxb-tb-token")
    (access_a, access_b) = fake.calls_of("oauth.v2.access")
    assert access_a.args["code"] == "code-a" and access_b.args["code"] == "code-b"

    fake.add_user("UA", admin=True, team_id="TA")
    fake.add_user("UB", team_id="TB")
    for team, user in (("TA", "UA"), ("TB", "UB")):
        body = mention_event("today", team=team, channel=f"C{team}", user=user)
        resp = await served.post(json.dumps(body), content_type="application/json")
        assert resp.status == 200
    await wait_for(lambda: len(fake.posts) == 2, what="a reply in each workspace")
    tokens = {p.channel: p.token for p in fake.posts}
    assert tokens == {"CTA": "xoxb-ta-token", "CTB": "xoxb-tb-token"}
    lookups = {c.args["user"]: c.token for c in fake.calls_of("users.info")}
    assert lookups == {"UA": "xoxb-ta-token", "UB": "xoxb-tb-token"}
    perms = {i.user.user_id: i.permission.can_manage_channel for i in core.invocations}
    assert perms == {"UA": True, "UB": False}
    assert {i.channel.workspace_id for i in core.invocations} == {"TA", "TB"}

    # Slash commands too, and send() picks the workspace's token from the installation store.
    await served.post(form(slash_body(fake, "digest big", team="TB", channel="CTB", user="UB")), content_type=FORM)
    await wait_for(lambda: len(fake.posts) == 5, what="a long digest in TB")
    assert {p.token for p in fake.posts[2:]} == {"xoxb-tb-token"}
    await served.adapter.send(ChannelRef(Platform.SLACK, "TA", "CTA2"), digest(1, channel="CTA2"), delivery_id="d1")
    assert fake.posts[-1].token == "xoxb-ta-token" and fake.posts[-1].channel == "CTA2"


async def test_uninstall_removes_the_workspace(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory, tmp_path: Path
) -> None:
    removed: list[str] = []
    served = await start_oauth(serve_http, tmp_path, removed)
    await install(served, fake, "code-a", "TA", "xoxb-ta-token")
    await install(served, fake, "code-b", "TB", "xoxb-tb-token")
    event = {
        "token": "verification_token",
        "team_id": "TA",
        "api_app_id": "A1",
        "event": {"type": "app_uninstalled", "event_ts": "1700000000.000100"},
        "type": "event_callback",
        "event_id": "Ev1",
        "event_time": 1700000000,
    }
    resp = await served.post(json.dumps(event), content_type="application/json")
    assert resp.status == 200
    await wait_for(lambda: removed == ["TA"], what="the workspace-removed callback")
    try:
        await served.adapter.send(ChannelRef(Platform.SLACK, "TA", "C1"), TextReply("hi"))
        raise AssertionError("sending to an uninstalled workspace must fail")
    except PermanentDeliveryError as exc:
        assert "not installed" in exc.reason
    await served.adapter.send(ChannelRef(Platform.SLACK, "TB", "C1"), TextReply("hi"))
    assert fake.posts[-1].token == "xoxb-tb-token"


async def test_callback_with_a_forged_state_installs_nothing(
    fake: FakeSlack, serve_http: ServeFactory, tmp_path: Path
) -> None:
    served = await start_oauth(serve_http, tmp_path, [])
    fake.oauth_code("code-x", "TX", "xoxb-tx-token")
    url = f"{served.url}slack/oauth_redirect?code=code-x&state=forged"
    async with served.session.get(url, headers={"Cookie": "slack-app-oauth-state=forged"}) as resp:
        assert resp.status >= 400
    assert not fake.calls_of("oauth.v2.access")
    try:
        await served.adapter.send(ChannelRef(Platform.SLACK, "TX", "C1"), TextReply("hi"))
        raise AssertionError("no installation, no sending")
    except PermanentDeliveryError:
        pass


async def test_a_persons_dm_is_opened_and_posted_with_their_workspaces_token(
    fake: FakeSlack, core: FakeCore, serve_http: ServeFactory, tmp_path: Path
) -> None:
    served = await start_oauth(serve_http, tmp_path, [])
    await install(served, fake, "code-a", "TA", "xoxb-ta-token")
    await install(served, fake, "code-b", "TB", "xoxb-tb-token")
    fake.add_user("UA", team_id="TA")
    fake.add_user("UB", team_id="TB")
    for team, user in (("TA", "UA"), ("TB", "UB")):
        await served.adapter.send(ChannelRef.dm(Platform.SLACK, team, user), TextReply(f"for {user}"), delivery_id=user)
    opened = {c.args["users"]: c.token for c in fake.calls_of("conversations.open")}
    assert opened == {"UA": "xoxb-ta-token", "UB": "xoxb-tb-token"}
    posted = {p.channel: (p.text, p.token) for p in fake.posts}
    assert posted == {
        fake.im_of("UA", "TA"): ("for UA", "xoxb-ta-token"),
        fake.im_of("UB", "TB"): ("for UB", "xoxb-tb-token"),
    }
    # A workspace's token cannot open a DM with someone of another workspace: Slack knows no such user there.
    with pytest.raises(PermanentDeliveryError, match="user_not_found"):
        await served.adapter.send(ChannelRef.dm(Platform.SLACK, "TA", "UB"), TextReply("astray"))
    assert len(fake.posts) == 2
