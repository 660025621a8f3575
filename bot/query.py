"""The topic query language (DESIGN §3): parser, exact matcher with explanations, and FTS candidates.

Grammar (OR binds looser than AND; juxtaposition is AND; operators are case-insensitive words)::

    query    := or_expr
    or_expr  := and_expr ("OR" and_expr)*
    and_expr := unary (["AND"] unary)*
    unary    := ("-" | "NOT") unary | primary
    primary  := "(" or_expr ")" | field ":" value | WORD | "\"" PHRASE "\""
    field    := title | abstract | author | keyword | upvotes | source | category

A bare word or phrase matches the title, the abstract or one of the HF AI keywords. Words are compared after
`bot.textnorm` normalisation (case, accents, hyphen split/joined views, Porter stems) and acronyms from
`bot.acronyms` expand both ways. `author:` compares folded, unstemmed name words on word boundaries
(`author:lecun` matches "Yann LeCun"). `upvotes:` takes `>=`, `>`, `<=`, `<`, `=` or a bare number (`>=`).
`category:cs` matches every `cs.*` category; `category:cs.cl` only that one.

`parse` raises `QuerySyntaxError` (and nothing else) for any bad input, with the position of the problem.
`match` is the exact judge every other evaluator (`bot.topic_index.PaperIndex`, storage's full-text search)
must agree with.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from bot import textnorm
from bot.acronyms import ACRONYMS
from bot.types import Paper, Source

MAX_QUERY_LENGTH = 300
MAX_DEPTH = 20
MAX_CLAUSES = 50

# Field names as the user may type them -> canonical name in the AST.
_TEXT_FIELDS = {"title": "title", "abstract": "abstract", "keyword": "keyword", "keywords": "keyword"}
_AUTHOR_FIELDS = {"author": "author", "authors": "author"}
_FILTER_FIELDS = {"upvotes": "upvotes", "source": "source", "category": "category"}
_ALL_FIELDS = {**_TEXT_FIELDS, **_AUTHOR_FIELDS, **_FILTER_FIELDS}
_QUOTES = '"\u201c\u201d\u201e'  # Slack and phones turn "..." into curly quotes
_FIELD_WORD = re.compile(r"^([A-Za-z]+):(.*)$", re.DOTALL)
_UPVOTES = re.compile(r"^(>=|<=|>|<|=)?(\d{1,9})$")
_CATEGORY = re.compile(r"^[a-z][a-z\-]*(\.[a-z][a-z\-]*)?$", re.IGNORECASE)
_OP_SYMBOL = {">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "="}


class QuerySyntaxError(ValueError):
    """A malformed query: what is wrong (`problem`) and where (`position`, 0-based)."""

    def __init__(self, problem: str, position: int, text: str = "") -> None:
        super().__init__(problem, position)
        self.problem = problem
        self.position = position
        self.text = text

    def __str__(self) -> str:
        message = f"{self.problem} at position {self.position + 1}"
        if self.text and "\n" not in self.text:
            prefix = "query: "
            message += f"\n{prefix}{self.text}\n{' ' * (len(prefix) + self.position)}^"
        return message


# ---------------------------------------------------------------------------------------------
# AST


@dataclass(frozen=True, slots=True)
class Term:
    """A word as typed (normalised only when compared)."""

    text: str


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words; `text` is the quoted text with whitespace collapsed."""

    text: str


@dataclass(frozen=True, slots=True)
class Field:
    """A word or phrase restricted to one field: title, abstract, keyword or author."""

    field: str
    value: Term | Phrase


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Upvotes:
    op: str  # one of >=, >, <=, <, =
    value: int


@dataclass(frozen=True, slots=True)
class SourceFilter:
    source: Source


@dataclass(frozen=True, slots=True)
class CategoryFilter:
    category: str  # lowercase, e.g. "cs.cl" or "cs"


Node = Term | Phrase | Field | Not | And | Or | Upvotes | SourceFilter | CategoryFilter


@dataclass(frozen=True, slots=True)
class TopicQuery:
    text: str
    root: Node

    def __hash__(self) -> int:
        # A digest fan-out looks up thousands of (query, paper) pairs; the generated hash would walk the
        # whole tree each time. `root` is a function of `text`, so equal queries still hash equal.
        return hash(self.text)

    @property
    def canonical(self) -> str:
        """The query rewritten in one normal form; parsing it gives the same `root`."""
        return format_query(self.root)


def format_query(node: Node) -> str:
    """Render an AST back to query text (canonical spacing, `-` for NOT, parentheses only where needed)."""
    match node:
        case Term(text):
            return text
        case Phrase(text):
            return f'"{text}"'
        case Field(field, value):
            return f"{field}:{format_query(value)}"
        case Not(child):
            inner = format_query(child)
            return f"-({inner})" if isinstance(child, And | Or) else f"-{inner}"
        case And(children):
            return " ".join(f"({format_query(c)})" if isinstance(c, Or) else format_query(c) for c in children)
        case Or(children):
            return " OR ".join(format_query(c) for c in children)
        case Upvotes(op, value):
            return f"upvotes:{op}{value}"
        case SourceFilter(source):
            return f"source:{source.value}"
        case CategoryFilter(category):
            return f"category:{category}"


# ---------------------------------------------------------------------------------------------
# Lexer


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "-", "OR", "AND", "NOT", "leaf"
    pos: int
    node: Node | None = None
    label: str = ""


def _is_word_char(ch: str) -> bool:
    return not (ch.isspace() or ch in "()" or ch in _QUOTES)


def _read_phrase(text: str, start: int) -> tuple[str, int]:
    """Read a quoted phrase whose opening quote is at `start`; return (collapsed text, index after it)."""
    end = start + 1
    while end < len(text) and text[end] not in _QUOTES:
        end += 1
    if end >= len(text):
        raise QuerySyntaxError("unclosed quote", start, text)
    inner = " ".join(text[start + 1 : end].split())
    if not inner:
        raise QuerySyntaxError("empty phrase", start, text)
    if not textnorm.words(inner):
        raise QuerySyntaxError(f'no letters or digits in "{inner}"', start, text)
    return inner, end + 1


def _field_leaf(text: str, pos: int, name: str, raw_value: str, value_pos: int) -> tuple[Node, int]:
    """Build the node for `name:value`, where the value is the rest of the word (maybe a following phrase)."""
    field = _ALL_FIELDS.get(name.lower())
    if field is None:
        close = difflib.get_close_matches(name.lower(), sorted(set(_ALL_FIELDS.values())), n=1)
        hint = f" (did you mean {close[0]}?)" if close else f" (fields: {', '.join(sorted(set(_ALL_FIELDS.values())))})"
        raise QuerySyntaxError(f'unknown field "{name}"{hint}', pos, text)
    end = value_pos + len(raw_value)
    if field in ("upvotes", "source", "category"):
        if field == "upvotes":
            m = _UPVOTES.match(raw_value)
            if not m:
                raise QuerySyntaxError("upvotes needs a number like upvotes:>=20", value_pos, text)
            return Upvotes(m.group(1) or ">=", int(m.group(2))), end
        if field == "source":
            try:
                return SourceFilter(Source(raw_value.lower())), end
            except ValueError:
                raise QuerySyntaxError("source must be hf or arxiv, like source:arxiv", value_pos, text) from None
        if not _CATEGORY.match(raw_value):
            raise QuerySyntaxError("category needs an arXiv category like category:cs.CL", value_pos, text)
        return CategoryFilter(raw_value.lower()), end
    value: Term | Phrase
    if raw_value:
        if not textnorm.words(raw_value):
            raise QuerySyntaxError(f'no letters or digits in "{raw_value}"', value_pos, text)
        value = Term(raw_value)
    elif value_pos < len(text) and text[value_pos] in _QUOTES:
        inner, end = _read_phrase(text, value_pos)
        value = Phrase(inner)
    else:
        raise QuerySyntaxError(f'{field}: needs a word or "a phrase" right after the colon', value_pos, text)
    return Field(field, value), end


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(_Token(ch, i))
            i += 1
        elif ch in _QUOTES:
            inner, i2 = _read_phrase(text, i)
            tokens.append(_Token("leaf", i, Phrase(inner), f'"{inner}"'))
            i = i2
        elif ch == "-":
            if i + 1 < n and text[i + 1].isspace() and text[i + 1 :].strip():
                # "gpt - 4" is more likely a typo'd range or dash than an exclusion of "4": ask.
                raise QuerySyntaxError('put "-" right before the word to exclude, like -survey', i, text)
            tokens.append(_Token("-", i))
            i += 1
        else:
            start = i
            while i < n and _is_word_char(text[i]):
                i += 1
            word = text[start:i]
            upper = word.upper()
            if upper in ("OR", "AND", "NOT"):
                tokens.append(_Token(upper, start))
                continue
            m = _FIELD_WORD.match(word)
            if m:
                node, i = _field_leaf(text, start, m.group(1), m.group(2), start + len(m.group(1)) + 1)
                tokens.append(_Token("leaf", start, node, text[start:i]))
                continue
            if not textnorm.words(word):
                raise QuerySyntaxError(f'no letters or digits in "{word}"', start, text)
            tokens.append(_Token("leaf", start, Term(word), word))
    return tokens


# ---------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.clauses = 0

    def error(self, problem: str, pos: int) -> QuerySyntaxError:
        return QuerySyntaxError(problem, pos, self.text)

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def where(self) -> int:
        tok = self.peek()
        return tok.pos if tok else len(self.text)

    def parse(self) -> Node:
        node = self.or_expr(0)
        tok = self.peek()
        if tok is not None:
            # or_expr stops only at ")" here: every other token starts or continues a clause.
            raise self.error("unmatched closing parenthesis", tok.pos)
        return node

    def or_expr(self, depth: int) -> Node:
        children = [self.and_expr(depth, after=None)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.i += 1
            children.append(self.and_expr(depth, after="OR"))
        return _join(Or, children)

    def and_expr(self, depth: int, after: str | None) -> Node:
        children = [self.unary(depth, after)]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", ")"):
            if tok.kind == "AND":
                self.i += 1
                children.append(self.unary(depth, "AND"))
            else:
                children.append(self.unary(depth, None))
        return _join(And, children)

    def unary(self, depth: int, after: str | None) -> Node:
        tok = self.peek()
        if tok is None or tok.kind in (")", "OR", "AND"):
            pos = tok.pos if tok else len(self.text)
            if after is not None:
                raise self.error(f"expected a term after {after}", pos)
            if tok is None:
                raise self.error("empty query", 0)
            if tok.kind == ")":
                raise self.error("unmatched closing parenthesis", pos)
            raise self.error(f"{tok.kind} needs a term before it", pos)
        if tok.kind in ("-", "NOT"):
            if depth >= MAX_DEPTH:
                raise self.error(f"query is nested too deeply (at most {MAX_DEPTH} levels)", tok.pos)
            self.i += 1
            return Not(self.unary(depth + 1, "-" if tok.kind == "-" else "NOT"))
        return self.primary(depth)

    def primary(self, depth: int) -> Node:
        tok = self.tokens[self.i]
        self.i += 1
        if tok.kind == "(":
            if depth >= MAX_DEPTH:
                raise self.error(f"query is nested too deeply (at most {MAX_DEPTH} levels)", tok.pos)
            closing = self.peek()
            if closing is not None and closing.kind == ")":
                raise self.error("empty parentheses", tok.pos)
            if closing is None:
                raise self.error("unclosed parenthesis", tok.pos)
            node = self.or_expr(depth + 1)
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise self.error("unclosed parenthesis", tok.pos)
            self.i += 1
            return node
        assert tok.node is not None  # every other token kind was handled by unary()
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise self.error(f"too many terms (at most {MAX_CLAUSES})", tok.pos)
        return tok.node


def _join(kind: type[And] | type[Or], children: list[Node]) -> Node:
    """Flatten nested And/Or of the same kind so that equivalent groupings compare (and cache) equal."""
    if len(children) == 1:
        return children[0]
    flat: list[Node] = []
    for child in children:
        if isinstance(child, kind):
            flat.extend(child.children)
        else:
            flat.append(child)
    return kind(tuple(flat))


def parse(text: str) -> TopicQuery:
    """Parse a topic query. Raises `QuerySyntaxError` for every problem, never anything else."""
    if not isinstance(text, str):
        raise QuerySyntaxError("a query must be text", 0)
    if len(text) > MAX_QUERY_LENGTH:
        # Without the text: the error must not echo back everything that was too long.
        raise QuerySyntaxError(
            f"query is too long ({len(text)} characters, at most {MAX_QUERY_LENGTH})", MAX_QUERY_LENGTH
        )
    tokens = _tokenize(text)
    if not tokens:
        raise QuerySyntaxError("empty query", 0, text)
    return TopicQuery(text, _Parser(text, tokens).parse())


# ---------------------------------------------------------------------------------------------
# Compilation of leaves: each word or phrase becomes a set of alternative stem sequences.

Stems = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TextLeaf:
    """A compiled word/phrase: alternatives and the fields it may match.

    Each alternative is (stems compared, folded unstemmed words for storage's full-text index, label shown
    in explanations).
    """

    alternatives: tuple[tuple[Stems, tuple[str, ...], str], ...]
    fields: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AuthorLeaf:
    views: tuple[tuple[str, ...], ...]


_SCOPES: dict[str, tuple[str, ...]] = {
    # Order matters for explanations: the first field that matches is the one shown.
    "any": ("title", "keyword", "abstract"),
    "title": ("title",),
    "abstract": ("abstract",),
    "keyword": ("keyword",),
}
_FIELD_LABEL = {"title": "title", "keyword": "keywords", "abstract": "abstract"}
_MAX_VARIANTS = 32  # a phrase of many acronyms would otherwise expand exponentially


def _acronym_tables() -> tuple[dict[str, tuple[tuple[str, ...], ...]], list[tuple[Stems, str]]]:
    by_stem: dict[str, tuple[tuple[str, ...], ...]] = {}
    expansions: list[tuple[Stems, str]] = []
    for acronym, expansion in ACRONYMS.items():
        acronym_words = textnorm.views(acronym)[0]
        expansion_views = textnorm.views(expansion)
        by_stem[textnorm.stem(acronym_words[0])] = expansion_views
        for view in expansion_views:
            expansions.append((tuple(textnorm.stem(w) for w in view), acronym_words[0]))
    return by_stem, expansions


_ACRONYM_BY_STEM, _EXPANSIONS = _acronym_tables()


def _variants(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """`words` plus every rewrite swapping an acronym for its expansion or an expansion for its acronym."""
    stems = tuple(textnorm.stem(w) for w in words)
    memo: dict[int, list[tuple[str, ...]]] = {}

    def rest(i: int) -> list[tuple[str, ...]]:
        if i == len(words):
            return [()]
        if i in memo:
            return memo[i]
        out: list[tuple[str, ...]] = [(words[i], *tail) for tail in rest(i + 1)]
        for view in _ACRONYM_BY_STEM.get(stems[i], ()):
            out.extend((*view, *tail) for tail in rest(i + 1))
        for expansion_stems, acronym in _EXPANSIONS:
            k = len(expansion_stems)
            if stems[i : i + k] == expansion_stems:
                out.extend((acronym, *tail) for tail in rest(i + k))
        memo[i] = out[:_MAX_VARIANTS]
        return memo[i]

    return rest(0)


@lru_cache(maxsize=8192)
def compile_text(value: str, scope: str) -> TextLeaf:
    """Compile a word or phrase (its text as typed) for a scope: "any", "title", "abstract" or "keyword"."""
    seen: dict[Stems, tuple[tuple[str, ...], str]] = {}
    as_typed = " ".join(textnorm.fold(value).split())
    # Rewrite until nothing new appears, so that "multimodal llm" -> "multimodal large language model" ->
    # "mllm" is reached too; bounded because a long phrase of acronyms would otherwise explode.
    pending = [(view, True) for view in textnorm.views(value)]
    while pending and len(seen) < _MAX_VARIANTS:
        words, original = pending.pop(0)
        key = tuple(textnorm.stem(w) for w in words)
        if key in seen:
            continue
        # Explanations quote the user's own words, or the acronym/expansion that actually matched.
        seen[key] = (words, as_typed if original else " ".join(words))
        pending.extend((variant, False) for variant in _variants(words)[1:])
    return TextLeaf(tuple((stems, words, label) for stems, (words, label) in seen.items()), _SCOPES[scope])


@lru_cache(maxsize=8192)
def compile_author(value: str) -> AuthorLeaf:
    return AuthorLeaf(textnorm.views(value))


def compile_leaf(node: Term | Phrase | Field) -> TextLeaf | AuthorLeaf:
    if isinstance(node, Field):
        if node.field == "author":
            return compile_author(node.value.text)
        return compile_text(node.value.text, node.field)
    return compile_text(node.text, "any")


# ---------------------------------------------------------------------------------------------
# Paper analysis, shared with bot.topic_index so that both evaluators see the same words.


@dataclass(frozen=True, slots=True)
class PaperText:
    """A paper cut into stemmed word sequences per field (both hyphen views), plus folded author names."""

    sequences: dict[str, tuple[Stems, ...]]  # "title" / "abstract" / "keyword" -> sequences
    vocab: dict[str, frozenset[str]]  # same keys -> every stem in those sequences
    authors: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]  # (name as written, folded views)


def _analyse(paper: Paper) -> PaperText:
    sequences = {
        "title": textnorm.stemmed_views(paper.title),
        "abstract": textnorm.stemmed_views(paper.abstract),
        "keyword": tuple(seq for kw in paper.ai_keywords for seq in textnorm.stemmed_views(kw)),
    }
    vocab = {name: frozenset(w for seq in seqs for w in seq) for name, seqs in sequences.items()}
    authors = tuple((name, textnorm.views(name)) for name in paper.authors)
    return PaperText(sequences, vocab, authors)


# Keyed by the paper value itself (frozen, hashable), so an updated paper is re-analysed. An analysis is ~15 kB;
# 1024 covers a day's digest papers and a search's candidates without weighing on the idle memory budget.
analyse = lru_cache(maxsize=1024)(_analyse)


def text_leaf_field(leaf: TextLeaf, text: PaperText) -> tuple[str, str] | None:
    """(field, readable alternative) of the first field where `leaf` occurs, or None."""
    for field in leaf.fields:
        vocab = text.vocab[field]
        for stems, _, label in leaf.alternatives:
            if not all(s in vocab for s in stems):
                continue
            if len(stems) == 1 or any(textnorm.contains(seq, stems) for seq in text.sequences[field]):
                return field, label
    return None


def author_leaf_name(leaf: AuthorLeaf, text: PaperText) -> str | None:
    """The first author (as written on the paper) whose name contains the queried words, or None."""
    for name, name_views in text.authors:
        for view in name_views:
            if any(textnorm.contains(view, q) for q in leaf.views):
                return name
    return None


def upvotes_ok(node: Upvotes, upvotes: int) -> bool:
    match node.op:
        case ">=":
            return upvotes >= node.value
        case ">":
            return upvotes > node.value
        case "<=":
            return upvotes <= node.value
        case "<":
            return upvotes < node.value
        case _:
            return upvotes == node.value


def category_of(node: CategoryFilter, paper: Paper) -> str | None:
    """The paper's category that `node` selects (exact, or any `cs.*` for `category:cs`), or None."""
    for category in paper.categories:
        folded = category.lower()
        if folded == node.category or folded.startswith(node.category + "."):
            return category
    return None


# ---------------------------------------------------------------------------------------------
# Matching


@dataclass(frozen=True, slots=True)
class Match:
    """Why a paper matched: short, human, deduplicated reasons (the digest's "matched: ..." line)."""

    reasons: tuple[str, ...]


# (reason, matched in the title?) — the title flag feeds ranking's title bonus.
_Hit = tuple[str, bool]


def _hits(node: Node, paper: Paper, text: PaperText) -> list[_Hit] | None:
    """The reasons `node` holds for `paper`, or None when it does not hold. OR keeps every true branch."""
    match node:
        case Term() | Phrase() | Field():
            leaf = compile_leaf(node)
            if isinstance(leaf, AuthorLeaf):
                name = author_leaf_name(leaf, text)
                return None if name is None else [(f"author: {name}", False)]
            found = text_leaf_field(leaf, text)
            if found is None:
                return None
            field, readable = found
            return [(f"{readable} ({_FIELD_LABEL[field]})", field == "title")]
        case Not(child):
            return [] if _hits(child, paper, text) is None else None
        case And(children):
            out: list[_Hit] = []
            for child in children:
                sub = _hits(child, paper, text)
                if sub is None:
                    return None
                out.extend(sub)
            return out
        case Or(children):
            any_true = False
            out = []
            for child in children:
                sub = _hits(child, paper, text)
                if sub is not None:
                    any_true = True
                    out.extend(sub)
            return out if any_true else None
        case Upvotes():
            return [(f"upvotes {_OP_SYMBOL[node.op]} {node.value}", False)] if upvotes_ok(node, paper.upvotes) else None
        case SourceFilter(source):
            return [(f"source: {source.value}", False)] if source in paper.sources else None
        case CategoryFilter():
            category = category_of(node, paper)
            return None if category is None else [(f"category: {category}", False)]


def positive_text_leaves(node: Node) -> Iterator[TextLeaf]:
    """The compiled words and phrases of `node` outside any NOT (not authors, not filters)."""
    match node:
        case Term() | Phrase() | Field():
            leaf = compile_leaf(node)
            if isinstance(leaf, TextLeaf):
                yield leaf
        case And(children) | Or(children):
            for child in children:
                yield from positive_text_leaves(child)
        case _:
            return


def may_match_in(query: TopicQuery, text: str, field: str) -> bool:
    """Whether a positive word or phrase of `query` that may match in `field` ("title", "keyword")
    occurs in `text`: False proves it does not match there. For the keywords, pass them joined."""
    sequences = textnorm.stemmed_views(text)
    vocab = frozenset(w for seq in sequences for w in seq)
    for leaf in positive_text_leaves(query.root):
        if field not in leaf.fields:
            continue
        for stems, _, _ in leaf.alternatives:
            if all(s in vocab for s in stems) and (
                len(stems) == 1 or any(textnorm.contains(seq, stems) for seq in sequences)
            ):
                return True
    return False


def has_positive_author(query: TopicQuery) -> bool:
    """Whether an author name (outside a NOT) is part of what the query asks for."""

    def walk(node: Node) -> bool:
        match node:
            case Field(field="author"):
                return True
            case And(children) | Or(children):
                return any(walk(c) for c in children)
            case _:
                return False

    return walk(query.root)


def match_hits(query: TopicQuery, paper: Paper) -> list[_Hit] | None:
    """`match` with the title flag per reason (for ranking)."""
    return _hits(query.root, paper, analyse(paper))


def reasons_of(query: TopicQuery, hits: list[_Hit]) -> tuple[str, ...]:
    """The deduplicated reasons of a match, as the digest shows them."""
    reasons = tuple(dict.fromkeys(reason for reason, _ in hits))
    if not reasons:
        # Only exclusions held (e.g. "-survey"): say so rather than show an empty "matched:" line.
        reasons = (f"not {format_query(query.root).removeprefix('-')}"[:80],)
    return reasons


def match(query: TopicQuery, paper: Paper) -> Match | None:
    """Whether `paper` matches `query`, and why. Withdrawn papers evaluate normally (callers filter)."""
    hits = match_hits(query, paper)
    if hits is None:
        return None
    return Match(reasons_of(query, hits))


# ---------------------------------------------------------------------------------------------
# Candidate generation for storage's full-text index


def _candidates(node: Node) -> list[tuple[str, ...]] | None:
    match node:
        case Term() | Phrase() | Field():
            leaf = compile_leaf(node)
            if isinstance(leaf, AuthorLeaf):
                # Storage's full-text index covers title, abstract and keywords, not author names.
                return None
            return [words for _, words, _ in leaf.alternatives]
        case And(children):
            options = [c for c in (_candidates(child) for child in children) if c is not None]
            if not options:
                return None
            # Any one conjunct covers every match; the one with the fewest, longest phrases is most selective.
            return min(options, key=lambda c: (len(c), -min(len(p) for p in c)))
        case Or(children):
            out: list[tuple[str, ...]] = []
            for child in children:
                sub = _candidates(child)
                if sub is None:
                    return None
                out.extend(sub)
            return out
        case _:
            return None


def candidate_phrases(query: TopicQuery) -> list[tuple[str, ...]] | None:
    """Word sequences such that every paper matching `query` contains at least one; None if none can be given.

    Words are folded and unstemmed, hyphenated compounds split (`("bi", "level")`), and joined forms and
    acronym expansions are included (`("bilevel",)`, `("moe",)`). The guarantee holds for a full-text index
    over `bot.textnorm.searchable_text(...)` of title, abstract and AI keywords with a Porter tokenizer.
    None (scan recent papers instead) when the query could match a paper through negations, numeric/source/
    category filters or authors alone.
    """
    found = _candidates(query.root)
    if found is None:
        return None
    return list(dict.fromkeys(found))
