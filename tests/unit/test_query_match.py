"""The exact matcher and its explanations, on real Daily Papers from the shared archive."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import textnorm
from bot.query import Match, candidate_phrases, match, parse
from bot.types import Paper, Source
from storage import Database
from tests.shared_data import archive_papers

FILES = ("daily_papers_2024-01.json", "daily_papers_2024-06.json", "daily_papers_2025-07.json")


def load_papers(*names: str) -> list[Paper]:
    """Real papers as the file source stores them."""
    return [p for name in names for p in archive_papers(name)]


@pytest.fixture(scope="module")
def papers() -> dict[str, Paper]:
    return {p.id: p for p in load_papers(*FILES)}


def m(query: str, paper: Paper) -> Match | None:
    return match(parse(query), paper)


DEEPSEEK_MOE = "2401.06066"  # "DeepSeekMoE: ... in Mixture-of-Experts Language Models", 62 upvotes
NILE_CHAT = "2507.04569"  # abstract says "MoE" but never "mixture of experts"
SELF_EXTEND = "2401.01325"  # keyword "bi-level attention"
CAMBRIAN = "2406.16860"  # Cambrian-1, an author is Yann LeCun


def test_acronym_matches_the_hyphenated_expansion_in_a_real_title(papers: dict[str, Paper]) -> None:
    result = m("moe", papers[DEEPSEEK_MOE])
    assert result == Match(("mixture of experts (title)",))


@pytest.mark.parametrize("query", ['"mixture of experts"', "Mixture-of-Experts", "mixture-of-experts", "MoE"])
def test_every_spelling_of_mixture_of_experts_matches(papers: dict[str, Paper], query: str) -> None:
    assert m(query, papers[DEEPSEEK_MOE]) is not None


def test_expansion_matches_a_paper_that_only_says_the_acronym(papers: dict[str, Paper]) -> None:
    paper = papers[NILE_CHAT]
    assert "mixture" not in paper.abstract.lower()
    result = m('"mixture of experts"', paper)
    assert result is not None
    assert result.reasons == ("moe (keywords)",)  # keywords are shown before the abstract
    assert m('abstract:"mixture of experts"', paper) == Match(("moe (abstract)",))


def test_acronym_inside_a_phrase_matches_the_expansion(papers: dict[str, Paper]) -> None:
    # The title says "Mixture-of-Experts Language Models"; the query says "moe language models".
    assert m('"moe language models"', papers[DEEPSEEK_MOE]) is not None


def test_bilevel_matches_bi_level_both_ways(papers: dict[str, Paper]) -> None:
    paper = papers[SELF_EXTEND]
    assert "bi-level" in " ".join(paper.ai_keywords)
    assert m("bilevel", paper) == Match(("bilevel (keywords)",))
    assert m("bi-level", paper) == Match(("bi-level (keywords)",))
    joined = replace(paper, title="A bilevel view", abstract="", ai_keywords=())
    assert m("bi-level", joined) == Match(("bi-level (title)",))  # the user's own words are quoted back
    assert m('"bi level"', joined) is None  # only hyphens join; two separate words stay two words


def test_plurals_and_stems_match(papers: dict[str, Paper]) -> None:
    paper = papers[DEEPSEEK_MOE]  # title: "... Language Models"
    assert m('"language model"', paper) is not None
    assert m("title:specializations", paper) is not None  # title has "Specialization"


def test_case_and_accents_are_folded() -> None:
    paper = Paper(id="1", title="Rényi Divergence for DIFFUSION", abstract="", authors=("José Núñez",))
    assert m("renyi diffusion", paper) is not None
    assert m("author:nunez", paper) == Match(("author: José Núñez",))


def test_author_matches_a_real_author_on_word_boundaries(papers: dict[str, Paper]) -> None:
    paper = papers[CAMBRIAN]
    assert "Yann LeCun" in paper.authors
    assert m('author:"Yann LeCun"', paper) == Match(("author: Yann LeCun",))
    assert m("author:lecun", paper) == Match(("author: Yann LeCun",))
    assert m("author:lecu", paper) is None  # a word-boundary match, not any substring
    assert m('author:"lecun yann"', paper) is None


def test_author_fields_are_not_acronym_expanded() -> None:
    paper = Paper(id="1", title="t", abstract="", authors=("Reinforcement Learning Group",))
    assert m("author:rl", paper) is None
    assert m("author:reinforcement", paper) is not None


def test_author_words_do_not_match_titles(papers: dict[str, Paper]) -> None:
    assert m("author:mixture", papers[DEEPSEEK_MOE]) is None


def test_upvote_filters(papers: dict[str, Paper]) -> None:
    paper = papers[DEEPSEEK_MOE]  # 62 upvotes
    assert paper.upvotes == 62
    assert m("moe upvotes:>=20", paper) == Match(("mixture of experts (title)", "upvotes ≥ 20"))
    assert m("upvotes:62", paper) is not None
    assert m("upvotes:63", paper) is None
    assert m("upvotes:>62", paper) is None
    assert m("upvotes:<=62", paper) is not None
    assert m("upvotes:<62", paper) is None
    assert m("upvotes:=62", paper) is not None


def test_exclusion(papers: dict[str, Paper]) -> None:
    paper = papers[DEEPSEEK_MOE]
    assert m("moe -deepseekmoe", paper) is None
    assert m("moe NOT survey", paper) is not None
    assert m("-survey", paper) == Match(("not survey",))


def test_or_explains_every_true_branch_and_and_needs_all(papers: dict[str, Paper]) -> None:
    paper = papers[DEEPSEEK_MOE]
    result = m('moe OR "expert specialization" OR diffusion', paper)
    assert result is not None
    assert result.reasons == ("mixture of experts (title)", "expert specialization (title)")
    assert m("moe diffusion", paper) is None


def test_explanations_are_deduplicated(papers: dict[str, Paper]) -> None:
    result = m("moe OR mixture-of-experts OR moe", papers[DEEPSEEK_MOE])
    assert result is not None
    assert len(result.reasons) == len(set(result.reasons))


def test_field_restrictions(papers: dict[str, Paper]) -> None:
    paper = papers[DEEPSEEK_MOE]
    assert m("title:moe", paper) == Match(("mixture of experts (title)",))
    assert m("keyword:gshard", paper) == Match(("gshard (keywords)",))
    assert m("title:gshard", paper) is None
    assert m("abstract:gshard", paper) is not None


def test_a_phrase_does_not_span_two_keywords() -> None:
    paper = Paper(id="1", title="t", abstract="", ai_keywords=("graph", "transformer"))
    assert m('"graph transformer"', paper) is None
    assert m("graph transformer", paper) is not None


def test_source_and_category_filters() -> None:
    paper = Paper(id="1", title="t", abstract="", sources=(Source.ARXIV,), categories=("cs.CL", "cs.LG"))
    assert m("source:arxiv", paper) == Match(("source: arxiv",))
    assert m("source:hf", paper) is None
    assert m("category:cs.cl", paper) == Match(("category: cs.CL",))
    assert m("category:CS", paper) is not None
    assert m("category:cs.cv", paper) is None
    assert m("category:c", paper) is None


def test_withdrawn_papers_still_evaluate(papers: dict[str, Paper]) -> None:
    assert m("moe", replace(papers[DEEPSEEK_MOE], withdrawn=True)) is not None


# ---------------------------------------------------------------------------------------------
# candidate_phrases: storage's full-text prefilter never loses a match

QUERIES = [
    "moe",
    '"mixture of experts"',
    "llm agents",
    "diffusion -survey",
    "rl OR rlhf OR dpo",
    "bi-level OR bilevel",
    'title:"language model"',
    "(vit OR cnn) classification",
    "3dgs",
    '"chain of thought" reasoning',
    "keyword:lora",
    "video generation upvotes:>=10",
    "sft OR peft",
    "author:lecun OR nerf",
    "multi-modal",
    '"multimodal llm"',
    "tts OR asr",
    "speech -(tts OR asr)",
]


def _stemmed_text(paper: Paper) -> list[tuple[str, ...]]:
    fields = [paper.title, paper.abstract, *paper.ai_keywords]
    return [seq for f in fields for seq in textnorm.stemmed_views(f)]


def test_candidate_phrases_shape() -> None:
    assert candidate_phrases(parse("upvotes:>=50")) is None
    assert candidate_phrases(parse("-survey")) is None
    assert candidate_phrases(parse("author:lecun")) is None
    assert candidate_phrases(parse("author:lecun OR moe")) is None
    phrases = candidate_phrases(parse("Mixture-of-Experts"))
    assert phrases is not None
    assert ("mixture", "of", "experts") in phrases and ("moe",) in phrases and ("mixtureofexperts",) in phrases
    assert candidate_phrases(parse("moe upvotes:>=20")) == candidate_phrases(parse("moe"))
    assert candidate_phrases(parse("bi-level")) == [("bi", "level"), ("bilevel",)]


@pytest.mark.parametrize("query", QUERIES)
def test_every_match_contains_a_candidate_phrase(papers: dict[str, Paper], query: str) -> None:
    q = parse(query)
    phrases = candidate_phrases(q)
    matched = [p for p in papers.values() if match(q, p) is not None]
    if phrases is None:
        return
    stemmed = [tuple(textnorm.stem(w) for w in phrase) for phrase in phrases]
    for paper in matched:
        seqs = _stemmed_text(paper)
        assert any(textnorm.contains(seq, phrase) for seq in seqs for phrase in stemmed), (query, paper.id)


def test_candidate_phrases_are_plain_lowercase_words() -> None:
    for query in QUERIES:
        for phrase in candidate_phrases(parse(query)) or []:
            assert phrase and all(w == w.lower() and w.isalnum() for w in phrase)


def test_queries_in_the_guarantee_test_do_match_real_papers(papers: dict[str, Paper]) -> None:
    # Guard against a vacuous guarantee test: most of these queries find something in the archive.
    found = sum(1 for q in QUERIES if any(match(parse(q), p) for p in papers.values()))
    assert found >= len(QUERIES) - 3


_GUARANTEE_WORDS = [
    "moe", "llm", "llms", "rl", "rlhf", "vit", "3dgs", "lora", "diffusion", "video", "agent", "reasoning",
    "bi-level", "multi-modal", "Mixture-of-Experts", "fine-tuning", "benchmark", "survey", "speech", "zzzz",
]  # fmt: skip
_guarantee_leaf = st.one_of(
    st.sampled_from(_GUARANTEE_WORDS),
    st.lists(st.sampled_from(_GUARANTEE_WORDS), min_size=2, max_size=3).map(lambda ws: '"' + " ".join(ws) + '"'),
    st.sampled_from(["title:", "abstract:", "keyword:", "-", "author:"]).flatmap(
        lambda prefix: st.sampled_from(_GUARANTEE_WORDS).map(lambda w: prefix + w)
    ),
    st.sampled_from(["upvotes:>=10", "upvotes:<5"]),
)
_guarantee_query = st.recursive(
    _guarantee_leaf,
    lambda inner: st.lists(inner, min_size=2, max_size=3).flatmap(
        lambda parts: st.sampled_from([" ", " OR "]).map(lambda op: "(" + op.join(parts) + ")")
    ),
    max_leaves=6,
)


class StoredPapers:
    """The module's papers in a real SQLite `Database`, queried through `Database.papers` as search does."""

    def __init__(self, path: Path, papers: list[Paper]) -> None:
        self._loop = asyncio.Runner()
        self.db: Database = self._loop.run(Database.connect(f"sqlite+aiosqlite:///{path}"))
        self._loop.run(self.db.upgrade())
        self._loop.run(self.db.papers.upsert(papers, seen_at=datetime(2026, 1, 1, tzinfo=UTC)))
        self.size = len(papers)

    def full_text(self, phrases: list[tuple[str, ...]]) -> set[str]:
        """Every paper the production full-text prefilter returns for `phrases` (the whole window)."""
        window = self._loop.run(self.db.papers.search_window(phrases, self.size))
        assert len(window.candidates) == window.total  # the window held every full-text match
        return {paper.id for paper, _ in window.candidates}

    def close(self) -> None:
        self._loop.run(self.db.close())
        self._loop.close()


@pytest.fixture(scope="module")
def stored(papers: dict[str, Paper], tmp_path_factory: pytest.TempPathFactory) -> Iterator[StoredPapers]:
    store = StoredPapers(tmp_path_factory.mktemp("fts") / "papers.db", list(papers.values()))
    yield store
    store.close()


@given(_guarantee_query)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_generated_queries_never_match_outside_the_stored_full_text_candidates(
    papers: dict[str, Paper], stored: StoredPapers, text: str
) -> None:
    # The storage contract search relies on: whatever `match` accepts, storage's own full-text index
    # (FTS5 over what `PaperRepository.upsert` indexes, queried with `fts5_match`) returns.
    assert_full_text_finds_every_match(papers, stored, text)


@pytest.mark.parametrize("query", QUERIES)
def test_storage_full_text_finds_every_match_from_the_candidate_phrases(
    papers: dict[str, Paper], stored: StoredPapers, query: str
) -> None:
    assert_full_text_finds_every_match(papers, stored, query, expect_matches=True)


def assert_full_text_finds_every_match(
    papers: dict[str, Paper], stored: StoredPapers, text: str, *, expect_matches: bool = False
) -> None:
    q = parse(text)
    phrases = candidate_phrases(q)
    if phrases is None:
        return
    matched = {p.id for p in papers.values() if match(q, p) is not None}
    assert matched or not expect_matches, text
    missed = matched - stored.full_text(phrases)
    assert not missed, (text, sorted(missed)[:5])
