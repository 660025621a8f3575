"""Frozen value types shared by the core, the storage layer and every adapter.

Nothing here knows about a chat platform's wire format. Outgoing messages are a closed union of
semantic types (`Message`); each adapter renders every one of them with a pure function.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time

# ---------------------------------------------------------------------------------------------
# Identity


class Platform(enum.StrEnum):
    SLACK = "slack"
    DISCORD = "discord"
    CONSOLE = "console"


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel as Paperboy knows it: Slack team + channel, Discord guild + channel, or console."""

    platform: Platform
    workspace_id: str
    channel_id: str

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.workspace_id}:{self.channel_id}"

    @classmethod
    def parse(cls, text: str) -> ChannelRef:
        """Parse `PLATFORM:WORKSPACE:CHANNEL` (the CLI's `--channel` form)."""
        parts = text.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"channel must look like PLATFORM:WORKSPACE:CHANNEL, got {text[:80]!r}")
        if any(len(part) > 128 or not part.isprintable() for part in parts):
            # The channels table keeps ids of up to 128 characters; no platform's id holds a control character.
            raise ValueError(f"{text[:80]!r} has an id longer than 128 characters or with a control character")
        try:
            platform = Platform(parts[0].lower())
        except ValueError:
            choices = ", ".join(p.value for p in Platform)
            raise ValueError(f"unknown platform {parts[0]!r} (one of {choices})") from None
        return cls(platform, parts[1], parts[2])

    @classmethod
    def dm(cls, platform: Platform, workspace_id: str, user_id: str) -> ChannelRef:
        """A person's direct messages with Paperboy, as a channel of their workspace (`bot.features.follows`).

        The channel id is `@<user id>`: no platform channel id starts with `@`, and the adapters open the
        platform's DM (Slack `conversations.open`, Discord `POST /users/@me/channels`) when they post there.
        The user's follows are this channel's topics, their DM time its digest time.
        """
        return cls(platform, workspace_id, DM_PREFIX + user_id)

    @property
    def dm_user(self) -> str | None:
        """The user whose direct messages this is (`ChannelRef.dm`), or None for a real channel."""
        return self.channel_id[len(DM_PREFIX) :] if self.channel_id.startswith(DM_PREFIX) else None

    def __str__(self) -> str:
        return self.key


DM_PREFIX = "@"


@dataclass(frozen=True, slots=True)
class UserRef:
    user_id: str
    display_name: str = ""


@dataclass(frozen=True, slots=True)
class Permission:
    """What the adapter decided about the invoking user, in the platform's own terms.

    `who_can` is the sentence a refused user reads, e.g. "members with Manage Channels".
    """

    can_manage_channel: bool
    who_can: str = "channel managers"


@dataclass(frozen=True, slots=True)
class CommandInvocation:
    """One `/papers ...` request, already translated from the platform's payload.

    Typed surfaces (Slack's slash command, mentions, the console) give `text`: everything after
    `/papers`, exactly as typed. Structured surfaces name the `command` and give its values one per
    parameter, never joined into text: `args` in parameter order (a pressed `Action`), or `options` by
    parameter name (Discord's typed options). Every form is bound and validated by the same spec.
    """

    channel: ChannelRef
    user: UserRef
    text: str
    permission: Permission
    received_at: datetime
    is_direct_message: bool = False
    force_private: bool = False
    command: str | None = None
    args: tuple[str, ...] = ()
    options: tuple[tuple[str, str | int], ...] = ()
    channel_name: str = ""
    """The channel's name as the platform sent it (Slack's `ml-papers`), for replies; "" when unknown."""


class ActionStyle(enum.StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Action:
    """A button: pressing it runs `command` with `args` (in the command's parameter order).

    Every action is also a command a user can type (`similar 2402.17764`); renderers draw actions
    generically and translators turn a pressed one back into the invocation it names (`bot.actions`).
    """

    command: str
    args: tuple[str, ...] = ()
    label: str = ""
    style: ActionStyle = ActionStyle.DEFAULT


# ---------------------------------------------------------------------------------------------
# Papers

_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
_ARXIV_URL = re.compile(
    r"^(?:https?://)?(?:www\.|export\.)?(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|hf\.co/papers/"
    r"|alphaxiv\.org/(?:abs/|overview/)?)"
    r"(?P<id>[^?#\s]+?)(?:\.pdf)?/?(?:[?#].*)?$",
    re.IGNORECASE,
)


def canonical_arxiv_id(text: str) -> str:
    """Return the canonical arXiv id (no version) of an id or an arXiv / Hugging Face URL.

    Raises ValueError with a readable reason when the text is not one.
    """
    candidate = text.strip().strip("<>")
    url = _ARXIV_URL.match(candidate)
    if url:
        candidate = url.group("id")
    if candidate.lower().startswith("arxiv:"):
        candidate = candidate[6:]
    for pattern in (_ARXIV_NEW, _ARXIV_OLD):
        m = pattern.match(candidate)
        if m:
            return m.group(1)
    raise ValueError(f"{text.strip()[:80]!r} is not an arXiv id (like 2402.17764) or an arXiv/Hugging Face paper URL")


class Source(enum.StrEnum):
    HF = "hf"
    ARXIV = "arxiv"


@dataclass(frozen=True, slots=True)
class Paper:
    """A paper, keyed by its canonical arXiv id. Text fields are whitespace-normalised."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    featured_days: tuple[date, ...] = ()
    upvotes: int = 0
    comments: int = 0
    ai_summary: str | None = None
    ai_keywords: tuple[str, ...] = ()
    github_repo: str | None = None
    github_stars: int | None = None
    project_page: str | None = None
    thumbnail: str | None = None
    organization: str | None = None
    withdrawn: bool = False
    sources: tuple[Source, ...] = (Source.HF,)
    categories: tuple[str, ...] = ()
    # What the Hub links to the paper (`GET /api/papers/{id}`): the first few names and the totals.
    models: tuple[str, ...] = ()
    models_total: int = 0
    datasets: tuple[str, ...] = ()
    datasets_total: int = 0
    spaces: tuple[str, ...] = ()
    spaces_total: int = 0

    def __hash__(self) -> int:
        # Renderers and the digest memoise on papers, thousands of times per fan-out; the generated
        # hash would walk every field, including author lists of several hundred names. A subset of
        # the fields keeps hash consistent with the generated __eq__ (equal papers, equal hashes).
        return hash((self.id, self.title, self.upvotes, self.comments))

    @property
    def hf_url(self) -> str:
        return f"https://huggingface.co/papers/{self.id}"

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def pdf_url(self) -> str:
        return f"https://arxiv.org/pdf/{self.id}"

    @property
    def first_featured(self) -> date | None:
        return min(self.featured_days) if self.featured_days else None

    @property
    def artifacts(self) -> frozenset[ArtifactKind]:
        """What the paper has released so far: code, models, datasets, Spaces."""
        found = set()
        if self.github_repo:
            found.add(ArtifactKind.CODE)
        if self.models_total or self.models:
            found.add(ArtifactKind.MODEL)
        if self.datasets_total or self.datasets:
            found.add(ArtifactKind.DATASET)
        if self.spaces_total or self.spaces:
            found.add(ArtifactKind.SPACE)
        return frozenset(found)


class ArtifactKind(enum.StrEnum):
    """What a paper can gain after it is posted; each is followed up once per channel."""

    CODE = "code"
    MODEL = "model"
    DATASET = "dataset"
    SPACE = "space"


@dataclass(frozen=True, slots=True)
class UpsertResult:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertResult) -> UpsertResult:
        return UpsertResult(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


@dataclass(frozen=True, slots=True)
class SearchWindow:
    """The best full-text candidates (paper, relevance >= 0), best first, and how many papers match in all."""

    candidates: list[tuple[Paper, float]]
    total: int


SEARCH_BLOCK = 1024
"""Papers per search block: block `b` holds the papers with `b * 1024 <= seq < (b + 1) * 1024`."""


@dataclass(frozen=True, slots=True)
class SearchBlock:
    """Ceilings of one block of stored papers (`seq // block size`): at most this many upvotes, this new."""

    block: int
    max_upvotes: int
    max_day: date | None


@dataclass(frozen=True, slots=True)
class HitRange:
    """Blocks `first`..`last` (inclusive) to read matches from, and the fewest upvotes a match needs."""

    first: int
    last: int
    min_upvotes: int = 0


@dataclass(frozen=True, slots=True)
class BlockHit:
    """A full-text match read without its abstract: enough to bound its score before loading it."""

    seq: int
    upvotes: int
    day: date | None
    title: str
    keywords: str = ""
    """The AI keywords, joined (`keywords_text`)."""
    in_title: bool | None = None
    """True when storage found a phrase in the title column (the title bonus is likely); None: unknown."""


@dataclass(frozen=True, slots=True)
class SeedHits:
    """A search's first look at its matches (`SearchReads.seed_hits`)."""

    hits: list[BlockHit]
    every: bool
    """True when `hits` are every match (there were fewer than the newest asked for)."""
    estimated_matches: float
    """The matches among recent papers, scaled to the whole store: an estimate of how many match."""


# ---------------------------------------------------------------------------------------------
# Channels, topics, deliveries


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Weekday names, Monday first (Python's `date.weekday()` order)."""


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    max_papers: int = 10
    min_upvotes: int = 0
    trending: bool = True
    weekends: bool = True
    empty: bool = False
    followups: bool = True
    """Reply in a posted paper's thread when its code, models, datasets or Spaces appear."""
    rising: bool = True
    """Bring back, once, a paper of the channel's interests that climbs fast (`bot.rising`)."""
    weekly_day: int | None = None
    """The weekday (Monday 0) of the weekly rollup, or None when it is off."""
    threads: bool = False
    """Open a discussion thread on each digest (Discord text and announcement channels), named by day."""
    learning: bool | None = None
    """Whether the channel's votes order its digest (`bot.learning`); None: on once it has enough votes."""
    learn_trending: bool = False
    """Whether learning reorders the trending section too (the topic section only, by default)."""
    votes_shown: bool = False
    """Whether the digest shows each paper's votes in this channel."""


@dataclass(frozen=True, slots=True)
class Channel:
    ref: ChannelRef
    digest_time: time
    timezone: str
    digest_enabled: bool = True
    settings: ChannelSettings = field(default_factory=ChannelSettings)
    paused_reason: str | None = None
    last_digest_at: datetime | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: int
    channel: ChannelRef
    query: str
    created_by: str
    created_at: datetime


class LibraryVia(enum.StrEnum):
    """How a paper came into a channel's library."""

    SAVED = "saved"  # `/papers save`, or the Save button
    SHARED = "shared"  # a link someone posted in the channel


class ReadingRole(enum.StrEnum):
    READS = "reads"  # "I'll read it"
    PRESENTS = "presents"  # "I'll present it", on a day


@dataclass(frozen=True, slots=True)
class Reading:
    """Someone in a channel reading a paper, or presenting it at journal club on `day`."""

    channel: ChannelRef
    paper_id: str
    who: str
    role: ReadingRole
    at: datetime
    day: date | None = None


@dataclass(frozen=True, slots=True)
class LibraryEntry:
    """One paper in one channel's library: who brought it in, when, and how."""

    channel: ChannelRef
    paper_id: str
    added_by: str
    added_at: datetime
    via: LibraryVia = LibraryVia.SAVED


class DeliveryKind(enum.StrEnum):
    DIGEST = "digest"
    PAPER = "paper"
    FOLLOWUP = "followup"  # key: "<paper id>:<artifact kind>"
    WEEKLY = "weekly"  # key: the ISO week, "2025-W48"
    REMINDER = "reminder"  # key: "<paper id>:<presentation day>", the day before a journal-club talk


class DeliveryState(enum.StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Delivery:
    """A claim to post one thing once: (channel, digest day) or (channel, paper)."""

    id: str
    channel: ChannelRef
    kind: DeliveryKind
    key: str
    state: DeliveryState
    claimed_at: datetime
    claimed_by: str = ""
    message_id: str | None = None
    finished_at: datetime | None = None
    error: str | None = None
    paper_ids: tuple[str, ...] = ()
    content: str | None = None
    """What the delivery shows, as claimed (see `bot.delivery_content`): a takeover posts the same."""


@dataclass(frozen=True, slots=True)
class Replica:
    """One running Paperboy process and its lease: alive while `expires_at` is in the future."""

    id: str
    host: str
    pid: int
    started_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class FollowUpDue:
    """A paper posted in `channel` that has gained `kind` since; `parent` is the message that carried it."""

    channel: ChannelRef
    paper_id: str
    kind: ArtifactKind
    parent: str | None
    posted_at: datetime


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    last_result: str | None = None
    note: str | None = None
    """What the latest fetch looked like when it was not a normal day: stale, partial or empty."""


# ---------------------------------------------------------------------------------------------
# Outgoing messages: a closed union. A new kind of message is a new type here, rendered by every adapter.


@dataclass(frozen=True, slots=True)
class ListedPaper:
    """A paper in a list, with why it is there (`matched`: human-readable reasons)."""

    paper: Paper
    matched: tuple[str, ...] = ()
    score: float | None = None
    actions: tuple[Action, ...] = ()
    note: str = ""
    """A line about the paper in this list ("saved by Ada on Tue 2 Dec"), or ""."""


@dataclass(frozen=True, slots=True)
class TextReply:
    text: str
    private: bool = False
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class PaperList:
    """A heading, ranked papers, an optional note (e.g. why a day is shown) and how many more matched."""

    heading: str
    papers: tuple[ListedPaper, ...]
    note: str | None = None
    more: int = 0
    more_estimated: bool = False
    """`more` is an estimate (a broad search stopped before judging every match): shown as "about N"."""
    private: bool = False


@dataclass(frozen=True, slots=True)
class PaperCard:
    paper: Paper
    private: bool = False
    actions: tuple[Action, ...] = ()


class DigestReason(enum.StrEnum):
    TRENDING = "trending"
    TOPIC = "topic"
    RISING = "rising"


@dataclass(frozen=True, slots=True)
class Trajectory:
    """How a rising paper climbed: upvotes when first seen, now, and the day it was first seen."""

    from_upvotes: int
    to_upvotes: int
    since: date


@dataclass(frozen=True, slots=True)
class Vote:
    """One user's vote on one paper in one channel: +1 like, -1 dislike."""

    paper_id: str
    user_id: str
    value: int
    voted_at: datetime


@dataclass(frozen=True, slots=True)
class LearnedEffect:
    """What a channel's votes did to one paper's place, in words a channel can check (`bot.learning`).

    `direction` is +1 (ranked up) or -1 (ranked down); `voted` how many papers the channel liked (up) or
    disliked (down) that share the paper's strongest `feature` ("keyword: web agent", "author: ...");
    `example` the title of one of them.
    """

    direction: int
    voted: int
    feature: str
    example: str
    score: float = 0.0

    @property
    def line(self) -> str:
        verb, what = ("ranked up", "liked") if self.direction > 0 else ("ranked down", "disliked")
        papers = "paper" if self.voted == 1 else "papers"
        return f"{verb}: like {self.voted} {papers} this channel {what} ({self.feature}), e.g. “{self.example}”"


@dataclass(frozen=True, slots=True)
class DigestEntry:
    paper: Paper
    reason: DigestReason
    matched: tuple[str, ...] = ()
    actions: tuple[Action, ...] = ()
    trajectory: Trajectory | None = None
    learned: LearnedEffect | None = None
    """What the channel's votes did to this paper's place (None: nothing, or learning is off)."""
    votes: tuple[int, int] | None = None
    """(up, down) votes in this channel, when the channel shows them (`settings votes shown`)."""


@dataclass(frozen=True, slots=True)
class Digest:
    """A channel's digest for one local day. `delivery_id` marks the posted message for crash recovery."""

    channel: ChannelRef
    day: date
    entries: tuple[DigestEntry, ...]
    papers_day: date | None = None
    delivery_id: str | None = None
    private: bool = False
    note: str | None = None
    threads: bool = False
    """The channel asked for a discussion thread on the digest (`settings threads on`)."""

    @property
    def trending_count(self) -> int:
        return sum(1 for e in self.entries if e.reason is DigestReason.TRENDING)

    @property
    def topic_count(self) -> int:
        return sum(1 for e in self.entries if e.reason is DigestReason.TOPIC)

    @property
    def rising_count(self) -> int:
        return sum(1 for e in self.entries if e.reason is DigestReason.RISING)


@dataclass(frozen=True, slots=True)
class FollowUp:
    """News about a paper a channel was sent: posted in the thread of the message that carried it.

    `parent` is the platform's id of that message (the delivery's channel message); `detail` the names
    shown ("github.com/org/repo", "org/model"), `more` how many others there are.
    """

    channel: ChannelRef
    paper: Paper
    kind: ArtifactKind
    parent: str | None
    detail: str = ""
    more: int = 0
    stars: int | None = None
    delivery_id: str | None = None
    private: bool = False


@dataclass(frozen=True, slots=True)
class TopicWeek:
    """One topic's week: how many papers it matched, and the best three by upvotes."""

    query: str
    matched: int
    top: tuple[Paper, ...]


@dataclass(frozen=True, slots=True)
class WeeklyRollup:
    """A channel's week: per topic, what matched; the week's most-liked papers here; where to see more."""

    channel: ChannelRef
    week: str
    start: date
    end: date
    topics: tuple[TopicWeek, ...]
    liked: tuple[Paper, ...] = ()
    reading: tuple[tuple[Paper, str], ...] = ()
    """What the channel read and presented that week, each with who ("presented by Ada on Tue 2 Dec")."""
    delivery_id: str | None = None
    private: bool = False


@dataclass(frozen=True, slots=True)
class Refinement:
    """A change to a topic that the channel's votes suggest (`bot.refine`); applied only by a manager."""

    phrase: str
    query: str
    """The topic's query with the phrase excluded."""
    disliked_with: int
    disliked: int

    @property
    def reason(self) -> str:
        return (
            f"{self.disliked_with} of the {self.disliked} papers this channel disliked under it are about "
            f"“{self.phrase}”, and none it liked"
        )


@dataclass(frozen=True, slots=True)
class TopicSummary:
    id: int
    query: str
    matches_7d: int
    created_by: str = ""
    actions: tuple[Action, ...] = ()
    refinement: Refinement | None = None
    """What the channel's votes suggest for this topic (its action is among `actions`)."""


@dataclass(frozen=True, slots=True)
class TopicList:
    channel: ChannelRef
    topics: tuple[TopicSummary, ...]
    limit: int = 25
    private: bool = False
    personal: bool = False
    """A person's follows (`following`): the topics of their direct messages, not of a channel."""


@dataclass(frozen=True, slots=True)
class Status:
    channel: ChannelRef
    digest_enabled: bool
    digest_time: time
    timezone: str
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    last_delivery: Delivery | None
    paused_reason: str | None
    sources: tuple[SourceHealth, ...]
    papers_stored: int
    latest_day: date | None
    topics: int
    private: bool = False
    settings: ChannelSettings | None = None
    last_followup: Delivery | None = None
    last_weekly: Delivery | None = None
    notes: tuple[str, ...] = ()
    """What the platform said about this channel that someone here can act on (`bot.channel_notes`)."""


@dataclass(frozen=True, slots=True)
class ExportFile:
    """A file for the channel (`/papers export`): Slack uploads it (files.uploadV2), Discord attaches it."""

    filename: str
    content: str
    summary: str
    """One line for the channel: what the file holds ("12 papers from this channel's library, BibTeX")."""
    mime_type: str = "text/plain"
    private: bool = False


Message = TextReply | PaperList | PaperCard | Digest | TopicList | Status | FollowUp | WeeklyRollup | ExportFile


# ---------------------------------------------------------------------------------------------
# Command metadata, built from the handlers' signatures (`bot.commands`): adapters read it to build
# native commands (Discord options, Slack help), and help and the README reference are made from it.


class ParamKind(enum.StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One parameter of a subcommand.

    `rest` takes the rest of the typed line as one value (a query); `suggests` means the core can
    offer values for it while the user types (Discord autocomplete).
    """

    name: str
    description: str
    kind: ParamKind = ParamKind.TEXT
    required: bool = False
    choices: tuple[str, ...] = ()
    min_value: int | None = None
    max_value: int | None = None
    metavar: str = ""
    rest: bool = False
    suggests: bool = False

    @property
    def usage(self) -> str:
        shown = self.metavar or ("|".join(self.choices) if self.kind is ParamKind.CHOICE else self.name)
        if self.required:
            return shown if self.kind is ParamKind.CHOICE else f"<{shown}>"
        return f"[{shown}]"


class Audience(enum.StrEnum):
    """Who may run a subcommand: everyone, channel managers, or everyone to read and managers to change."""

    EVERYONE = "everyone"
    MANAGERS = "channel managers"
    MANAGERS_TO_CHANGE = "everyone to read; managers to change"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    summary: str
    description: str
    params: tuple[ParamSpec, ...] = ()
    audience: Audience = Audience.EVERYONE
    private: bool = False

    @property
    def usage(self) -> str:
        return " ".join([self.name, *(p.usage for p in self.params)])

    @property
    def changes_channel(self) -> bool:
        return self.audience is Audience.MANAGERS
