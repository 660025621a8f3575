"""The learned ranking (bot.learning) and what it may change in a digest (bot.digest.select_entries)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.digest import select_entries, topic_windows
from bot.learning import MIN_VOTES, ChannelModel, is_active, net_votes, tally
from bot.types import (
    Channel,
    ChannelRef,
    ChannelSettings,
    DigestReason,
    Paper,
    Platform,
    Subscription,
    Vote,
)

DAY = date(2025, 7, 15)
AT = datetime(2025, 7, 16, 9, tzinfo=UTC)
REF = ChannelRef(Platform.SLACK, "T1", "C1")


def paper(n: int, title: str, keywords: tuple[str, ...], upvotes: int = 10, authors: tuple[str, ...] = ()) -> Paper:
    return Paper(
        id=f"2507.{n:05d}",
        title=title,
        abstract=f"{title}. An agent paper.",
        authors=authors or (f"Author {n}",),
        featured_days=(DAY,),
        upvotes=upvotes,
        ai_keywords=keywords,
    )


WEB = [paper(i, f"Web agents that browse site {i}", ("web agent", "browser automation")) for i in range(1, 6)]
ROBOT = [paper(i, f"Embodied agent for robot arm {i}", ("robot manipulation", "embodied agent")) for i in range(6, 11)]


def votes(liked: list[Paper], disliked: list[Paper]) -> list[Vote]:
    return [Vote(p.id, "U1", 1, AT) for p in liked] + [Vote(p.id, "U2", -1, AT) for p in disliked]


def model_of(liked: list[Paper], disliked: list[Paper]) -> ChannelModel:
    return ChannelModel.from_votes(votes(liked, disliked), {p.id: p for p in liked + disliked})


def test_liked_kinds_score_up_and_disliked_kinds_down() -> None:
    model = model_of(ROBOT[:3], WEB[:3])
    new_robot, new_web = ROBOT[4], WEB[4]
    assert model.score(new_robot) > 0 > model.score(new_web)
    up = model.effect(new_robot)
    down = model.effect(new_web)
    assert up is not None and up.direction == 1 and up.voted == 3
    assert up.line.startswith("ranked up: like 3 papers this channel liked (")
    assert up.example in {p.title for p in ROBOT[:3]}
    assert down is not None and down.direction == -1 and "disliked" in down.line


def test_votes_cancel_and_an_unrelated_paper_is_untouched() -> None:
    mixed = [Vote(WEB[0].id, "U1", 1, AT), Vote(WEB[0].id, "U2", -1, AT)]
    assert net_votes(mixed) == {}
    assert tally(mixed) == {WEB[0].id: (1, 1)}
    assert ChannelModel.from_votes(mixed, {WEB[0].id: WEB[0]}).empty
    model = model_of(ROBOT[:3], [])
    unrelated = paper(99, "Sparse attention kernels", ("sparse attention",))
    assert model.score(unrelated) == 0 and model.effect(unrelated) is None


def test_learning_starts_by_itself_at_five_votes_unless_the_channel_says() -> None:
    auto = ChannelSettings()
    assert not is_active(auto, MIN_VOTES - 1) and is_active(auto, MIN_VOTES)
    assert not is_active(replace(auto, learning=False), 500)
    assert is_active(replace(auto, learning=True), 1)


def _channel(**settings: object) -> tuple[Channel, list[Subscription]]:
    channel = Channel(REF, datetime.min.time(), "UTC", settings=ChannelSettings(**settings))  # type: ignore[arg-type]
    subs = [Subscription(1, REF, "agent", "U1", AT - timedelta(days=3))]
    return channel, subs


def _select(channel: Channel, subs: list[Subscription], pool: list[Paper], model: ChannelModel | None) -> list[str]:
    entries = select_entries(
        channel,
        trending_pool=sorted(pool, key=lambda p: -p.upvotes),
        topic_pool=pool,
        windows=topic_windows(channel, subs),
        posted=set(),
        papers_day=DAY,
        model=model,
    )
    return [e.paper.id for e in entries]


def test_the_learned_order_decides_what_fits_but_never_adds_or_hides_a_match() -> None:
    # Web papers have more upvotes: unlearned, they fill a digest of 3; the channel likes robots.
    pool = [replace(p, upvotes=50) for p in WEB] + ROBOT
    unrelated = replace(
        paper(50, "Sparse attention kernels", ("sparse attention",), upvotes=500), abstract="Faster kernels."
    )
    channel, subs = _channel(max_papers=3, trending=False)
    plain = _select(channel, subs, [*pool, unrelated], None)
    assert set(plain) <= {p.id for p in WEB}
    model = model_of(ROBOT[:2], WEB[:2])
    learned = _select(channel, subs, [*pool, unrelated], model)
    assert set(learned) <= {p.id for p in ROBOT}, "the liked kind fits first"
    assert unrelated.id not in learned, "learning never brings in what the topic does not match"
    everything = _select(replace(channel, settings=replace(channel.settings, max_papers=25)), subs, pool, model)
    assert sorted(everything) == sorted(p.id for p in pool), "with room for all, every match is there"


def test_trending_is_reordered_only_when_the_channel_turns_it_on() -> None:
    pool = [replace(p, upvotes=50 + i) for i, p in enumerate(WEB)] + ROBOT
    model = model_of(ROBOT[:2], WEB[:2])
    channel, _ = _channel(max_papers=3)
    off = _select(channel, [], pool, model)
    assert off == [p.id for p in sorted(pool, key=lambda p: -p.upvotes)[:3]]
    on = _select(replace(channel, settings=replace(channel.settings, learn_trending=True)), [], pool, model)
    assert set(on) <= {p.id for p in ROBOT}


def test_entries_say_what_learning_did() -> None:
    channel, subs = _channel(trending=False)
    model = model_of(ROBOT[:3], [])
    entries = select_entries(
        channel,
        trending_pool=[],
        topic_pool=ROBOT,
        windows=topic_windows(channel, subs),
        posted=set(),
        papers_day=DAY,
        model=model,
        votes={ROBOT[0].id: (2, 1)},
    )
    assert all(e.reason is DigestReason.TOPIC for e in entries)
    fresh = next(e for e in entries if e.paper.id == ROBOT[4].id)
    assert fresh.learned is not None and fresh.learned.direction == 1
    assert next(e for e in entries if e.paper.id == ROBOT[0].id).votes == (2, 1)
    assert fresh.votes == (0, 0)


def test_the_pooled_model_counts_exactly_what_the_formula_says() -> None:
    """The fan-out's shared pool (bits and overlaps per voted paper) gives the module docstring's
    Rocchio score to the last bit, and the same explanation as a model without a pool."""
    from bot.learning import BETA, GAMMA, FeaturePool, features

    shared = paper(20, "Web agents for robot arm control", ("web agent", "robot manipulation"), authors=("Author 1",))
    day = [WEB[4], ROBOT[4], shared, paper(21, "Protein folding at scale", ("protein folding",))]
    liked, disliked = [*ROBOT[:4], WEB[0]], WEB[1:4]
    everything = {p.id: p for p in liked + disliked + day}
    pooled = ChannelModel.from_votes(votes(liked, disliked), everything, FeaturePool(day))
    alone = ChannelModel.from_votes(votes(liked, disliked), everything)
    for p in day:
        keys = features(p).keys
        up = sum(sum(k in features(q).keys for k in keys) for q in liked)
        down = sum(sum(k in features(q).keys for k in keys) for q in disliked)
        expected = (BETA / len(liked) * up - GAMMA / len(disliked) * down) / features(p).norm
        assert pooled.score(p) == alone.score(p) == expected
        assert pooled.effect(p) == alone.effect(p)
    assert pooled.score(ROBOT[4]) > 0 > pooled.score(WEB[4])
    assert pooled.score(day[3]) == 0
    assert pooled.effect(ROBOT[4]) is not None
