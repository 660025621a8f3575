"""The real pyzotero client against the loopback Zotero API: a library pushed to a group, idempotently."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from pyzotero import zotero_errors

from adapters.zotero import TAG, client, push_library, zotero_item
from tests.fakes.zotero import FIELDS, FakeZotero
from tests.shared_data import all_archive_papers


@pytest.fixture
async def fake() -> AsyncIterator[FakeZotero]:
    server = await FakeZotero(page=25).start()
    yield server
    await server.stop()


async def test_a_library_is_pushed_once_in_batches_and_a_second_push_adds_nothing(fake: FakeZotero) -> None:
    papers = list(all_archive_papers()[:60])
    zot = client(fake.group, fake.api_key, endpoint=fake.endpoint)
    first = await asyncio.to_thread(push_library, zot, papers)
    assert len(first.created) == 60 and first.already == [] and first.failed == []
    assert fake.writes == [50, 10], "at most 50 items per write"
    stored = {i["data"]["archiveID"]: i["data"] for i in fake.items}
    assert set(stored) == {f"arXiv:{p.id}" for p in papers}
    one = stored[f"arXiv:{papers[0].id}"]
    assert one["itemType"] == "preprint" and one["repository"] == "arXiv" and {"tag": TAG} in one["tags"]
    assert one["DOI"] == f"10.48550/arXiv.{papers[0].id}" and one["title"] == " ".join(papers[0].title.split())
    # Again, with two more papers saved since: only those two are added (the listing is read in pages).
    more = [*papers, *all_archive_papers()[60:62]]
    again = await asyncio.to_thread(push_library, client(fake.group, fake.api_key, endpoint=fake.endpoint), more)
    assert len(again.already) == 60 and sorted(again.created) == sorted(p.id for p in more[60:])
    assert len(fake.items) == 62 and fake.writes == [50, 10, 2]


async def test_a_wrong_key_or_group_changes_nothing(fake: FakeZotero) -> None:
    papers = list(all_archive_papers()[:3])
    for group, key in ((fake.group, "wrong-key"), ("999", fake.api_key)):
        with pytest.raises(zotero_errors.PyZoteroError):
            await asyncio.to_thread(push_library, client(group, key, endpoint=fake.endpoint), papers)
    assert fake.items == []


def test_items_use_only_zotero_preprint_fields() -> None:
    hostile = replace(
        all_archive_papers()[0], title="  A\\ttitle  }{ with <script> ", authors=("Plato", " Ada  Lovelace ")
    )
    item = zotero_item(hostile)
    assert set(item) <= FIELDS
    assert item["creators"] == [
        {"creatorType": "author", "name": "Plato"},
        {"creatorType": "author", "firstName": "Ada", "lastName": "Lovelace"},
    ]
