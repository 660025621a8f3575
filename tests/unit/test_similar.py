"""More like this: TF-IDF over the stored corpus finds related work that shares no keyword."""

from __future__ import annotations

import asyncio

from bot.query import match, parse
from bot.similar import MoreLikeThis, SimilarityIndex, paper_text, terms
from bot.types import Paper
from tests.shared_data import all_archive_papers

SPLATTING = Paper(
    id="2501.00001",
    title="Real-time radiance field rendering with anisotropic Gaussian splatting",
    abstract="We render radiance fields in real time by splatting anisotropic 3D Gaussians onto the image plane.",
    ai_keywords=("3D Gaussian Splatting",),
)
# Shares no AI keyword with SPLATTING, and no keyword query built from its keywords matches it.
RELATED = Paper(
    id="2501.00002",
    title="Compressing splatted Gaussians for radiance field streaming",
    abstract="Anisotropic Gaussians make radiance fields render in real time; we compress them for streaming.",
    ai_keywords=("scene compression", "streaming"),
)
UNRELATED = Paper(
    id="2501.00003",
    title="Tokenizer-free language models for low-resource speech",
    abstract="We train language models directly on bytes of transcribed speech in low-resource languages.",
    ai_keywords=("byte-level language model",),
)


def index_of(papers: list[Paper]) -> SimilarityIndex:
    return SimilarityIndex((p.id, paper_text(p)) for p in papers)


def test_related_work_that_shares_no_keyword_is_found_first_and_explained() -> None:
    background = list(all_archive_papers()[:500])
    index = index_of([SPLATTING, RELATED, UNRELATED, *background])
    keyword = parse('keyword:"3D Gaussian Splatting"')
    assert match(keyword, RELATED) is None, "the keyword `similar` cannot find it"
    found = index.like(paper_text(SPLATTING), exclude=SPLATTING.id, limit=5)
    assert found[0].paper_id == RELATED.id
    assert SPLATTING.id not in [r.paper_id for r in found]
    assert UNRELATED.id not in [r.paper_id for r in found]
    topical = {"radiance", "gaussian", "gaussians", "anisotropic", "splatting", "splatted", "field", "real", "time"}
    assert set(found[0].shared) <= topical
    assert found[0].shared, "every result says which words it shares"
    scores = [r.score for r in found]
    assert scores == sorted(scores, reverse=True)


def test_a_paper_not_yet_indexed_is_scored_from_its_own_text() -> None:
    index = index_of([RELATED, UNRELATED, *all_archive_papers()[:200]])
    found = index.like(paper_text(SPLATTING), exclude=SPLATTING.id, limit=3)
    assert found[0].paper_id == RELATED.id


def test_text_with_no_known_word_finds_nothing() -> None:
    index = index_of([RELATED, UNRELATED])
    assert index.like("zzzq qqqz", exclude="", limit=5) == []
    assert index.like("", exclude="", limit=5) == []
    assert list(terms("The of and a 2024")) == []


def test_every_archive_paper_finds_papers_on_its_own_subject() -> None:
    papers = list(all_archive_papers()[:3000])
    index = index_of(papers)
    for paper in papers[:50]:
        found = index.like(paper_text(paper), exclude=paper.id, limit=10)
        assert paper.id not in [r.paper_id for r in found]
        assert len(found) == 10
        assert all(r.shared for r in found)


async def test_the_index_builds_from_storage_once_and_serves_what_it_stored() -> None:
    class Store:
        generation = 0
        calls = 0

        async def corpus(self) -> list[tuple[str, str]]:
            Store.calls += 1
            return [(p.id, paper_text(p)) for p in (SPLATTING, RELATED, UNRELATED)]

    related = MoreLikeThis(Store())  # type: ignore[arg-type]
    first = await related.like(SPLATTING, limit=2)
    again = await related.like(SPLATTING, limit=2)
    assert first is not None and again is not None
    assert [r.paper_id for r in first] == [r.paper_id for r in again]
    assert first[0].paper_id == RELATED.id
    assert Store.calls == 1, "an unchanged store is indexed once"
    Store.generation = 1  # this process stored papers: the next call rebuilds in the background
    stale = await related.like(SPLATTING, limit=2)
    assert stale is not None and [r.paper_id for r in stale] == [r.paper_id for r in first], "the old one serves"
    await related.settle()
    assert Store.calls == 2
    await related.like(SPLATTING, limit=2)
    await related.close()
    assert Store.calls == 2, "a rebuilt index is fresh until the store changes again"


async def test_a_call_does_not_wait_long_for_the_first_build() -> None:
    release = asyncio.Event()

    class SlowStore:
        generation = 0

        async def corpus(self) -> list[tuple[str, str]]:
            await release.wait()
            return [(p.id, paper_text(p)) for p in (SPLATTING, RELATED, UNRELATED)]

    related = MoreLikeThis(SlowStore(), first_wait=0.01)  # type: ignore[arg-type]
    assert await related.like(SPLATTING, limit=2) is None, "not built yet: the caller answers another way"
    release.set()
    await related.settle()
    found = await related.like(SPLATTING, limit=2)
    assert found is not None and found[0].paper_id == RELATED.id
    await related.close()
