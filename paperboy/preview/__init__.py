"""`paperboy preview`: a channel's next digest as Slack and as Discord would show it, on one HTML page."""

from paperboy.preview.digest import Preview, PreviewError, build_preview
from paperboy.preview.html import discord_html, page_html, slack_html

__all__ = ["Preview", "PreviewError", "build_preview", "discord_html", "page_html", "slack_html"]
