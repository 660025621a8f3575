"""Secrets at rest: what Paperboy stores that grants access (workspace tokens, any future API key such
as a Zotero key) is sealed with Fernet (AES-128-CBC and HMAC-SHA256, from `cryptography`).

The key is the secret setting `PAPERBOY_SECRET_KEY`: one Fernet key, or several separated by commas.
The first seals; every one opens, which is how a key is rotated (docs: README, "Secrets at rest"):
set `new,old` on every replica, run `paperboy db rotate-key` to seal everything again with `new`, then
set `new` alone. A sealed value is `fernet:` and the token, so a value stored before encryption (plain
text) is told apart and sealed at start.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import PaperboyError

PREFIX = "fernet:"
SETTING = "PAPERBOY_SECRET_KEY"


class SecretKeyError(PaperboyError):
    """The secret key is missing, malformed, or does not open what is stored: Paperboy must not start."""


def generate_key() -> str:
    """A new random key for `PAPERBOY_SECRET_KEY`."""
    return Fernet.generate_key().decode()


def parse_keys(text: str) -> list[Fernet]:
    """The keys of a `PAPERBOY_SECRET_KEY` value, first (sealing) key first. Never echoes a key."""
    parts = [part.strip() for part in text.split(",")]
    if not parts or not all(parts):
        raise ValueError("it must be one or more Fernet keys separated by commas")
    keys: list[Fernet] = []
    for position, part in enumerate(parts, start=1):
        try:
            keys.append(Fernet(part.encode()))
        except ValueError:
            raise ValueError(
                f"key {position} is not a Fernet key (32 random bytes in url-safe base64, 44 characters; "
                "`paperboy db new-key` makes one)"
            ) from None
    return keys


class SecretBox:
    """Seals and opens stored secrets with the configured keys."""

    def __init__(self, keys: Sequence[Fernet]) -> None:
        if not keys:
            raise ValueError("a SecretBox needs at least one key")
        self._current = keys[0]
        self._all = MultiFernet(list(keys))

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        return cls(parse_keys(value))

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)

    def seal(self, value: str) -> str:
        return PREFIX + self._current.encrypt(value.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret in `stored`; a value stored before encryption comes back as it is."""
        if not self.is_sealed(stored):
            return stored
        try:
            return self._all.decrypt(stored[len(PREFIX) :].encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"{SETTING} cannot open a secret stored in the database: it is not the key it was sealed "
                f"with. Set that key again, or list it after the new one ({SETTING}=new,old) and run "
                "`paperboy db rotate-key`."
            ) from None

    def reseal(self, stored: str, *, rotate: bool) -> str | None:
        """`stored` sealed as it should be now, or None when it already is.

        A plain value is always sealed; with `rotate`, so is one sealed with any key but the first. A
        value no key opens raises `SecretKeyError`.
        """
        if not self.is_sealed(stored):
            return self.seal(stored)
        secret = self.open(stored)
        if not rotate:
            return None
        try:
            self._current.decrypt(stored[len(PREFIX) :].encode())
        except InvalidToken:
            return self.seal(secret)
        return None
