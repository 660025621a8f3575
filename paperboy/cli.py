"""The `paperboy` command line. Errors go to stderr as one line saying what to fix, never a traceback.

Exit codes: 0 done; 2 a bad argument or setting (the operator fixes the command or the configuration);
1 a runtime failure (a source down, the database unreachable, a token rejected: trying again later, or
fixing the outside world, can help); 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from adapters.text import render_text
from bot import __version__
from bot.clock import Clock, FixedClock, SystemClock
from bot.commands import CommandError
from bot.config import LOG_LEVELS, Settings, SettingsError, load_settings
from bot.crypto import SETTING as SECRET_KEY_SETTING
from bot.crypto import SecretKeyError, generate_key
from bot.digest import DigestBuilder, revive_digest
from bot.errors import PaperboyError, SourceError, StoreUnavailable
from bot.exports import ExportFormat, export
from bot.features import command_specs
from bot.features.library import library_papers
from bot.features.params import parse_query
from bot.ingest import Busy, describe_result, ingest_from, ingest_papers, ingest_recent, seed_sample_if_empty
from bot.logs import configure_logging, scrub
from bot.progress import PageProgress
from bot.search import Search
from bot.sources.files import count_records, iter_daily_papers_files
from bot.sources.hf import HfDailyPapers
from bot.types import ChannelRef, DeliveryKind, Digest, ListedPaper, PaperList, Platform, UpsertResult
from paperboy.app import CHAT, COMMANDS, DISCORD_SYNC, POST, RUN, Paperboy, Profile
from storage.database import Database

logger = logging.getLogger(__name__)


class UsageError(Exception):
    """A command-line mistake: printed as is, exit code 2."""


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a log level ({', '.join(LOG_LEVELS)})")
    return level


def _channel(text: str) -> ChannelRef:
    try:
        return ChannelRef.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _number(text: str) -> int:
    """A count or an id as an operator types it: ASCII digits (`int()` also takes `٣` and `1_000`)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 20):
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a number (digits 0-9)")
    return int(text)


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (what is wrong, where the help is), not the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"paperboy: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="paperboy", description="Trending ML papers for Slack and Discord channels.")
    p.add_argument("--version", action="version", version=f"paperboy {__version__}")
    p.add_argument("--log-format", choices=("text", "json"), default="text")
    p.add_argument(
        "--log-level", type=_log_level, default=None, help="DEBUG, INFO, WARNING (default from PAPERBOY_LOG_LEVEL)"
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="start every configured adapter and the scheduler")
    sub.add_parser("demo", help="a non-interactive tour on the bundled sample (no tokens, no network)")
    ch = sub.add_parser("chat", help="the console channel: type /papers commands (or pipe them, one a line)")
    ch.add_argument("--at", type=datetime.fromisoformat, help="pretend it is this time (ISO, e.g. 2025-11-29T09:00Z)")

    ing = sub.add_parser("ingest", help="fetch papers into the database")
    which = ing.add_mutually_exclusive_group()
    which.add_argument("--date", type=date.fromisoformat, help="one Daily Papers day, YYYY-MM-DD")
    which.add_argument("--week", help="an ISO week, YYYY-Www")
    which.add_argument("--month", help="a month, YYYY-MM")
    which.add_argument("--file", type=Path, nargs="+", help="HF daily_papers JSON files or folders")
    which.add_argument("--sample", action="store_true", help="the bundled sample")
    ing.add_argument("--source", choices=("hf", "arxiv"), default="hf")
    ing.add_argument("--category", action="append", default=[], help="arXiv category (repeatable), e.g. cs.CL")
    ing.add_argument("--query", help="arXiv search query")
    ing.add_argument("--json", action="store_true", help="print what was stored as JSON")

    se = sub.add_parser("search", help="search stored papers with the topic query language")
    se.add_argument("query")
    se.add_argument("--limit", type=_number, default=10)
    se.add_argument("--json", action="store_true")

    td = sub.add_parser("today", help="the top papers of the latest complete Daily Papers day")
    td.add_argument("--date", type=date.fromisoformat)
    td.add_argument("--limit", type=_number, default=10)
    td.add_argument("--json", action="store_true")

    dg = sub.add_parser("digest", help="preview or run a channel's digest")
    dg.add_argument("action", choices=("preview", "run"))
    dg.add_argument("--channel", required=True, type=_channel, help="PLATFORM:WORKSPACE:CHANNEL")
    dg.add_argument("--at", type=datetime.fromisoformat, help="pretend it is this time (ISO, e.g. 2025-11-29T09:00Z)")
    dg.add_argument("--json", action="store_true", help="print the digest as JSON: channel, day, outcome, entries")

    pv = sub.add_parser("preview", help="write an HTML page showing a channel's next digest as Slack and Discord")
    pv.add_argument("--channel", type=_channel, help="PLATFORM:WORKSPACE:CHANNEL (default: a new channel)")
    pv.add_argument("--topic", action="append", default=[], metavar="QUERY", help="a trial topic (repeatable)")
    pv.add_argument("--at", type=datetime.fromisoformat, help="pretend it is this time (ISO, default now)")
    pv.add_argument("--out", type=Path, help="the HTML file (default: DATA_DIR/preview.html)")
    pv.add_argument("--json", action="store_true", help="print the path and the digest's papers as JSON")

    ex = sub.add_parser("export", help="write a channel's library as BibTeX, RIS or CSL-JSON to standard output")
    ex.add_argument("--channel", required=True, type=_channel, help="PLATFORM:WORKSPACE:CHANNEL")
    ex.add_argument("--format", required=True, choices=[f.value for f in ExportFormat], dest="export_format")
    ex.add_argument("query", nargs="?", default=None, help="a topic query that filters the library")

    zo = sub.add_parser("zotero", help="push a channel's library to a Zotero group library")
    zo_sub = zo.add_subparsers(dest="zotero_command", required=True)
    zl = zo_sub.add_parser("link", help="add the library's papers the group lacks (run again to sync; idempotent)")
    zl.add_argument("--channel", required=True, type=_channel, help="PLATFORM:WORKSPACE:CHANNEL")
    zl.add_argument("--group", required=True, type=_number, help="the Zotero group id (zotero.org/groups/ID)")
    zl.add_argument(
        "--api-key-file", required=True, type=Path, help="a file holding a Zotero API key with write access"
    )
    zl.add_argument("--endpoint", default="https://api.zotero.org", help=argparse.SUPPRESS)

    jb = sub.add_parser("jobs", help="list the scheduled jobs, or run one once by hand")
    jb_sub = jb.add_subparsers(dest="jobs_command", required=True)
    jb_sub.add_parser("list", help="every job, what it does and when the scheduler runs it")
    jr = jb_sub.add_parser("run", help="run one job once, through the configured chat connections")
    jr.add_argument("name", help="the job (see `paperboy jobs list`)")
    jr.add_argument("--at", type=datetime.fromisoformat, help="pretend it is this time (ISO, e.g. 2025-11-29T09:00Z)")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument(
        "action",
        choices=("upgrade", "rotate-key", "new-key"),
        help="upgrade: apply migrations; new-key: print a new PAPERBOY_SECRET_KEY; rotate-key: seal every "
        "stored secret again with the first key of PAPERBOY_SECRET_KEY (new,old)",
    )

    sl = sub.add_parser("slack", help="Slack setup")
    sl_sub = sl.add_subparsers(dest="slack_command", required=True)
    man = sl_sub.add_parser("manifest", help="print an app manifest to paste at api.slack.com/apps")
    mode = man.add_mutually_exclusive_group()
    mode.add_argument("--socket", action="store_true", help="Socket Mode (default)")
    mode.add_argument("--http", metavar="URL", help="HTTP mode with this public base URL")

    dc = sub.add_parser("discord", help="Discord setup")
    dc_sub = dc.add_subparsers(dest="discord_command", required=True)
    inv = dc_sub.add_parser("invite-url", help="print the URL that adds the bot to a server")
    inv.add_argument("--application-id", required=True)
    inv.add_argument(
        "--forum-tags",
        action="store_true",
        help="also ask for Manage Channels, so that Paperboy creates the forum tags it lacks (opt-in)",
    )
    sy = dc_sub.add_parser("sync", help="register the /papers command with Discord")
    sy.add_argument("--guild", type=_number, help="sync to one server (instant) instead of globally")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 with argparse's one-line usage error
    try:
        settings = load_settings()
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"paperboy: {problem}", file=sys.stderr)
        return 2
    configure_logging(args.log_level or settings.log_level, json_format=args.log_format == "json")
    try:
        return asyncio.run(_dispatch(args, settings))
    except (UsageError, CommandError, SecretKeyError, ValueError) as exc:
        message = exc.message if isinstance(exc, CommandError) else str(exc)
        print(f"paperboy: {message}", file=sys.stderr)
        return 2
    except StoreUnavailable as exc:
        print(f"paperboy: the database is unreachable ({exc}); check DATABASE_URL and that it is up", file=sys.stderr)
        return 1
    except (SourceError, PaperboyError) as exc:
        print(f"paperboy: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader left (`paperboy search ... | head`): nothing to say, and nowhere to say it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        # A bug, not the operator's doing: the traceback goes to the log at DEBUG, one line to the terminal.
        logger.debug("paperboy %s failed", args.command, exc_info=True)
        print(
            f"paperboy: {args.command} failed: {type(exc).__name__}: {scrub(str(exc))[:300]} "
            "(run with --log-level DEBUG for the traceback)",
            file=sys.stderr,
        )
        return 1


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    command: str = args.command
    if command == "demo":
        from paperboy.demo import run_demo

        return await run_demo(settings)
    if command == "run":
        return await _run(settings)
    if command == "slack":
        from adapters.slack.manifest import slack_manifest

        manifest = slack_manifest(
            socket=args.http is None, request_url=args.http, commands=command_specs(), command=settings.slack.command
        )
        print(json.dumps(manifest, indent=2))
        return 0
    if command == "discord" and args.discord_command == "invite-url":
        from adapters.discord.invite import invite_url

        print(invite_url(args.application_id, forum_tags=args.forum_tags))
        return 0
    if command == "db":
        return await _db(settings, args.action)
    clock: Clock = SystemClock()
    wall: Clock | None = None
    at: datetime | None = getattr(args, "at", None) if command in ("digest", "jobs", "chat") else None
    if at is not None:
        if at.tzinfo is None:
            raise UsageError("--at needs a timezone, e.g. 2025-11-29T09:00+00:00 or ...Z")
        # Every decision (the day, the slot, the selection) is made "at" that time; leases, claims and
        # pacing keep real time, which other replicas and the platforms read.
        clock, wall = FixedClock(at), SystemClock()
    profile = _PROFILES.get(command, COMMANDS)
    if command == "digest" and args.action == "preview":
        profile = COMMANDS
    if command == "jobs" and args.jobs_command == "list":
        profile = COMMANDS
    async with Paperboy(settings, profile=profile, clock=clock, wall=wall) as app:
        if command == "chat":
            return await _chat(app)
        if command == "ingest":
            return await _ingest(app, args)
        if command == "search":
            return await _search(app, args)
        if command == "today":
            return await _today(app, args)
        if command == "digest":
            return await _digest(app, args)
        if command == "preview":
            return await _preview(app, args)
        if command == "discord":
            return await _discord_sync(app, args.guild)
        if command == "jobs":
            return await _jobs(app, args)
        if command == "export":
            return await _export(app, args)
        if command == "zotero":
            return await _zotero(app, args)
        raise UsageError(f"unknown command {command}")


_PROFILES: dict[str, Profile] = {"chat": CHAT, "digest": POST, "discord": DISCORD_SYNC, "jobs": POST}


async def _jobs(app: Paperboy, args: argparse.Namespace) -> int:
    if args.jobs_command == "list":
        width = max(len(job.name) for job in app.jobs)
        for job in app.jobs:
            print(f"{job.name:<{width}}  {job.schedule:<46}  {job.summary}")
        return 0
    try:
        job = app.jobs.get(args.name)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    print(f"{job.name}: {await job.run()}")
    return 0


async def _export(app: Paperboy, args: argparse.Namespace) -> int:
    ref: ChannelRef = args.channel
    if await app.db.channels.get(ref) is None:
        raise UsageError(f"Paperboy has no channel {ref.key}; channels appear when someone uses /papers there")
    query = parse_query(args.query) if args.query is not None else None
    found = await library_papers(app.db.library, app.db.papers, ref, query)
    # The file is the output; how many went into it goes to stderr, so a redirect keeps only the file.
    sys.stdout.write(export([paper for _, paper, _ in found], ExportFormat(args.export_format)))
    print(f"exported {len(found)} paper{'s' if len(found) != 1 else ''} from {ref.key}", file=sys.stderr)
    return 0


async def _zotero(app: Paperboy, args: argparse.Namespace) -> int:
    from adapters.zotero import client, push_library

    ref: ChannelRef = args.channel
    if await app.db.channels.get(ref) is None:
        raise UsageError(f"Paperboy has no channel {ref.key}; channels appear when someone uses /papers there")
    key_file: Path = args.api_key_file
    try:
        # The key is read from a file so that it never appears in a process list or a shell history.
        api_key = (await asyncio.to_thread(key_file.read_text, encoding="utf-8")).strip()
    except OSError as exc:
        raise UsageError(f"cannot read the API key file {key_file}: {exc.strerror}") from None
    if not api_key or any(c.isspace() for c in api_key) or not api_key.isascii():
        raise UsageError(f"{key_file} does not hold a Zotero API key (one word of letters and digits)")
    found = await library_papers(app.db.library, app.db.papers, ref, None)
    papers = [paper for _, paper, _ in found]
    zot = client(str(args.group), api_key, endpoint=args.endpoint)
    try:
        result = await asyncio.to_thread(push_library, zot, papers)
    except Exception as exc:  # pyzotero's errors carry the response; never the key
        name = type(exc).__name__
        raise UsageError(f"Zotero refused the push ({name}); check the group id and the key's write access") from None
    print(f"zotero group {args.group}: {result.summary} ({len(papers)} in {ref.key})")
    return 0 if not result.failed else 1


async def _db(settings: Settings, action: str) -> int:
    if action == "new-key":
        print(generate_key())
        return 0
    box = settings.secret_box
    if action == "rotate-key" and box is None:
        raise UsageError(f"set {SECRET_KEY_SETTING} first: the new key, then the old one(s), comma-separated")
    db = await Database.connect(settings.resolved_database_url)
    try:
        applied = await db.upgrade()
        if box is not None:
            from adapters.slack.installations import seal_stored

            done = await seal_stored(db.engine, box, rotate=action == "rotate-key")
            if action == "rotate-key":
                print(
                    f"sealed {done.sealed} of {done.checked} stored secret(s) "
                    f"with the first key of {SECRET_KEY_SETTING}"
                )
                return 0
    finally:
        await db.close()
    if applied.revisions:
        print(f"applied {len(applied.revisions)} migration(s): {', '.join(applied.revisions)}; now at {applied.head}")
    else:
        print(f"already at {applied.head}: nothing to apply")
    return 0


async def _ingest(app: Paperboy, args: argparse.Namespace) -> int:
    now = app.clock.now()
    # Bars (pages and papers; PageProgress and ingest_papers draw them) only when stderr is a terminal.
    progress = sys.stderr.isatty()
    if args.file or args.sample:
        if args.sample:
            from bot.sources.sample import sample_paths

            paths = sample_paths()
        else:
            paths = list(args.file)
            missing = [str(p) for p in paths if not p.exists()]
            if missing:
                raise UsageError(f"no such file or folder: {', '.join(missing)}")
        result = await ingest_papers(
            app.db.papers, iter_daily_papers_files(paths), now=now, progress=progress, total=count_records(paths)
        )
        await app.db.sources.record_success("file", at=now, result=describe_result(result))
        return _ingested(args, "sample" if args.sample else "file", result)
    if app.settings.offline:
        raise UsageError("PAPERBOY_OFFLINE is set: only --file and --sample work offline")
    if args.source == "arxiv":
        categories = args.category or app.settings.arxiv.categories
        query = args.query or app.settings.arxiv.query
        if not categories and not query:
            raise UsageError("arXiv ingest needs --category (e.g. cs.CL) or --query")
        try:
            with PageProgress("arXiv") as bar:
                outcome = await app.ingest_arxiv(categories, query, progress=bar)
        except Busy as exc:
            print(f"paperboy: {exc}; try again in a minute", file=sys.stderr)
            return 1
    else:
        hf = app.hf or HfDailyPapers(app.settings.hf.endpoint, app.settings.hf.token, app.settings.hf.timeout)
        if args.week or args.month:
            what = f"HF week {args.week}" if args.week else f"HF month {args.month}"
            with PageProgress(what) as bar:
                shown = bar if progress else None
                outcome = await ingest_from(
                    "hf",
                    lambda: (
                        hf.fetch_week(args.week, progress=shown)
                        if args.week
                        else hf.fetch_month(args.month, progress=shown)
                    ),
                    app.db.papers,
                    app.db.sources,
                    now=now,
                )
        elif args.date:
            outcome = await ingest_from("hf", lambda: hf.fetch_day(args.date), app.db.papers, app.db.sources, now=now)
        else:
            await ingest_recent(hf, app.db, app.clock, refetch_days=app.settings.ingest.refetch_days)
            health = {h.source: h for h in await app.db.sources.all()}.get("hf")
            if health is None or health.last_error_at == now:
                print(f"paperboy: ingest failed: {health.last_error if health else 'unknown'}", file=sys.stderr)
                return 1
            summary = health.last_result or "done"
            print(json.dumps({"source": "hf", "summary": summary}) if args.json else summary)
            return 0
    if outcome is None:
        failed = {h.source: h for h in await app.db.sources.all()}.get(args.source)
        print(f"paperboy: ingest failed: {failed.last_error if failed else 'unknown error'}", file=sys.stderr)
        return 1
    return _ingested(args, args.source, outcome)


def _ingested(args: argparse.Namespace, source: str, result: UpsertResult) -> int:
    if args.json:
        total = result.inserted + result.updated + result.unchanged
        row = {"source": source, "papers": total, "new": result.inserted, "updated": result.updated}
        print(json.dumps({**row, "unchanged": result.unchanged, "summary": describe_result(result)}))
    else:
        print(describe_result(result))
    return 0


def _as_json(items: Sequence[ListedPaper]) -> str:
    rows: list[dict[str, Any]] = []
    for item in items:
        p = item.paper
        rows.append(
            {
                "id": p.id,
                "title": p.title,
                "upvotes": p.upvotes,
                "score": item.score,
                "matched": list(item.matched),
                "authors": list(p.authors),
                "featured_days": [d.isoformat() for d in p.featured_days],
                "url": p.hf_url,
            }
        )
    return json.dumps(rows, indent=2, ensure_ascii=False)


async def _search(app: Paperboy, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise UsageError("--limit must be from 1 to 100")
    await seed_sample_if_empty(app.db, app.clock)
    query = parse_query(args.query)
    result = await Search(app.db.papers, app.clock).run(query, limit=args.limit)
    if args.json:
        print(_as_json(result.shown))
    else:
        total, shown = result.total, tuple(result.shown)
        heading = f"{'About ' if result.estimated else ''}{total:,} papers match `{query.text}`"
        more = total - len(shown)
        print(render_text(PaperList(heading, shown, more=more, more_estimated=result.estimated)))
    return 0


async def _today(app: Paperboy, args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise UsageError("--limit must be from 1 to 100")
    await seed_sample_if_empty(app.db, app.clock)
    papers = app.db.papers
    day = args.date or await papers.latest_featured_day(on_or_before=app.clock.now().date() - timedelta(days=1))
    if day is None:
        raise UsageError("no papers are stored yet; run `paperboy ingest`")
    listed = [ListedPaper(p, score=None) for p in await papers.featured_on(day) if not p.withdrawn][: args.limit]
    if not listed and args.date:
        raise UsageError(f"no Daily Papers are stored for {day}")
    if args.json:
        print(_as_json(listed))
    else:
        print(render_text(PaperList(f"Top papers of {day:%a %d %b %Y}", tuple(listed))))
    return 0


async def _digest(app: Paperboy, args: argparse.Namespace) -> int:
    ref: ChannelRef = args.channel
    channel = await app.db.channels.get(ref)
    if channel is None:
        raise UsageError(f"Paperboy has no channel {ref.key}; channels appear when someone uses /papers there")
    if args.action == "preview":
        digest = await DigestBuilder(app.db.papers, app.db.subscriptions, app.db.deliveries, votes=app.db.votes).build(
            channel, now=app.clock.now()
        )
        print(_digest_json(ref, digest.day, "preview", digest) if args.json else render_text(digest))
        return 0
    if args.json:
        # What the console channel posts goes to stderr: stdout carries the JSON only.
        with contextlib.redirect_stdout(sys.stderr):
            run = await app.runner.run(ref, manual=True)
    else:
        run = await app.runner.run(ref, manual=True)
    ok = run.outcome.value in ("sent", "recovered", "already", "empty")
    if args.json:
        posted = None
        if run.day is not None:
            delivery = await app.db.deliveries.get_by_key(ref, DeliveryKind.DIGEST, run.day.isoformat())
            if delivery is not None and delivery.content:
                posted = await revive_digest(delivery.content, ref, app.db.papers)
        extra = {"ok": ok, "papers": run.papers}
        print(_digest_json(ref, run.day, run.outcome.value, posted, detail=run.detail, extra=extra))
        return 0 if ok else 1
    print(f"{ref.key}: {run.outcome.value} ({run.papers} papers){' — ' + run.detail if run.detail else ''}")
    return 0 if ok else 1


def _digest_json(
    ref: ChannelRef,
    day: date | None,
    outcome: str,
    digest: Digest | None,
    detail: str = "",
    extra: dict[str, Any] | None = None,
) -> str:
    """A digest for a script: each entry's id, why it is there, what matched and what the votes did."""
    entries = [
        {
            "id": e.paper.id,
            "title": e.paper.title,
            "upvotes": e.paper.upvotes,
            "reason": e.reason.value,
            "matched": list(e.matched),
            "learned": None
            if e.learned is None
            else {"effect": e.learned.line, "direction": e.learned.direction, "score": e.learned.score},
            "url": e.paper.hf_url,
        }
        for e in (digest.entries if digest is not None else ())
    ]
    body: dict[str, Any] = {
        "channel": ref.key,
        "day": day.isoformat() if day else None,
        "outcome": outcome,
        "papers_day": digest.papers_day.isoformat() if digest is not None and digest.papers_day else None,
        "note": digest.note if digest is not None else None,
        "entries": entries,
        **(extra or {}),
    }
    if detail:
        body["detail"] = detail
    return json.dumps(body, indent=2, ensure_ascii=False)


async def _preview(app: Paperboy, args: argparse.Namespace) -> int:
    from paperboy.preview import build_preview

    at: datetime = args.at or app.clock.now()
    if at.tzinfo is None:
        raise UsageError("--at needs a timezone, e.g. 2025-11-21T09:00+00:00 or ...Z")
    await seed_sample_if_empty(app.db, app.clock)
    preview = await build_preview(
        app.db,
        channel_ref=args.channel,
        topics=args.topic,
        at=at,
        default_time=app.settings.digest.parsed_time,
        default_timezone=app.settings.digest.timezone,
    )
    out: Path = args.out or app.settings.data_dir / "preview.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(out.write_text, preview.page(), encoding="utf-8")
    entries = preview.digest.entries
    if args.json:
        papers = [{"id": e.paper.id, "title": e.paper.title, "reason": e.reason.value} for e in entries]
        print(json.dumps({"path": str(out), "day": preview.digest.day.isoformat(), "papers": papers}, indent=2))
    else:
        print(f"wrote {out} ({len(entries)} paper{'s' if len(entries) != 1 else ''})")
    return 0


async def _chat(app: Paperboy) -> int:
    console = app.console
    assert console is not None, "the chat profile connects the console channel"
    # Piped in (a script, an evaluation): no banner or prompts, just each command's replies.
    await console.repl(interactive=sys.stdin.isatty())
    return 0


async def _discord_sync(app: Paperboy, guild: int | None) -> int:
    if not app.settings.discord.enabled:
        raise UsageError("set PAPERBOY_DISCORD__TOKEN (or DISCORD_TOKEN) first")
    from adapters.discord.adapter import DiscordAdapter

    adapter = app.adapters[Platform.DISCORD]
    assert isinstance(adapter, DiscordAdapter)
    count = await adapter.sync(guild)
    where = f"server {guild}" if guild else "all servers (global; may take up to an hour to appear)"
    print(f"synced {count} command(s) to {where}")
    return 0


async def _run(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    repl: asyncio.Task[None] | None = None
    async with Paperboy(settings, profile=RUN) as app:
        console = app.console
        if console is not None:
            print(
                "No chat platform is configured, so Paperboy runs the console channel.\n"
                "Connect Slack: set SLACK_BOT_TOKEN plus SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET "
                "(HTTP mode); `paperboy slack manifest` creates the app.\n"
                "Connect Discord: set DISCORD_TOKEN; `paperboy discord invite-url` adds the bot to a server.",
                file=sys.stderr,
            )
            if sys.stdin.isatty():
                repl = asyncio.create_task(console.repl())
        # What start built (modules, clients, settings, caches) lives as long as the process: keep it out
        # of the cyclic collector's full passes, which a digest fan-out's allocations trigger often.
        gc.collect()
        gc.freeze()
        logger.info("paperboy %s running; stop with Ctrl-C or SIGTERM", __version__)
        waiters: list[asyncio.Task[Any]] = [asyncio.create_task(stop.wait())]
        if repl is not None:
            waiters.append(repl)
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        logger.info("stopping")
    return 0
