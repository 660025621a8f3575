"""PaperIndex answers exactly like match(), on real papers and generated queries."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.acronyms import ACRONYMS
from bot.query import (
    And,
    CategoryFilter,
    Field,
    Node,
    Not,
    Or,
    Phrase,
    SourceFilter,
    Term,
    TopicQuery,
    Upvotes,
    format_query,
    match,
    parse,
)
from bot.topic_index import PaperIndex
from bot.types import Paper, Source
from tests.shared_data import archive_papers


def _load(name: str, limit: int) -> list[Paper]:
    # Real HF papers carry no source/category mix; vary them so the filters are exercised.
    return [
        replace(
            p,
            sources=(Source.HF,) if i % 3 else (Source.HF, Source.ARXIV),
            categories=(("cs.CL",), ("cs.LG", "stat.ML"), ("cs.CV",), ())[i % 4],
        )
        for i, p in enumerate(archive_papers(name, limit))
    ]


PAPERS = _load("daily_papers_2024-06.json", 120) + _load("daily_papers_2025-07.json", 80)
INDEX = PaperIndex(PAPERS)


def _expected(query: TopicQuery) -> frozenset[str]:
    return frozenset(p.id for p in PAPERS if match(query, p) is not None)


# Vocabulary drawn from the papers themselves, so generated queries hit as well as miss.
_KEYWORDS = sorted({kw for p in PAPERS for kw in p.ai_keywords[:3]})[:300]
_WORDS = sorted({w for kw in _KEYWORDS for w in kw.split() if w.isalpha()})[:300]
_AUTHORS = sorted({a for p in PAPERS for a in p.authors[:2]})[:100]

_word = st.sampled_from([*_WORDS, *ACRONYMS, "bi-level", "Mixture-of-Experts", "llms", "zzzz"])
_text_value = st.one_of(_word.map(Term), st.sampled_from(_KEYWORDS).map(lambda k: Phrase(" ".join(k.split()))))
_leaves = st.one_of(
    _text_value,
    _text_value,
    st.tuples(st.sampled_from(["title", "abstract", "keyword"]), _text_value).map(lambda fv: Field(*fv)),
    st.sampled_from(_AUTHORS).map(lambda a: Field("author", Phrase(" ".join(a.split())))),
    st.sampled_from(_AUTHORS).map(lambda a: Field("author", Term(a.split()[-1]))),
    st.tuples(st.sampled_from([">=", ">", "<=", "<", "="]), st.integers(0, 60)).map(lambda ov: Upvotes(*ov)),
    st.sampled_from(list(Source)).map(SourceFilter),
    st.sampled_from(["cs.cl", "cs", "stat.ml", "cs.cv"]).map(CategoryFilter),
)
_trees = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: And(tuple(cs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: Or(tuple(cs))),
    ),
    max_leaves=8,
)


@given(_trees)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_index_equals_match_on_generated_queries(tree: Node) -> None:
    query = TopicQuery(format_query(tree), tree)
    assert INDEX.evaluate(query) == _expected(query)


@pytest.mark.parametrize(
    "text",
    [
        "moe",
        '"mixture of experts"',
        "llm agents -survey",
        "bi-level OR bilevel",
        "(rl OR rlhf) upvotes:>=10",
        'title:"language model"',
        "author:zhang",
        "-diffusion",
        "video generation OR 3dgs",
        "keyword:lora OR sft",
        "source:arxiv category:cs",
        '"multimodal llm"',
    ],
)
def test_index_equals_match_on_hand_written_queries(text: str) -> None:
    query = parse(text)
    expected = _expected(query)
    assert INDEX.evaluate(query) == expected


def test_hand_written_queries_are_not_vacuous() -> None:
    # The equivalence above would hold trivially if nothing matched.
    assert len(INDEX.evaluate(parse("llm"))) > 20
    assert 0 < len(INDEX.evaluate(parse('"mixture of experts"'))) < len(PAPERS)


def test_evaluate_many_keeps_order_and_shares_identical_queries() -> None:
    queries = [parse("moe"), parse("diffusion"), parse("moe"), parse("MoE")]
    results = INDEX.evaluate_many(queries)
    assert results[0] == results[2] == results[3] == _expected(queries[0])
    assert results[1] == _expected(queries[1])
    assert results[0] is results[2]  # computed once


def test_an_empty_index_matches_nothing() -> None:
    assert PaperIndex([]).evaluate(parse("-survey")) == frozenset()
