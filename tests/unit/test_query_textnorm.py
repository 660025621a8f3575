"""Shared text normalisation: what counts as the same word for queries, the matcher and the index."""

from __future__ import annotations

import sqlite3

from bot import textnorm
from bot.acronyms import ACRONYMS


def test_fold_lowercases_and_strips_accents() -> None:
    assert textnorm.fold("Rényi NÚÑEZ Straße") == "renyi nunez strasse"


def test_hyphenated_compounds_have_a_split_and_a_joined_view() -> None:
    assert textnorm.views("Bi-level Mixture-of-Experts models") == (
        ("bi", "level", "mixture", "of", "experts", "models"),
        ("bilevel", "mixtureofexperts", "models"),
    )
    assert textnorm.views("no compounds here") == (("no", "compounds", "here"),)


def test_punctuation_and_underscores_separate_words_like_fts5() -> None:
    assert textnorm.words("Qwen2.5-VL: snake_case (GPT-4o)") == ["qwen2", "5", "vl", "snake", "case", "gpt", "4o"]


def test_stemming_is_porter_and_folds_plurals() -> None:
    assert textnorm.stemmed_views("Experts LLMs networks") == (("expert", "llm", "network"),)


def test_contains_finds_consecutive_words_only() -> None:
    seq = ("a", "b", "c", "b", "d")
    assert textnorm.contains(seq, ("b", "d"))
    assert textnorm.contains(seq, ("c",))
    assert not textnorm.contains(seq, ("a", "c"))
    assert not textnorm.contains(seq, ())
    assert not textnorm.contains(("a",), ("a", "b"))


def test_searchable_text_lets_fts5_find_joined_forms() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(body, tokenize='porter unicode61')")
    db.execute("INSERT INTO docs VALUES (?)", (textnorm.searchable_text("Multi-modal LLMs with bi-level routing"),))
    for phrase in ('"multimodal llm"', '"bilevel routing"', '"multi modal llms"', "bilevel"):
        assert db.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (phrase,)).fetchone()[0] == 1, phrase
    assert textnorm.searchable_text("plain text") == "plain text"


def test_acronym_table_is_small_lowercase_and_expands_to_several_words() -> None:
    assert 20 <= len(ACRONYMS) <= 40
    for acronym, expansion in ACRONYMS.items():
        assert acronym == acronym.lower() and len(textnorm.words(acronym)) == 1
        assert len(textnorm.words(expansion)) >= 2
