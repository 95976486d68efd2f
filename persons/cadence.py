"""When a key person's next visit (走访) falls due: by level, from the last visit (pure, table-tested).

CONTRACT §7 defaults: red weekly, orange every 2 weeks, yellow monthly, green none; ``persons.visit_*_days``
in the settings change them (0 = no visits due at that level). A person never visited is due at once: the
file has no visit to count from, and "never visited" is exactly what the 8 a.m. check wants to see first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

LEVELS = ("red", "orange", "yellow", "green")
LEVEL_RANK = {level: i for i, level in enumerate(LEVELS)}  # red first
METHODS = ("home", "phone", "video")


@dataclass(frozen=True, slots=True)
class Cadence:
    """Days between visits per level; 0 = no visit due."""

    red: int = 7
    orange: int = 14
    yellow: int = 30
    green: int = 0

    @classmethod
    def from_settings(cls, persons: Any) -> Cadence:
        return cls(persons.visit_red_days, persons.visit_orange_days, persons.visit_yellow_days,
                   persons.visit_green_days)

    def days(self, level: str) -> int:
        return int(getattr(self, level, 0) or 0) if level in LEVELS else 0


@dataclass(frozen=True, slots=True)
class VisitDue:
    """The visit state of one person at one instant."""

    due: datetime | None  # None: no visit due at this level
    overdue: bool
    never_visited: bool


def visit_due(level: str, last_visit: datetime | None, now: datetime, cadence: Cadence) -> VisitDue:
    """When the next visit is due and whether it is overdue at ``now`` ("overdue" = strictly past due)."""
    days = cadence.days(level)
    if days <= 0:
        return VisitDue(None, False, last_visit is None)
    if last_visit is None:
        return VisitDue(now, True, True)
    due = last_visit + timedelta(days=days)
    return VisitDue(due, now > due, False)
