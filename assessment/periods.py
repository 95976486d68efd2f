"""Assessment periods: a day, a week (Monday to Sunday) or a calendar month in the city's zone.

The current period runs from its local start to now (figures "to date"); the previous period is the whole
one before it, which is what a ranking's change is measured against. Bounds are aware datetimes, start
inclusive and end exclusive; SQL is queried in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

KINDS = ("day", "week", "month")


@dataclass(frozen=True)
class Period:
    """[start, end) in the city's zone; ``label`` names it for screens and files (2026-12-05, 2026-W49, 2026-12)."""

    kind: str
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.date().isoformat()
        if self.kind == "week":
            year, week, _ = self.start.date().isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    def utc(self) -> tuple[datetime, datetime]:
        return self.start.astimezone(UTC), self.end.astimezone(UTC)


def _first_day(kind: str, day: date) -> date:
    if kind == "day":
        return day
    if kind == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_first(kind: str, first: date) -> date:
    if kind == "day":
        return first + timedelta(days=1)
    if kind == "week":
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_of(kind: str, at: datetime, tz: str | ZoneInfo) -> Period:
    """The whole period of ``kind`` that contains instant ``at`` (local midnight to local midnight)."""
    if kind not in KINDS:
        raise ValueError(f"period must be one of {', '.join(KINDS)}")
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    first = _first_day(kind, at.astimezone(zone).date())
    return Period(kind, datetime.combine(first, time(), zone), datetime.combine(_next_first(kind, first), time(), zone))


def previous(period: Period) -> Period:
    """The whole period just before ``period``."""
    zone = period.start.tzinfo
    return period_of(period.kind, period.start - timedelta(hours=12), zone)  # type: ignore[arg-type]


def to_date(period: Period, now: datetime) -> Period:
    """``period`` cut at ``now`` when it is still running (the current period's figures are to date)."""
    return period if now >= period.end else Period(period.kind, period.start, max(period.start, now))
