"""Parameter types shared by several command families: how a count, a query and a paper id are read."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from bot.commands import Arg, CommandError
from bot.query import QuerySyntaxError, TopicQuery, parse
from bot.types import canonical_arxiv_id

MAX_LIST = 25
QUERY_EXAMPLE = 'for example `diffusion -survey` or `author:"Yann LeCun"`'


def parse_query(text: str) -> TopicQuery:
    """A topic query, or a `CommandError` that says where it does not parse."""
    if not text.strip():
        raise CommandError(f"Give a query, {QUERY_EXAMPLE}.")
    try:
        return parse(text)
    except QuerySyntaxError as exc:
        raise CommandError(f"That query does not parse: {exc}") from None


Count = Annotated[int, Arg("How many papers (1-25)", metavar="N", min=1, max=MAX_LIST, what="number of papers")]
PaperId = Annotated[
    str, Arg("arXiv id or arxiv.org / huggingface.co URL", metavar="arXiv id or URL", convert=canonical_arxiv_id)
]
Query = Annotated[
    TopicQuery,
    Arg("A topic query", metavar="query", rest=True, convert=parse_query, missing=f"Give a query, {QUERY_EXAMPLE}."),
]


def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"
