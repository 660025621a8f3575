"""What a platform adapter learned about a channel that someone there can act on, shown by `status`.

For example: forum tags a moderator could add, crossposts held back by Discord's limit. Each note has
a topic, so that a later delivery replaces or clears it (a note that no longer holds disappears). The
notes live in the key-value store, shared by every replica.
"""

from __future__ import annotations

import json
import logging

from bot.ports import KeyValueStore
from bot.types import ChannelRef

logger = logging.getLogger(__name__)

NOTE_LIMIT = 500
"""Characters per note: a note is a sentence, not a log."""


def _key(ref: ChannelRef) -> str:
    return f"notes:{ref.key}"


class ChannelNotes:
    def __init__(self, kv: KeyValueStore) -> None:
        self._kv = kv

    async def get(self, ref: ChannelRef) -> tuple[str, ...]:
        """The channel's notes, in the order of their topics."""
        return tuple(text for _, text in sorted((await self._load(ref)).items()))

    async def set(self, ref: ChannelRef, topic: str, text: str | None) -> None:
        """Set (or clear, with None) the note on `topic`; writes only when it changes."""
        notes = await self._load(ref)
        before = dict(notes)
        if text is None:
            notes.pop(topic, None)
        else:
            notes[topic] = text[:NOTE_LIMIT]
        if notes != before:
            await self._kv.set(_key(ref), json.dumps(notes, sort_keys=True))

    async def _load(self, ref: ChannelRef) -> dict[str, str]:
        raw = await self._kv.get(_key(ref))
        if not raw:
            return {}
        try:
            data = json.loads(raw)
        except ValueError:
            logger.warning("channel notes of %s unreadable; starting afresh", ref.key)
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
