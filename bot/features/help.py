"""Help, built from the command registry so it cannot drift from the commands."""

from __future__ import annotations

from bot.commands import CommandContext, CommandError, registry
from bot.types import ArgSpec, TextReply


@registry.command("help", usage="help [subcommand]", args=(ArgSpec("subcommand", "A subcommand to explain"),))
async def help_(ctx: CommandContext) -> TextReply:
    """How to use Paperboy, or one subcommand in detail."""
    name = ctx.args.strip().lower()
    if name:
        command = ctx.engine.commands.get(name)
        if command is None:
            hint = ctx.engine.commands.suggest(name)
            extra = f" Did you mean `{hint}`?" if hint else ""
            raise CommandError(f"There is no `{name[:40]}` subcommand.{extra}")
        spec = command.spec
        text = f"/papers {spec.usage}\n{spec.summary}"
        if spec.description:
            text += f"\n\n{spec.description}"
        return TextReply(text, private=True)
    lines = ["Paperboy brings the day's trending ML papers to this channel. Commands:"]
    lines += [f"• /papers {s.usage} — {s.summary}" for s in ctx.engine.commands.specs()]
    lines.append("`/papers help <subcommand>` explains one in detail.")
    return TextReply("\n".join(lines), private=True)
