"""Consumed events into SQL (``event_archive``) for history queries and rule replay.

Batched, idempotent, trimmed by retention.

Insert-or-ignore on (family, event_id), so a redelivered batch after a crash archives nothing twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onescreen.db.models import EventArchive

INSERTS = {"sqlite": sqlite_insert, "postgresql": pg_insert}


def event_id(doc: dict[str, Any]) -> str:
    """The event's id; video analysis entries have none, so camera@ts stands in (one entry per frame)."""
    ident = doc.get("event_id")
    if ident:
        return str(ident)[:160]
    return f"{doc.get('camera_id') or doc.get('device_id') or '-'}@{doc['ts']}"[:160]


def archive(session: Session, docs: list[dict[str, Any]]) -> None:
    """Queue the batch's events on the session's transaction (the caller commits)."""
    if not docs:
        return
    rows = [
        {
            "family": d["family"],
            "event_id": event_id(d),
            "ts": int(d["ts"]),
            "community_id": d.get("community_id"),
            "doc": d,
        }
        for d in docs
    ]
    insert = INSERTS[session.get_bind().dialect.name]
    session.execute(insert(EventArchive).on_conflict_do_nothing(index_elements=["family", "event_id"]), rows)


def trim(session: Session, older_than_ms: int) -> int:
    """Delete archived events older than the retention; returns how many."""
    return session.execute(delete(EventArchive).where(EventArchive.ts < older_than_ms)).rowcount or 0
