"""Errors that cross the boundary between the core and the adapters or sources."""

from __future__ import annotations


class PaperboyError(Exception):
    """Base of Paperboy's own errors."""


class LeaseLapsed(PaperboyError):
    """This replica's lease lapsed while it was delivering (it stalled, or lost the database, for longer than
    the lease): another replica may have taken the claim over, so this one posts nothing more of it.
    Recovery (any replica's, this one's included once its lease is live again) finishes what is missing."""


class DeliveryError(PaperboyError):
    """An adapter could not post a message. Subclasses say whether trying again can help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RetryableDeliveryError(DeliveryError):
    """Rate limited, a 5xx, a timeout or a dropped connection: try again later.

    `retry_after` is the platform's requested wait in seconds, when it gave one.
    """

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """The channel is gone, the bot was removed, a permission or the token is missing.

    `reason` is shown to users in `status`; it must never contain a secret.
    """


class SourceError(PaperboyError):
    """A paper source failed (timeout, HTTP error, malformed data). Never fatal to the bot."""


class SourceRateLimited(SourceError):
    """The source said to slow down (HTTP 429): callers stop the round rather than press on."""


class StoreUnavailable(PaperboyError):
    """The database cannot be reached right now (down, unreachable, or SQLite busy past its timeout).

    Raised by the storage layer instead of its driver's errors, so the core can answer "try again in a
    minute" and retry its jobs when the database is back, without knowing the driver.
    """
