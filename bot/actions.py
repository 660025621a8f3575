"""Buttons as core values: which actions a paper or a topic offers, and how a pressed one is read back.

An `Action` names a command and its arguments; every action is a command a user can also type. The
renderers draw actions generically (Slack buttons or an overflow menu, Discord buttons) and carry the
encoded action as the platform's id (Slack `action_id`/`value`, Discord `custom_id`); the translators
hand the id back to `decode`. No adapter names a core command.

The encoding is `pb:<command>[:<arg>...]` with each argument percent-encoded, so an argument can never
split into two or smuggle a command. It stays within Discord's 100-character custom ids for the ids
Paperboy puts in buttons (arXiv ids, topic numbers). Buttons on messages posted before this encoding
(`paperboy_more_like_this:<id>`, `paperboy_unsubscribe:<n>` on Slack, `pb:unsub:<n>` on Discord) keep
working: `decode` reads them too.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote, unquote

from bot.types import Action, ActionStyle, Paper

PREFIX = "pb:"
MENU_PREFIX = "pb-menu:"
"""Slack overflow menus carry their actions in the options; the menu's own id only has to be unique."""

ID_PATTERN = re.compile(r"^(?:pb:|pb-menu:|paperboy_more_like_this|paperboy_unsubscribe)")
"""Every id `encode` (or an older Paperboy) produced: adapters route matching presses to `decode`."""

MAX_ID = 100
"""The shortest limit of a platform id that carries an action (Discord custom ids)."""

SIMILAR = "similar"
SAVE = "save"
READ = "read"
PRESENT = "present"
UNSUBSCRIBE = "unsubscribe"
REFINE = "refine"
LIKE = "like"
DISLIKE = "dislike"
FOLLOW = "follow"

_LEGACY_PREFIXES = {"paperboy_more_like_this": SIMILAR, "paperboy_unsubscribe": UNSUBSCRIBE}
_LEGACY_NAMES = {"unsub": UNSUBSCRIBE}
_COMMAND = re.compile(r"^[a-z][a-z-]{0,31}$")


def encode(action: Action) -> str:
    """The id that stands for `action` on a platform (a Slack action id, a Discord custom id)."""
    return PREFIX + ":".join([action.command, *(quote(a, safe="") for a in action.args)])


def decode(encoded: str, value: str = "") -> Action | None:
    """The action an id stands for, or None when it is not one of Paperboy's.

    `value` is the Slack button's value, which the oldest ids kept their argument in.
    """
    for legacy, command in _LEGACY_PREFIXES.items():
        if encoded.startswith(legacy):
            # Those buttons kept their one argument (a paper id, a topic number) in the value.
            argument = value.strip()
            if not argument or any(c.isspace() for c in argument):
                return None
            return Action(command, (argument,))
    if not encoded.startswith(PREFIX):
        return None
    command, *raw = encoded[len(PREFIX) :].split(":")
    command = _LEGACY_NAMES.get(command, command)
    if not _COMMAND.match(command):
        return None
    args = tuple(unquote(a) for a in raw)
    if any(not a for a in args):
        return None
    return Action(command, args)


def fits(action: Action) -> bool:
    return len(encode(action)) <= MAX_ID


# ---------------------------------------------------------------------------------------------
# What each kind of thing offers. One place, so every surface offers the same buttons.


def paper_actions(paper: Paper) -> tuple[Action, ...]:
    """The buttons under a paper wherever a channel sees one (lists, digests, cards)."""
    return _paper_actions(paper.id)


@functools.lru_cache(maxsize=4096)
def _paper_actions(paper_id: str) -> tuple[Action, ...]:
    # A digest fan-out attaches these to the same few hundred papers thousands of times: share them.
    return (
        Action(LIKE, (paper_id,), "👍"),
        Action(DISLIKE, (paper_id,), "👎"),
        Action(SIMILAR, (paper_id,), "More like this"),
        Action(SAVE, (paper_id,), "Save"),
        Action(FOLLOW, (f"like {paper_id}",), "DM me papers like this"),
    )


def reading_actions(paper: Paper) -> tuple[Action, ...]:
    """A paper's buttons where a channel plans its reading (its library, a shared paper's card)."""
    return (
        *_paper_actions(paper.id),
        Action(READ, (paper.id,), "I'll read it"),
        Action(PRESENT, (paper.id,), "I'll present it"),
    )


def topic_actions(topic_id: int, refine_with: str | None = None) -> tuple[Action, ...]:
    """The buttons beside one of a channel's topics (and applying a suggested exclusion, if any fits)."""
    unsubscribe = Action(UNSUBSCRIBE, (str(topic_id),), f"Unsubscribe #{topic_id}", ActionStyle.DANGER)
    follow = Action(FOLLOW, (f"topic {topic_id}",), "Follow this topic")
    if refine_with is None:
        return (follow, unsubscribe)
    refine = Action(REFINE, (str(topic_id), refine_with), f'Apply -"{refine_with}"'[:75], ActionStyle.PRIMARY)
    return (refine, follow, unsubscribe) if fits(refine) else (follow, unsubscribe)


def follow_actions(follow_id: int) -> tuple[Action, ...]:
    """The button beside one of a person's follows (`following`, the Slack Home tab)."""
    return (Action(FOLLOW, (f"stop {follow_id}",), f"Unfollow #{follow_id}", ActionStyle.DANGER),)
