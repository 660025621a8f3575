"""FirstThatKnows: the Hub's record first, arXiv's when the Hub does not know the paper or is down."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.errors import SourceError
from bot.sources.fallback import FirstThatKnows
from bot.types import Paper, Source


@dataclass
class Known:
    """A source that knows some papers, or fails every call (a stand-in for our own port, not a client)."""

    papers: dict[str, Paper] = field(default_factory=dict)
    down: bool = False
    asked: list[str] = field(default_factory=list)

    async def paper(self, arxiv_id: str) -> Paper | None:
        self.asked.append(arxiv_id)
        if self.down:
            raise SourceError("down")
        return self.papers.get(arxiv_id)

    async def search(self, query: str, limit: int = 20) -> list[Paper]:
        return list(self.papers.values())[:limit]


def paper(arxiv_id: str, source: Source) -> Paper:
    return Paper(id=arxiv_id, title=f"Paper {arxiv_id}", abstract="", authors=(), sources=(source,))


async def test_the_hub_answers_first_and_arxiv_is_not_asked() -> None:
    hub, arxiv = Known({"2501.00001": paper("2501.00001", Source.HF)}), Known()
    found = await FirstThatKnows([hub, arxiv]).paper("2501.00001")
    assert found is not None and found.sources == (Source.HF,) and arxiv.asked == []


async def test_arxiv_answers_for_a_paper_the_hub_never_listed() -> None:
    hub, arxiv = Known(), Known({"2501.00002": paper("2501.00002", Source.ARXIV)})
    found = await FirstThatKnows([hub, arxiv]).paper("2501.00002")
    assert found is not None and found.sources == (Source.ARXIV,) and hub.asked == ["2501.00002"]


async def test_a_hub_outage_falls_through_to_arxiv() -> None:
    hub, arxiv = Known(down=True), Known({"2501.00003": paper("2501.00003", Source.ARXIV)})
    found = await FirstThatKnows([hub, arxiv]).paper("2501.00003")
    assert found is not None and found.id == "2501.00003"


async def test_unknown_everywhere_is_none_but_failing_everywhere_is_an_error() -> None:
    assert await FirstThatKnows([Known(), Known(down=True)]).paper("2501.00004") is None
    with pytest.raises(SourceError):
        await FirstThatKnows([Known(down=True), Known(down=True)]).paper("2501.00004")


async def test_search_is_the_first_sources() -> None:
    hub = Known({"2501.00005": paper("2501.00005", Source.HF)})
    assert [p.id for p in await FirstThatKnows([hub, Known()]).search("x")] == ["2501.00005"]
