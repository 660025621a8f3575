"""Exports: BibTeX that bibtexparser (1.x) reads back field for field, RIS, CSL-JSON, on the shared archive."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from bot.exports import ExportFormat, bib_value, bibtex, csl_json, export, ris
from bot.types import Paper
from tests.golden import read_bibtex
from tests.shared_data import all_archive_papers

HOSTILE_TITLE = "Closing } early, opening { never, \\input{/etc/passwd} 100% & #1 $x_i$ @misc{evil,"


def hostile() -> Paper:
    return Paper(
        id="2501.00001",
        title=HOSTILE_TITLE,
        abstract="An abstract }\n@article{injected, title={x}}\nTY  - JOUR",
        authors=("Ada } Lovelace", "Grace Hopper"),
        published_at=datetime(2025, 1, 2, tzinfo=UTC),
        categories=("cs.LG",),
    )


def test_bibtex_of_the_shared_archive_reads_back_with_arxiv_fields() -> None:
    papers = list(all_archive_papers()[:2000])
    entries = read_bibtex(bibtex(papers))
    assert len(entries) == len(papers), "every entry reads back"
    keys = [e["ID"] for e in entries]
    assert len(set(keys)) == len(keys), "keys are unique within a file"
    for entry, paper in zip(entries, papers, strict=True):
        assert entry["ENTRYTYPE"] == "misc"
        assert entry["eprint"] == paper.id
        assert entry["archiveprefix"] == "arXiv"
        assert entry["doi"] == f"10.48550/arXiv.{paper.id}"
        assert entry["author"].count(" and ") == max(0, len([a for a in paper.authors if a.strip()]) - 1)
        if paper.categories:
            assert entry["primaryclass"] == paper.categories[0]


def test_hostile_text_cannot_break_out_of_its_bibtex_field() -> None:
    text = bibtex([hostile(), all_archive_papers()[0]])
    entries = read_bibtex(text)
    assert [e["eprint"] for e in entries] == ["2501.00001", all_archive_papers()[0].id]
    assert "\\input" not in text and "evil" in entries[0]["title"]
    assert bib_value("a } b { c") == "a  b  c"
    assert bib_value("{kept} {") == "{kept} "


def test_ris_has_one_record_per_paper_and_no_injected_tags() -> None:
    text = ris([hostile(), all_archive_papers()[0]])
    lines = text.splitlines()
    assert sum(1 for line in lines if line.startswith("TY  - ")) == 2
    assert sum(1 for line in lines if line == "ER  - ") == 2
    assert "TY  - JOUR" not in lines
    assert "AU  - Grace Hopper" in lines and "M1  - arXiv:2501.00001" in lines


def test_csl_json_items_carry_what_citeproc_needs() -> None:
    papers = [hostile(), replace(all_archive_papers()[0], published_at=None)]
    items = json.loads(csl_json(papers))
    assert [i["id"] for i in items] == ["arXiv:2501.00001", f"arXiv:{papers[1].id}"]
    assert all(i["type"] == "article" and i["title"] and i["DOI"].startswith("10.48550/") for i in items)
    assert items[0]["author"][1] == {"family": "Hopper", "given": "Grace"}
    assert items[0]["issued"] == {"date-parts": [[2025, 1, 2]]}


def test_every_format_exports_an_empty_library() -> None:
    assert export([], ExportFormat.BIBTEX) == ""
    assert export([], ExportFormat.RIS) == ""
    assert json.loads(export([], ExportFormat.CSLJSON)) == []
