"""When a video patrol plan is due, and which due rounds were not made: pure, over local times.

A plan is due every ``every_min`` minutes inside its local window ``start``-``end`` (end before start: over
midnight; equal: all day), the first time at ``start``. A due time counts as done when a round of the plan
started within ``grace_min`` after it (or up to ``every_min`` before the next one, whichever is sooner);
otherwise it is missed. The assessment reads the missed ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)


def due_times(start: str, end: str, every_min: int, since: datetime, until: datetime) -> list[datetime]:
    """The due times in ``[since, until)`` (aware local datetimes), in order."""
    s, e = _minutes(start), _minutes(end)
    length = (e - s) % 1440 or 1440  # window length in minutes
    out: list[datetime] = []
    day = (since - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    while day < until:
        window_start = day + timedelta(minutes=s)
        k = 0
        while k * every_min < length:
            t = window_start + timedelta(minutes=k * every_min)
            if since <= t < until:
                out.append(t)
            k += 1
        day = (day + timedelta(days=1, hours=3)).replace(hour=0)  # next local day (DST-safe)
    return sorted(set(out))


def missed(due: list[datetime], started: Iterable[datetime], every_min: int, grace_min: int = 30) -> list[datetime]:
    """The due times no round started for: within ``min(grace_min, every_min)`` minutes after each."""
    window = timedelta(minutes=min(grace_min, every_min))
    starts = sorted(started)
    return [t for t in due if not any(t <= s < t + window for s in starts)]
