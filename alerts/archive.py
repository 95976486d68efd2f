"""Consumed events into SQL (``event_archive``) for history queries and rule replay.

Batched, idempotent, trimmed by retention.

Insert-or-ignore on (family, event_id), so a redelivered batch after a crash archives nothing twice.

The hot path of the engine: every event is archived. The insert is compiled once per dialect and run as one
driver ``executemany`` with the documents serialised by orjson: SQLAlchemy's per-row parameter processing
(ORM bulk path, bind processors, the stdlib JSON encoder) was a third of the engine's time (docs/alerts.md).
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Dialect, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from onescreen.db.models import EventArchive

INSERTS = {"sqlite": sqlite_insert, "postgresql": pg_insert}
COLUMNS = ("family", "event_id", "ts", "community_id", "doc")


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
    conn = session.connection()
    sql, positions = _statement(conn.dialect)
    rows = [
        (d["family"], event_id(d), int(d["ts"]), d.get("community_id"), orjson.dumps(d).decode())
        for d in docs
    ]
    if positions is None:  # named parameters (psycopg)
        conn.exec_driver_sql(sql, [dict(zip(COLUMNS, r)) for r in rows])
    else:  # positional (sqlite's qmark)
        conn.exec_driver_sql(sql, [tuple(r[i] for i in positions) for r in rows] if positions else rows)


_STATEMENTS: dict[str, tuple[str, tuple[int, ...] | None]] = {}


def _statement(dialect: Dialect) -> tuple[str, tuple[int, ...] | None]:
    """The dialect's insert-or-ignore as driver SQL (with the dialect's JSON cast, if it has one), and for a
    positional paramstyle the order of ``COLUMNS`` in it (empty tuple: already in that order)."""
    cached = _STATEMENTS.get(dialect.name)
    if cached is None:
        stmt = INSERTS[dialect.name](EventArchive.__table__).on_conflict_do_nothing(
            index_elements=["family", "event_id"]
        )
        compiled = stmt.compile(dialect=dialect, column_keys=list(COLUMNS), for_executemany=True)
        positions = None
        if compiled.positional:
            order = tuple(COLUMNS.index(name) for name in compiled.positiontup or ())
            positions = () if order == tuple(range(len(COLUMNS))) else order
        cached = _STATEMENTS[dialect.name] = (compiled.string, positions)
    return cached


def trim(session: Session, older_than_ms: int) -> int:
    """Delete archived events older than the retention; returns how many."""
    return session.execute(delete(EventArchive).where(EventArchive.ts < older_than_ms)).rowcount or 0
