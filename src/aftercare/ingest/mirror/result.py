"""What applying a batch to the mirror did, per record and in total."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # same content as stored (a duplicate or replayed delivery)
    STALE = "stale"  # older than what we have: never rolls state back
    DELETED = "deleted"
    NOT_FOUND = "not_found"  # a *.deleted for something we never had (or of another type)
    SUPPRESSED = "suppressed"  # a person erased under the GDPR: not mirrored again


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)  # one per input record, in order

    def count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o is outcome)

    @property
    def created(self) -> int:
        return self.count(Outcome.CREATED)

    @property
    def updated(self) -> int:
        return self.count(Outcome.UPDATED)

    @property
    def unchanged(self) -> int:
        return self.count(Outcome.UNCHANGED)

    @property
    def stale(self) -> int:
        return self.count(Outcome.STALE)

    def summary(self) -> dict[str, int]:
        return {o.value: self.count(o) for o in Outcome if self.count(o)}
