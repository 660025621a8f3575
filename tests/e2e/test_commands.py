"""Every subcommand through the real engine and storage, as a channel would use it."""

from __future__ import annotations

from datetime import timedelta

from bot.sources.sample import SAMPLE_LAST_DAY
from bot.types import Digest, PaperCard, PaperList, Status, TextReply, TopicList
from tests.e2e.conftest import HERE, OTHER, Harness


def error_text(message: object) -> str:
    assert isinstance(message, TextReply), message
    assert message.is_error and message.private, message
    return message.text


async def test_today_shows_the_latest_complete_day_by_upvotes(harness: Harness) -> None:
    reply = await harness.one("today 5")
    assert isinstance(reply, PaperList)
    assert str(SAMPLE_LAST_DAY.day) in reply.heading
    assert len(reply.papers) == 5
    votes = [p.paper.upvotes for p in reply.papers]
    assert votes == sorted(votes, reverse=True)
    assert all(SAMPLE_LAST_DAY in p.paper.featured_days for p in reply.papers)
    assert reply.more > 0
    assert not reply.private


async def test_today_explains_a_weekend_gap(harness: Harness) -> None:
    # The sample ends on a Friday; on Monday morning the latest day is still that Friday.
    assert SAMPLE_LAST_DAY.weekday() == 4
    harness.clock.advance(timedelta(days=2))
    reply = await harness.one("today")
    assert isinstance(reply, PaperList)
    assert reply.note is not None and "weekend" in reply.note


async def test_today_rejects_a_bad_count(harness: Harness) -> None:
    assert "1 to 25" in error_text(await harness.one("today 99"))
    assert "1 to 25" in error_text(await harness.one("today lots"))


async def test_top_week_and_month(harness: Harness) -> None:
    week = await harness.one("top week 3")
    month = await harness.one("top month 3")
    assert isinstance(week, PaperList) and isinstance(month, PaperList)
    assert len(week.papers) == 3
    assert month.papers[0].paper.upvotes >= week.papers[0].paper.upvotes
    assert "week" in error_text(await harness.one("top year"))


async def test_search_ranks_and_explains(harness: Harness) -> None:
    reply = await harness.one('search moe OR "mixture of experts"')
    assert isinstance(reply, PaperList)
    assert reply.papers, "the sample has MoE papers"
    for item in reply.papers:
        assert item.matched, "every result says why it matched"
        text = f"{item.paper.title} {item.paper.abstract} {' '.join(item.paper.ai_keywords)}".lower()
        assert "moe" in text or "mixture" in text


async def test_search_syntax_error_names_the_position(harness: Harness) -> None:
    text = error_text(await harness.one('search "mixture of experts'))
    assert "position" in text
    assert "Give a query" in error_text(await harness.one("search"))


async def test_search_with_no_match_says_so(harness: Harness) -> None:
    reply = await harness.one("search zzyzxquux")
    assert isinstance(reply, PaperList)
    assert reply.papers == () and "No papers" in reply.heading


async def test_paper_accepts_ids_and_urls(harness: Harness) -> None:
    listed = await harness.one("today 1")
    assert isinstance(listed, PaperList)
    pid = listed.papers[0].paper.id
    for form in (pid, f"{pid}v2", f"https://arxiv.org/abs/{pid}", f"https://huggingface.co/papers/{pid}"):
        card = await harness.one(f"paper {form}")
        assert isinstance(card, PaperCard) and card.paper.id == pid
    assert "not an arXiv id" in error_text(await harness.one("paper hello"))
    assert "does not know" in error_text(await harness.one("paper 1234.56789"))


async def test_similar_is_private_and_excludes_the_paper(harness: Harness) -> None:
    listed = await harness.one("today 1")
    assert isinstance(listed, PaperList)
    pid = listed.papers[0].paper.id
    reply = await harness.one(f"similar {pid}")
    assert isinstance(reply, PaperList) and reply.private
    assert pid not in {p.paper.id for p in reply.papers}
    assert len(reply.papers) == 10
    assert all(p.matched and p.matched[0].startswith("shares: ") for p in reply.papers), "each says why"


async def test_subscribe_previews_and_lists_topics(harness: Harness) -> None:
    reply = await harness.one("subscribe agent -survey")
    assert isinstance(reply, PaperList)
    assert "topic #" in reply.heading
    assert 0 < len(reply.papers) <= 3
    assert reply.note is not None and "last 7 days" in reply.note
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList)
    assert [t.query for t in topics.topics] == ["agent -survey"]
    assert topics.topics[0].matches_7d >= len(reply.papers)


async def test_subscribe_errors_change_nothing(harness: Harness) -> None:
    await harness.one("subscribe diffusion")
    assert "already follows" in error_text(await harness.one("subscribe diffusion"))
    assert "position" in error_text(await harness.one("subscribe (agent"))
    assert "300" in error_text(await harness.one("subscribe " + "a" * 301))
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList) and len(topics.topics) == 1


async def test_topic_limit(harness: Harness) -> None:
    for i in range(25):
        assert isinstance(await harness.one(f"subscribe topic{i}"), PaperList)
    assert "25 topics" in error_text(await harness.one("subscribe one-too-many"))


async def test_unsubscribe_by_id_or_query_and_only_here(harness: Harness) -> None:
    first = await harness.one("subscribe diffusion")
    await harness.one("subscribe agent")
    assert isinstance(first, PaperList)
    sub_id = first.heading.split("#")[1].rstrip(")")
    # Another channel cannot see or remove it.
    assert "no topic" in error_text(await harness.one(f"unsubscribe {sub_id}", OTHER))
    reply = await harness.one(f"unsubscribe {sub_id}")
    assert isinstance(reply, TextReply) and not reply.is_error
    reply = await harness.one("unsubscribe agent")
    assert isinstance(reply, TextReply) and not reply.is_error
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList) and topics.topics == ()


async def test_channel_changes_need_a_manager(harness: Harness) -> None:
    for text in ("subscribe diffusion", "unsubscribe 1", "digest at 08:00", "digest off", "settings max 3"):
        reply = await harness.one(text, manager=False)
        assert "Only channel managers" in error_text(reply), text
    topics = await harness.one("topics")
    assert isinstance(topics, TopicList) and topics.topics == ()
    status = await harness.one("status")
    assert isinstance(status, Status) and status.digest_enabled
    # Reading is open to everyone.
    assert isinstance(await harness.one("today", manager=False), PaperList)
    assert isinstance(await harness.one("digest preview", manager=False), Digest)


async def test_channel_commands_explain_themselves_in_a_dm(harness: Harness) -> None:
    assert "direct message" in error_text(await harness.one("subscribe diffusion", dm=True))


async def test_digest_schedule_commands(harness: Harness) -> None:
    reply = await harness.one("digest at 07:30 Europe/Paris")
    assert isinstance(reply, TextReply) and "07:30 Europe/Paris" in reply.text
    assert "IANA" in error_text(await harness.one("digest at 07:30 Mars/Olympus"))
    assert "00:00 to 23:59" in error_text(await harness.one("digest at 25:00"))
    off = await harness.one("digest off")
    assert isinstance(off, TextReply) and "off" in off.text
    status = await harness.one("status")
    assert isinstance(status, Status)
    assert not status.digest_enabled and status.next_digest_at is None
    assert status.digest_time.hour == 7 and status.timezone == "Europe/Paris"
    await harness.one("digest on")
    status = await harness.one("status")
    assert isinstance(status, Status) and status.next_digest_at is not None
    assert "Unknown digest action" in error_text(await harness.one("digest sometimes"))


async def test_settings_show_change_and_validate(harness: Harness) -> None:
    shown = await harness.one("settings")
    assert isinstance(shown, TextReply) and "max 10" in shown.text
    changed = await harness.one("settings max 3")
    assert isinstance(changed, TextReply) and "max 3" in changed.text
    assert "1 to 25" in error_text(await harness.one("settings max 0"))
    assert "on` or `off" in error_text(await harness.one("settings trending maybe"))
    assert "Unknown setting" in error_text(await harness.one("settings colour blue"))
    shown = await harness.one("settings")
    assert isinstance(shown, TextReply) and "max 3" in shown.text


async def test_help_comes_from_the_registry(harness: Harness) -> None:
    reply = await harness.one("help")
    assert isinstance(reply, TextReply)
    for name in ("today", "top", "search", "paper", "subscribe", "unsubscribe", "topics", "digest", "settings"):
        assert f"/papers {name}" in reply.text
    detail = await harness.one("help search")
    assert isinstance(detail, TextReply) and "search <query>" in detail.text
    assert "Did you mean `search`" in error_text(await harness.one("help serch"))


async def test_unknown_subcommand_suggests(harness: Harness) -> None:
    assert "Did you mean `subscribe`" in error_text(await harness.one("subscrbe moe"))


async def test_status_reports_sources_and_store(harness: Harness) -> None:
    status = await harness.one("status")
    assert isinstance(status, Status) and status.private
    assert status.papers_stored > 100
    assert status.latest_day == SAMPLE_LAST_DAY
    assert [h.source for h in status.sources] == ["sample"]


async def test_search_finds_hyphenated_text_through_the_full_text_prefilter(harness: Harness) -> None:
    from datetime import date

    from bot.types import Paper

    paper = Paper(
        id="2511.99999",
        title="Scaling Multi-Modal LLMs with Bi-Level Routing",
        abstract="We study routing.",
        featured_days=(date(2025, 11, 27),),
        # Popular, so that it is in the top 10 of a broad term ("multi-modal": 26 title matches in the
        # sample) by the ranking itself: this test is about the prefilter finding it at all.
        upvotes=500,
    )
    await harness.app.db.papers.upsert([paper], seen_at=harness.clock.now())
    for query in ('"multimodal llm"', "bilevel", '"bi-level routing"', "multi-modal"):
        reply = await harness.one(f"search {query}")
        assert isinstance(reply, PaperList)
        assert "2511.99999" in {p.paper.id for p in reply.papers}, query


async def test_status_shows_the_platforms_notes_of_this_channel_only(harness: Harness) -> None:
    from bot.channel_notes import ChannelNotes

    notes = ChannelNotes(harness.app.db.kv)
    await notes.set(HERE, "discord:forum-tags", "Forum tags a moderator could add: `rlhf`.")
    here = await harness.one("status")
    there = await harness.one("status", OTHER)
    assert isinstance(here, Status) and isinstance(there, Status)
    assert here.notes == ("Forum tags a moderator could add: `rlhf`.",)
    assert there.notes == (), "one channel's notes never show in another"
    await notes.set(HERE, "discord:forum-tags", None)
    cleared = await harness.one("status")
    assert isinstance(cleared, Status) and cleared.notes == ()


async def test_threads_is_a_channel_setting_the_digest_carries_and_a_claim_keeps(harness: Harness) -> None:
    from bot.digest import digest_content, revive_digest

    changed = await harness.one("settings threads on")
    assert isinstance(changed, TextReply) and "threads on" in changed.text
    assert "Only Discord channels" in changed.text, "said plainly where it has no effect"
    other = await harness.one("settings", OTHER)
    assert isinstance(other, TextReply) and "threads off" in other.text, "this channel's setting only"
    channel = await harness.app.channels.ensure(HERE)
    digest = await harness.app.runner._digests.build(channel, now=harness.clock.now())
    assert digest.threads
    revived = await revive_digest(digest_content(digest), HERE, harness.app.db.papers)
    assert revived.threads, "a takeover opens the thread the claimer would have"
    assert "on` or `off" in error_text(await harness.one("settings threads sometimes"))
