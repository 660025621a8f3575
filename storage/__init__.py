"""Paperboy's storage: SQLAlchemy 2.0 on SQLite (aiosqlite) or Postgres (asyncpg), Alembic migrations.

Repositories return `bot.types` values, never ORM rows.
"""

from storage.database import Database

__all__ = ["Database"]
