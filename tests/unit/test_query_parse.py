"""The topic query parser: every construct, precedence, each error with its position, limits, robustness."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.query import (
    MAX_CLAUSES,
    MAX_DEPTH,
    MAX_QUERY_LENGTH,
    And,
    CategoryFilter,
    Field,
    Node,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    SourceFilter,
    Term,
    TopicQuery,
    Upvotes,
    format_query,
    parse,
)
from bot.types import Source


def root(text: str) -> Node:
    return parse(text).root


# ---------------------------------------------------------------------------------------------
# Constructs


def test_a_word_is_a_term() -> None:
    assert root("diffusion") == Term("diffusion")
    assert parse("diffusion") == TopicQuery("diffusion", Term("diffusion"))


def test_a_quoted_phrase_collapses_whitespace() -> None:
    assert root('"mixture   of experts"') == Phrase("mixture of experts")


def test_curly_quotes_from_chat_clients_are_quotes() -> None:
    assert root("\u201cmixture of experts\u201d") == Phrase("mixture of experts")


def test_juxtaposition_and_the_and_keyword_both_mean_and() -> None:
    assert root("moe routing") == And((Term("moe"), Term("routing")))
    assert root("moe AND routing") == root("moe routing")


def test_or_between_clauses() -> None:
    assert root('moe OR "mixture of experts"') == Or((Term("moe"), Phrase("mixture of experts")))


def test_or_binds_looser_than_and() -> None:
    assert root("a b OR c") == Or((And((Term("a"), Term("b"))), Term("c")))
    assert root("a OR b c") == Or((Term("a"), And((Term("b"), Term("c")))))


def test_parentheses_group() -> None:
    assert root("a (b OR c)") == And((Term("a"), Or((Term("b"), Term("c")))))


def test_operators_are_case_insensitive() -> None:
    assert root("a or b") == root("a OR b")
    assert root("a and not b") == And((Term("a"), Not(Term("b"))))


def test_minus_and_not_exclude() -> None:
    assert root("llm -survey") == And((Term("llm"), Not(Term("survey"))))
    assert root("llm NOT survey") == root("llm -survey")
    assert root('-"world model"') == Not(Phrase("world model"))
    assert root("-(a OR b)") == Not(Or((Term("a"), Term("b"))))


def test_a_hyphen_inside_a_word_is_part_of_the_word() -> None:
    assert root("mixture-of-experts") == Term("mixture-of-experts")


def test_nested_same_operators_are_flattened() -> None:
    assert root("a (b c)") == And((Term("a"), Term("b"), Term("c")))
    assert root("(a OR b) OR c") == Or((Term("a"), Term("b"), Term("c")))


def test_text_fields() -> None:
    assert root('title:"model merging"') == Field("title", Phrase("model merging"))
    assert root("abstract:diffusion") == Field("abstract", Term("diffusion"))
    assert root("keyword:rlhf") == Field("keyword", Term("rlhf"))
    assert root("Keywords:rlhf") == Field("keyword", Term("rlhf"))
    assert root('author:"Yann LeCun"') == Field("author", Phrase("Yann LeCun"))
    assert root("author:lecun") == Field("author", Term("lecun"))


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("upvotes:>=20", Upvotes(">=", 20)),
        ("upvotes:>20", Upvotes(">", 20)),
        ("upvotes:<=5", Upvotes("<=", 5)),
        ("upvotes:<5", Upvotes("<", 5)),
        ("upvotes:=7", Upvotes("=", 7)),
        ("upvotes:20", Upvotes(">=", 20)),
        ("source:arxiv", SourceFilter(Source.ARXIV)),
        ("source:HF", SourceFilter(Source.HF)),
        ("category:cs.CL", CategoryFilter("cs.cl")),
        ("category:cs", CategoryFilter("cs")),
    ],
)
def test_filters(text: str, node: Node) -> None:
    assert root(text) == node


def test_a_realistic_query() -> None:
    q = parse('(moe OR "mixture of experts") -survey upvotes:>=20 category:cs.LG')
    assert q.root == And(
        (
            Or((Term("moe"), Phrase("mixture of experts"))),
            Not(Term("survey")),
            Upvotes(">=", 20),
            CategoryFilter("cs.lg"),
        )
    )
    assert q.canonical == '(moe OR "mixture of experts") -survey upvotes:>=20 category:cs.lg'


# ---------------------------------------------------------------------------------------------
# Errors: each one says what and where


@pytest.mark.parametrize(
    ("text", "problem", "position"),
    [
        ("", "empty query", 0),
        ("   ", "empty query", 0),
        ('moe "mixture of', "unclosed quote", 4),
        ('""', "empty phrase", 0),
        ("moe OR", "expected a term after OR", 6),
        ("moe OR )", "expected a term after OR", 7),
        ("OR moe", "OR needs a term before it", 0),
        ("moe AND", "expected a term after AND", 7),
        ("AND moe", "AND needs a term before it", 0),
        ("moe -", "expected a term after -", 5),
        ("moe NOT", "expected a term after NOT", 7),
        ("moe - survey", 'put "-" right before the word to exclude, like -survey', 4),
        ("(moe", "unclosed parenthesis", 0),
        ("(moe OR llm", "unclosed parenthesis", 0),
        ("moe)", "unmatched closing parenthesis", 3),
        (")", "unmatched closing parenthesis", 0),
        ("()", "empty parentheses", 0),
        ("titel:merging", 'unknown field "titel" (did you mean title?)', 0),
        ("moe autor:lecun", 'unknown field "autor" (did you mean author?)', 4),
        ("upvotes:abc", "upvotes needs a number like upvotes:>=20", 8),
        ("upvotes:", "upvotes needs a number like upvotes:>=20", 8),
        ("upvotes:>=", "upvotes needs a number like upvotes:>=20", 8),
        ("source:github", "source must be hf or arxiv, like source:arxiv", 7),
        ("category:!!", "category needs an arXiv category like category:cs.CL", 9),
        ("title: merging", 'title: needs a word or "a phrase" right after the colon', 6),
        ('author:"', "unclosed quote", 7),
        ("moe ???", 'no letters or digits in "???"', 4),
    ],
)
def test_errors_say_what_and_where(text: str, problem: str, position: int) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    assert info.value.problem == problem
    assert info.value.position == position


def test_error_message_points_at_the_problem() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("moe OR")
    assert str(info.value) == "expected a term after OR at position 7\nquery: moe OR\n             ^"


def test_unknown_field_without_a_close_match_lists_the_fields() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("zzzzz:1")
    assert "title" in info.value.problem and "upvotes" in info.value.problem


def test_query_length_limit() -> None:
    parse("a" * MAX_QUERY_LENGTH)
    with pytest.raises(QuerySyntaxError) as info:
        parse("a" * (MAX_QUERY_LENGTH + 1))
    assert "too long" in info.value.problem
    assert info.value.position == MAX_QUERY_LENGTH


def test_nesting_depth_limit() -> None:
    parse("(" * MAX_DEPTH + "a" + ")" * MAX_DEPTH)
    with pytest.raises(QuerySyntaxError) as info:
        parse("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    assert "nested too deeply" in info.value.problem
    assert info.value.position == MAX_DEPTH


def test_negation_depth_counts_too() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        parse("-" * (MAX_DEPTH + 1) + "a")
    assert "nested too deeply" in info.value.problem


def test_clause_limit() -> None:
    parse(" ".join(["a"] * MAX_CLAUSES))
    text = " ".join(["a"] * (MAX_CLAUSES + 1))
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    assert "too many terms" in info.value.problem
    assert info.value.position == 2 * MAX_CLAUSES


def test_syntax_error_is_a_value_error() -> None:
    # Callers that already catch ValueError for bad input keep working.
    with pytest.raises(ValueError, match="unclosed quote"):
        parse('"a')


# ---------------------------------------------------------------------------------------------
# Properties

_PIECES = st.sampled_from(
    [
        "moe", "llm", "diffusion", "bi-level", "Mixture-of-Experts", '"', '"mixture of experts"', "(", ")",
        "OR", "or", "AND", "NOT", "-", "--", "title:", "author:", "keyword:", "abstract:", "titel:", "upvotes:",
        "upvotes:>=20", "upvotes:5", "upvotes:<", "source:arxiv", "source:x", "category:cs.CL", "category:",
        "20", ">=", ":", "é", "\u201c", "\u201d", "!!", "-survey", "x:", "", "\t", "\n", "ü", "3DGS",
    ]
)  # fmt: skip
_grammarish = st.lists(_PIECES, max_size=30).map(" ".join) | st.lists(_PIECES, max_size=30).map("".join)


@given(st.text(max_size=400))
@settings(max_examples=500)
def test_any_text_parses_or_raises_only_syntax_errors(text: str) -> None:
    try:
        result = parse(text)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(text)
    else:
        assert isinstance(result, TopicQuery)


@given(_grammarish)
@settings(max_examples=1000)
def test_grammarish_text_parses_or_raises_only_syntax_errors(text: str) -> None:
    try:
        result = parse(text)
    except QuerySyntaxError as exc:
        assert 0 <= exc.position <= len(text)
        str(exc)
    else:
        assert isinstance(result, TopicQuery)


_words = st.sampled_from(["moe", "llm", "diffusion", "bi-level", "rl", "agents", "Yann", "cs.CL", "é"])
_leaves = st.one_of(
    _words.map(Term),
    st.lists(_words, min_size=1, max_size=3).map(lambda ws: Phrase(" ".join(ws))),
    st.tuples(st.sampled_from(["title", "abstract", "keyword", "author"]), _words.map(Term)).map(
        lambda fv: Field(fv[0], fv[1])
    ),
    st.tuples(st.sampled_from([">=", ">", "<=", "<", "="]), st.integers(0, 10**6)).map(lambda ov: Upvotes(*ov)),
    st.sampled_from(list(Source)).map(SourceFilter),
    st.sampled_from(["cs.cl", "cs", "stat.ml"]).map(CategoryFilter),
)


def _flat(kind: type[And] | type[Or], children: list[Node]) -> Node:
    out: list[Node] = []
    for child in children:
        out.extend(child.children if isinstance(child, kind) else (child,))
    return kind(tuple(out))


_trees = st.recursive(
    _leaves,
    lambda inner: st.one_of(
        inner.map(Not),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: _flat(And, cs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda cs: _flat(Or, cs)),
    ),
    max_leaves=12,
)


@given(_trees)
@settings(max_examples=500)
def test_formatting_a_query_and_parsing_it_gives_the_same_tree(tree: Node) -> None:
    text = format_query(tree)
    assert parse(text).root == tree
