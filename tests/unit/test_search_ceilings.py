"""The bounds the search stops on hold for every real paper: no paper ever scores above its ceiling.

`bot.search` skips a block, a hit or a whole walk on these bounds, so one that is too low would silently
drop a paper from the top 10. Checked on every paper of November 2025 against every query below.
"""

from __future__ import annotations

from datetime import date

from bot.query import candidate_phrases, parse
from bot.ranking import ABSTRACT_ONLY_RELEVANCE, ceiling, rank_papers, relevance
from bot.search import _Visit
from bot.types import BlockHit, Paper
from tests.storage.archive import load

TODAY = date(2025, 12, 1)
QUERIES = [
    "llm",
    "diffusion",
    'moe OR "mixture of experts"',
    '"video generation"',
    "agent -survey",
    "reasoning benchmark",
    'title:"world model"',
    "keyword:quantization",
    "abstract:robot",
    "multimodal",
    "multi-modal",
    "dpo OR rlhf",
    'author:"Wang" diffusion',
]


def test_no_paper_scores_above_its_ceiling_or_below_what_its_title_and_keywords_rule_out() -> None:
    papers = list({p.id: p for p in load()}.values())
    checked = cut_checked = 0
    for text in QUERIES:
        query = parse(text)
        phrases = candidate_phrases(query)
        assert phrases is not None
        visit = _Visit(query, phrases, TODAY, 10)
        for listed in rank_papers(query, papers, today=TODAY):
            paper, score = listed.paper, listed.score or 0.0
            day = paper.first_featured or (paper.published_at.date() if paper.published_at else None)
            bound = ceiling(paper.upvotes, day, TODAY)
            assert score <= bound + 1e-9, (text, paper.id)
            if visit.title_decides:
                hit = BlockHit(0, paper.upvotes, day, paper.title, " ; ".join(paper.ai_keywords))
                cut = visit.cut(hit)
                assert score <= bound - cut + 1e-9, (text, paper.id, cut)
                cut_checked += cut > 0
            checked += 1
    assert checked > 500 and cut_checked > 200, (checked, cut_checked)


def test_relevance_is_full_for_a_title_mention_and_bounded_from_the_abstract_alone() -> None:
    query = parse("diffusion")
    titled = Paper(id="t", title="Diffusion policies for robots", abstract="We study control.")
    abstract_only = Paper(id="a", title="Policies", abstract=" ".join(["diffusion"] * 40))
    assert relevance(query, titled) == 1.0
    assert 0.25 < relevance(query, abstract_only) <= ABSTRACT_ONLY_RELEVANCE
    assert relevance(query, Paper(id="n", title="Graphs", abstract="Nothing here.")) == 0.0
