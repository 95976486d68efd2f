"""Patrol on-post (在岗在位) sampled over time: ``/patrol`` judges a unit live from its latest position, and
positions are not kept in SQL, so the sampler records, per unit and hour, how many samples expected it at its
post (its shift on) and how many found it there. ``verdict`` is ``/patrol``'s rule (``desk.data.unit_states``)
as a pure function; ``add_sample`` is the SQL edge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onescreen.db.models import PatrolPostHour
from onescreen.geo import distance_m
from onescreen.timeutil import local_time, on_shift

SILENT_AFTER_S = 300  # CONTRACT off_post: no position for this long = silent (as /patrol)


def verdict(post: Any, fix: dict[str, Any] | None, now: float, tz: str) -> bool | None:
    """None when the unit is not expected at a post now (no post, or off shift); else whether it is on post:
    a position younger than ``SILENT_AFTER_S`` within the post's radius."""
    if post is None or not on_shift(post.shift_start, post.shift_end, local_time(now, tz)):
        return None
    if not fix or fix.get("lat") is None or fix.get("lon") is None:
        return False
    if now - float(fix.get("ts", 0)) / 1000.0 > SILENT_AFTER_S:
        return False
    return distance_m(float(fix["lat"]), float(fix["lon"]), post.lat, post.lon) <= post.radius_m


def add_sample(session: Session, hour: datetime, verdicts: dict[str, bool | None],
               place: dict[str, tuple[str | None, str | None]]) -> int:
    """Add one sample's verdicts (unit -> on post, None = not expected) to the hour's rows; the caller commits."""
    rows = {r.unit_id: r for r in session.execute(
        select(PatrolPostHour).where(PatrolPostHour.hour == hour)).scalars()}
    n = 0
    for unit, on in verdicts.items():
        if on is None:
            continue
        row = rows.get(unit)
        if row is None:
            community, district = place.get(unit, (None, None))
            row = PatrolPostHour(hour=hour, unit_id=unit, community_id=community, district_id=district, samples=0,
                                 on_post=0)
            session.add(row)
        row.samples += 1
        row.on_post += bool(on)
        n += 1
    return n
