"""Finishing what a crash, a dead replica or a failure left unfinished, whatever its kind.

One pass reads the unfinished claims once (failed ones, those of replicas whose lease lapsed, this
replica's own orphans) and hands each kind to the part that knows how to finish it: digests to the
digest runner (which re-checks the channel), follow-ups and weekly rollups to theirs (which revive
the message the claim stored). Each is taken over and finished part by part: what landed is found by
its marker and recorded, only what is missing is posted.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field

from bot.delivery import Deliverer
from bot.errors import StoreUnavailable
from bot.outage import StoreHealth
from bot.types import Delivery, DeliveryKind

logger = logging.getLogger(__name__)

Finisher = Callable[[Sequence[Delivery]], Awaitable[Sequence[object]]]
"""Finishes the unfinished claims of its kind (it is handed all of them and picks its own)."""


@dataclass(frozen=True, slots=True)
class RecoveryRun:
    unfinished: int = 0
    finished: Counter[str] = field(default_factory=Counter)
    unreachable: bool = False

    @property
    def summary(self) -> str:
        if self.unreachable:
            return "the database is unreachable; recovery runs again when it is back"
        if not self.unfinished:
            return "nothing unfinished"
        done = ", ".join(f"{n} {kind}" for kind, n in sorted(self.finished.items())) or "none taken"
        return f"{self.unfinished} unfinished deliveries: {done}"


class Recovery:
    def __init__(
        self, deliverer: Deliverer, finishers: Mapping[DeliveryKind, Finisher], *, health: StoreHealth
    ) -> None:
        self._deliverer = deliverer
        self._finishers = finishers
        self._health = health

    async def run(self) -> RecoveryRun:
        try:
            unfinished = await self._deliverer.unfinished()
        except StoreUnavailable as exc:
            self._health.unavailable(exc, "looking for unfinished deliveries")
            return RecoveryRun(unreachable=True)
        if not unfinished:
            return RecoveryRun()
        finished: Counter[str] = Counter()
        for kind, finish in self._finishers.items():
            mine = [d for d in unfinished if d.kind is kind]
            if not mine:
                continue
            try:
                finished[kind.value] += len(await finish(mine))
            except StoreUnavailable as exc:
                self._health.unavailable(exc, f"finishing unfinished {kind.value} deliveries")
            except Exception:
                logger.exception("recovery of %s deliveries failed", kind.value)
        return RecoveryRun(len(unfinished), finished)
