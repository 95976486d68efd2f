"""Case ids ``E-<local date>-<6 digits>``: a per-day counter row bumped inside the report's transaction.

The UPDATE takes the row's write lock (PostgreSQL row lock, SQLite database lock) until the transaction ends,
so two dashboard processes reporting at once get consecutive numbers, never the same one. The first report of
a day inserts the row; a process that loses that race retries the UPDATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onescreen.db.models import CaseCounter
from onescreen.timeutil import _zone


def next_case_id(session: Session, at: datetime, tz: str) -> str:
    """The next id of the local day of ``at``, e.g. ``E-20261205-000017``."""
    day = at.astimezone(_zone(tz)).strftime("%Y%m%d")
    for _ in range(3):
        done = session.execute(update(CaseCounter).where(CaseCounter.day == day).values(n=CaseCounter.n + 1))
        if done.rowcount:
            n = session.execute(select(CaseCounter.n).where(CaseCounter.day == day)).scalar_one()
            return f"E-{day}-{n:06d}"
        try:
            with session.begin_nested():
                session.execute(insert(CaseCounter).values(day=day, n=1))
            return f"E-{day}-{1:06d}"
        except IntegrityError:
            continue  # another process inserted the day's row first: bump it
    raise RuntimeError(f"could not number a case for {day}")
