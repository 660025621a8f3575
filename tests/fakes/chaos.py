"""Seeded, reproducible platform failures for the loopback fakes (tests/reliability).

A `Chaos` decides, per request, whether the fake answers normally or fails the way a real platform
does under load: a 429 with a small Retry-After, a 5xx, a response that arrives after the client gave
up (a timeout), or a dropped connection. Timeouts and drops come in two flavours, because the client
cannot tell them apart and exactly-once depends on handling both:

- "before": the request is not processed (nothing posted);
- "after": the request IS processed (the message is posted) and only the answer is lost.

Every decision comes from one `random.Random(seed)`, so a failing seed can be replayed.
"""

from __future__ import annotations

import enum
import random
from collections import Counter
from dataclasses import dataclass, field


class Fault(enum.StrEnum):
    RATE_LIMITED = "429"
    SERVER_ERROR = "5xx"
    TIMEOUT_BEFORE = "timeout-before"
    TIMEOUT_AFTER = "timeout-after"
    DROP_BEFORE = "drop-before"
    DROP_AFTER = "drop-after"


@dataclass
class Chaos:
    seed: int
    rate_limited: float = 0.0
    server_error: float = 0.0
    timeout: float = 0.0
    drop: float = 0.0
    retry_after: tuple[float, float] = (0.0, 1.0)
    """Retry-After is drawn uniformly from this range (seconds)."""
    hang: float = 1.5
    """How long a "timeout" answer is held back; set it beyond the client's timeout."""
    after_share: float = 0.5
    """Of timeouts and drops, the share that happens after the request was processed."""
    drop_after_share: float | None = None
    """For drops only, when it differs from `after_share`."""
    methods: frozenset[str] = frozenset()
    """Which endpoints fail (the fake's own names); empty: every endpoint the fake applies chaos to."""
    faults: Counter[str] = field(default_factory=Counter)
    """How many of each fault were served (tests assert the chaos actually happened)."""
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def applies(self, method: str) -> bool:
        return not self.methods or method in self.methods

    def draw(self, method: str) -> Fault | None:
        if not self.applies(method):
            return None
        roll = self.rng.random()
        fault: Fault | None = None
        for share, kind in (
            (self.rate_limited, Fault.RATE_LIMITED),
            (self.server_error, Fault.SERVER_ERROR),
            (self.timeout, Fault.TIMEOUT_BEFORE),
            (self.drop, Fault.DROP_BEFORE),
        ):
            if roll < share:
                fault = kind
                break
            roll -= share
        if fault is Fault.TIMEOUT_BEFORE and self.rng.random() < self.after_share:
            fault = Fault.TIMEOUT_AFTER
        elif fault is Fault.DROP_BEFORE:
            share = self.after_share if self.drop_after_share is None else self.drop_after_share
            if self.rng.random() < share:
                fault = Fault.DROP_AFTER
        if fault is not None:
            self.faults[fault.value] += 1
        return fault

    def wait(self) -> float:
        return round(self.rng.uniform(*self.retry_after), 3)
