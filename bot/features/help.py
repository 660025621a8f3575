"""Help, built from the command catalog so it cannot drift from the commands."""

from __future__ import annotations

from typing import Annotated

from bot.commands import Arg, CommandError, Context, Router
from bot.types import TextReply

router: Router[None] = Router("help")

Subcommand = Annotated[str, Arg("A subcommand to explain", metavar="subcommand")]


@router.command(private=True)
async def help_(ctx: Context[None], subcommand: Subcommand | None = None) -> TextReply:
    """How to use Paperboy, or one subcommand in detail."""
    catalog = ctx.catalog
    if subcommand:
        name = subcommand.lower()
        spec = catalog.spec(name)
        if spec is None:
            hint = catalog.closest(name)
            extra = f" Did you mean `{hint}`?" if hint else ""
            raise CommandError(f"There is no `{name[:40]}` subcommand.{extra}")
        text = f"/papers {spec.usage}\n{spec.summary}"
        if spec.description:
            text += f"\n\n{spec.description}"
        return TextReply(text, private=True)
    lines = ["Paperboy brings the day's trending ML papers to this channel. Commands:"]
    lines += [f"• /papers {s.usage} — {s.summary}" for s in catalog.specs()]
    lines.append("`/papers help <subcommand>` explains one in detail.")
    return TextReply("\n".join(lines), private=True)
