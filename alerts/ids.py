"""Alert ids: ``A-<local date>-<6 digits>`` from the SQL row id: unique without a second counter."""

from __future__ import annotations

from datetime import datetime

from onescreen.timeutil import _zone


def alert_id(pk: int, opened_at: datetime, tz: str) -> str:
    return f"A-{opened_at.astimezone(_zone(tz)).strftime('%Y%m%d')}-{pk:06d}"
