from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from adapters.discord.invite import invite_url


def test_invite_url_asks_for_exactly_what_paperboy_needs() -> None:
    url = urlsplit(invite_url("1457469483726668048"))
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["1457469483726668048"]
    assert query["scope"] == ["bot applications.commands"]
    permissions = discord.Permissions(int(query["permissions"][0]))
    assert permissions.value == 309237730304
    assert {name for name, on in permissions if on} == {
        "read_messages",
        "send_messages",
        "embed_links",
        "send_messages_in_threads",
        "create_public_threads",
        "read_message_history",
    }
    assert permissions.view_channel  # discord.py iterates it under its alias read_messages
    assert not permissions.mention_everyone and not permissions.administrator


def test_invite_url_rejects_a_non_numeric_id() -> None:
    with pytest.raises(ValueError, match="number"):
        invite_url("paperboy")


def test_manage_channels_is_asked_for_only_as_the_opt_in_for_forum_tags() -> None:
    plain = discord.Permissions(int(parse_qs(urlsplit(invite_url("1")).query)["permissions"][0]))
    tags = discord.Permissions(int(parse_qs(urlsplit(invite_url("1", forum_tags=True)).query)["permissions"][0]))
    assert not plain.manage_channels and tags.manage_channels
    assert tags.value == plain.value | discord.Permissions(manage_channels=True).value
    # Publishing its own posts in an announcement channel needs no Manage Messages.
    assert not plain.manage_messages and not tags.manage_messages
