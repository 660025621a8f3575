"""A channel's papers as files reference managers read: BibTeX, RIS and CSL-JSON.

Pure functions from papers to text, shared by `/papers export` and `paperboy export`. Paper text is
untrusted and these formats have their own syntax, so every value is made safe for its format here:

- BibTeX: braces are balanced per value (an unbalanced one is dropped, so a title can never close its
  field or open the next entry), `\\` is dropped (no LaTeX command can be smuggled in) and `%`, `&`, `#`,
  `$`, `_` are escaped. arXiv papers get `eprint`, `archivePrefix` and `primaryClass` (biblatex and
  the arXiv's own export use these names), and keys are `<surname><year><first title word>`, unique
  within a file.
- RIS: one tag per line, so line breaks inside values become spaces.
- CSL-JSON: JSON, which escapes itself; `type` "article" with the arXiv id as `number` and the DOI arXiv
  registers for every paper (10.48550/arXiv.<id>).
"""

from __future__ import annotations

import enum
import json
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime

from bot.types import Paper


class ExportFormat(enum.StrEnum):
    BIBTEX = "bibtex"
    RIS = "ris"
    CSLJSON = "csljson"

    @property
    def extension(self) -> str:
        return {"bibtex": "bib", "ris": "ris", "csljson": "json"}[self.value]

    @property
    def mime_type(self) -> str:
        return {
            "bibtex": "application/x-bibtex",
            "ris": "application/x-research-info-systems",
            "csljson": "application/vnd.citationstyles.csl+json",
        }[self.value]


def export(papers: Sequence[Paper], fmt: ExportFormat) -> str:
    """`papers`, in the order given, as one file of format `fmt`."""
    match fmt:
        case ExportFormat.BIBTEX:
            return bibtex(papers)
        case ExportFormat.RIS:
            return ris(papers)
        case ExportFormat.CSLJSON:
            return csl_json(papers)


def doi(paper: Paper) -> str:
    """The DOI arXiv registers for every paper (DataCite, since 2022)."""
    return f"10.48550/arXiv.{paper.id}"


def _year(paper: Paper) -> int | None:
    if paper.published_at is not None:
        return paper.published_at.year
    if paper.featured_days:
        return min(paper.featured_days).year
    return None


def _published(paper: Paper) -> datetime | None:
    return paper.published_at


def _plain(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# BibTeX

_BIB_SPECIAL = re.compile(r"([%&#$_])")
_KEY_WORD = re.compile(r"[A-Za-z0-9]+")


def bib_value(text: str) -> str:
    """`text` safe inside a braced BibTeX value: no LaTeX command, balanced braces, specials escaped."""
    text = _plain(text).replace("\\", "")
    text = _BIB_SPECIAL.sub(r"\\\1", text)
    kept: list[str] = []
    depth = 0
    opened: list[int] = []
    for char in text:
        if char == "{":
            depth += 1
            opened.append(len(kept))
        elif char == "}":
            if depth == 0:
                continue  # a closing brace with nothing open would end the field
            depth -= 1
            opened.pop()
        kept.append(char)
    for position in reversed(opened):  # braces never closed would swallow the rest of the file
        del kept[position]
    return "".join(kept)


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = _KEY_WORD.findall(folded)
    return words[0].lower() if words else ""


def _surname(author: str) -> str:
    parts = _plain(author).split(" ")
    return parts[-1] if parts else ""


def bib_key(paper: Paper) -> str:
    """`vaswani2017attention`-style: first author's surname, year, first title word of four letters or more."""
    surname = _ascii_word(_surname(paper.authors[0])) if paper.authors else ""
    words = [w.lower() for w in _KEY_WORD.findall(unicodedata.normalize("NFKD", paper.title)) if len(w) >= 4]
    year = _year(paper)
    key = f"{surname or 'arxiv'}{year or ''}{words[0] if words else ''}"
    return key if key != "arxiv" else f"arxiv{paper.id.replace('.', '_').replace('/', '_')}"


def _unique_keys(papers: Sequence[Paper]) -> list[str]:
    keys: list[str] = []
    seen: dict[str, int] = {}
    for paper in papers:
        key = bib_key(paper)
        count = seen.get(key, 0)
        seen[key] = count + 1
        # "a", "b", ... after the first, as BibTeX styles do for one author's papers of one year.
        keys.append(key if count == 0 else f"{key}{_suffix(count)}")
    return keys


def _suffix(n: int) -> str:
    letters = ""
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def bibtex(papers: Sequence[Paper]) -> str:
    entries = []
    for paper, key in zip(papers, _unique_keys(papers), strict=True):
        fields: list[tuple[str, str]] = [
            ("title", "{" + bib_value(paper.title) + "}"),  # double braces keep the title's capitals
            ("author", " and ".join(bib_value(a) for a in paper.authors if a.strip()) or "Unknown"),
        ]
        year = _year(paper)
        if year is not None:
            fields.append(("year", str(year)))
        published = _published(paper)
        if published is not None:
            fields.append(("month", f"{published.month}"))
        fields += [
            ("eprint", paper.id),
            ("archivePrefix", "arXiv"),
        ]
        if paper.categories:
            fields.append(("primaryClass", bib_value(paper.categories[0])))
        fields += [
            ("doi", doi(paper)),
            ("url", paper.arxiv_url),
        ]
        if paper.abstract.strip():
            fields.append(("abstract", bib_value(paper.abstract)))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        entries.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


# ---------------------------------------------------------------------------------------------
# RIS


def _ris_line(tag: str, value: str) -> str:
    return f"{tag}  - {_plain(value)}"


def ris(papers: Sequence[Paper]) -> str:
    records = []
    for paper in papers:
        lines = [_ris_line("TY", "ELEC"), _ris_line("TI", paper.title)]
        lines += [_ris_line("AU", a) for a in paper.authors if a.strip()]
        year = _year(paper)
        if year is not None:
            lines.append(_ris_line("PY", str(year)))
        published = _published(paper)
        if published is not None:
            lines.append(_ris_line("DA", f"{published:%Y/%m/%d}"))
        if paper.abstract.strip():
            lines.append(_ris_line("AB", paper.abstract))
        lines += [
            _ris_line("PB", "arXiv"),
            _ris_line("M1", f"arXiv:{paper.id}"),
            _ris_line("DO", doi(paper)),
            _ris_line("UR", paper.arxiv_url),
        ]
        lines += [_ris_line("KW", k) for k in paper.ai_keywords if k.strip()]
        lines.append("ER  - ")
        records.append("\n".join(lines) + "\n")
    return "\n".join(records)


# ---------------------------------------------------------------------------------------------
# CSL-JSON


def _csl_name(author: str) -> dict[str, str]:
    name = _plain(author)
    given, _, family = name.rpartition(" ")
    return {"family": family, "given": given} if given else {"literal": name}


def csl_item(paper: Paper) -> dict[str, object]:
    item: dict[str, object] = {
        "id": f"arXiv:{paper.id}",
        "type": "article",
        "title": _plain(paper.title),
        "author": [_csl_name(a) for a in paper.authors if a.strip()],
        "publisher": "arXiv",
        "number": paper.id,
        "DOI": doi(paper),
        "URL": paper.arxiv_url,
    }
    published = _published(paper)
    year = _year(paper)
    if published is not None:
        item["issued"] = {"date-parts": [[published.year, published.month, published.day]]}
    elif year is not None:
        item["issued"] = {"date-parts": [[year]]}
    if paper.abstract.strip():
        item["abstract"] = _plain(paper.abstract)
    if paper.ai_keywords:
        item["keyword"] = ", ".join(_plain(k) for k in paper.ai_keywords)
    return item


def csl_json(papers: Sequence[Paper]) -> str:
    return json.dumps([csl_item(p) for p in papers], ensure_ascii=False, indent=2) + "\n"
