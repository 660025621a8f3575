"""Where multi-workspace installs keep their tokens: slack_sdk's SQLAlchemy tables, with every token sealed.

`SealedInstallationStore` wraps slack_sdk's store: what it saves is sealed with the `SecretBox`
(`bot.crypto`), what it finds is opened, so a copied database or backup holds no workspace's token.
`TokenTables` is slack_sdk's store with the token columns as text: a sealed token is longer than the
200 characters slack_sdk gives a token (migration `0002_hostile_input` widens existing tables too).
`seal_stored` seals what an older Paperboy stored in plain text, checks that the key opens everything
(at start), and seals everything again with the first key (`paperboy db rotate-key`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import MetaData, Table, Text, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.crypto import SecretBox

logger = logging.getLogger(__name__)

INSTALLATION_SECRETS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")
"""What grants access in an installation row: tokens, and the webhook URL anyone holding it can post to."""
BOT_SECRETS = ("bot_token", "bot_refresh_token")

T = TypeVar("T", Installation, Bot)


class TokenTables(AsyncSQLAlchemyInstallationStore):
    """slack_sdk's installation store, its token columns text instead of 200 characters."""

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _widen(super().build_installations_table(metadata, table_name), INSTALLATION_SECRETS)

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        return _widen(super().build_bots_table(metadata, table_name), BOT_SECRETS)


def _widen(table: Table, columns: tuple[str, ...]) -> Table:
    for name in columns:
        table.c[name].type = Text()
    return table


class SealedInstallationStore(AsyncInstallationStore):
    """An installation store whose tokens are sealed at rest and open only in memory."""

    def __init__(self, tables: TokenTables, box: SecretBox) -> None:
        self.tables = tables
        self._box = box

    @property
    def logger(self) -> logging.Logger:
        return logger

    @staticmethod
    def _with(item: T, fields: tuple[str, ...], change: Callable[[str], str]) -> T:
        """A copy of `item` with `change` applied to each of its secret `fields` that holds a value."""
        changed = copy.copy(item)
        for name in fields:
            value = getattr(item, name, None)
            if isinstance(value, str) and value:
                setattr(changed, name, change(value))
        return changed

    def _sealed(self, item: T, fields: tuple[str, ...]) -> T:
        return self._with(item, fields, self._box.seal)

    def _opened(self, item: T | None, fields: tuple[str, ...]) -> T | None:
        return None if item is None else self._with(item, fields, self._box.open)

    async def async_save(self, installation: Installation) -> None:
        # slack_sdk saves the installation's bot too, from the sealed copy: both rows are sealed.
        await self.tables.async_save(self._sealed(installation, INSTALLATION_SECRETS))

    async def async_save_bot(self, bot: Bot) -> None:
        await self.tables.async_save_bot(self._sealed(bot, BOT_SECRETS))

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        found = await self.tables.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return self._opened(found, BOT_SECRETS)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await self.tables.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )
        return self._opened(found, INSTALLATION_SECRETS)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.tables.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.tables.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.tables.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)


@dataclass(frozen=True, slots=True)
class Sealed:
    """What `seal_stored` did: values checked, and how many it sealed (plain before, or rotated)."""

    checked: int = 0
    sealed: int = 0


async def seal_stored(engine: AsyncEngine, box: SecretBox, *, rotate: bool = False) -> Sealed:
    """Seal every token slack_sdk's tables hold that is not sealed as it should be; check the rest opens.

    Raises `SecretKeyError` (nothing changed) when a stored token does not open with the configured keys.
    """
    tables = TokenTables(client_id="", engine=engine)
    checked = sealed = 0
    async with engine.begin() as conn:
        present = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        for table, fields in ((tables.installations, INSTALLATION_SECRETS), (tables.bots, BOT_SECRETS)):
            if table.name not in present:
                continue
            rows = (await conn.execute(select(table.c.id, *(table.c[f] for f in fields)))).all()
            for row in rows:
                changes: dict[str, Any] = {}
                for name in fields:
                    value = getattr(row, name)
                    if not value:
                        continue
                    checked += 1
                    resealed = box.reseal(value, rotate=rotate)
                    if resealed is not None:
                        changes[name] = resealed
                if changes:
                    sealed += len(changes)
                    await conn.execute(update(table).where(table.c.id == row.id).values(**changes))
    return Sealed(checked, sealed)
