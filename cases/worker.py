"""The case worker: finds overdue cases and reminds (督办) their assignee and the level above. Never page loads.

A case past its deadline (CONTRACT §6) gets a ``remind`` step every ``cases.remind_every_min`` while it stays
overdue: the step names whom it reminds (the assignee, or the handling level's desk when unassigned, and the
level above) and the change is announced like any other (MQTT ``city/cases/{id}``, the screens). Several
workers may run: a reminder is written with a conditional UPDATE on ``reminded_at``, so only one wins.
Run as ``onescreen cases-worker`` (the demo starts one).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from cases import lifecycle, store
from onescreen.db.models import Case, CaseStep
from onescreen.db.session import make_engine, session_factory
from onescreen.redisconn import connect
from onescreen.settings import Settings
from onescreen.worker import Worker

log = logging.getLogger(__name__)


def recipients(case: Case) -> list[str]:
    """Whom a reminder goes to: the assignee (or the handling level's desk) and the level above it."""
    if case.assignee_kind:
        first = f"{case.assignee_kind}:{case.assignee_id}"
    else:
        first = f"{case.handling_level}:{case.community_id if case.handling_level == 'community' else case.district_id}"
    above = {"community": f"district:{case.district_id}", "district": "city", "city": "city"}[case.handling_level]
    return [first, above]


def remind_overdue(session: Session, now: datetime, every: timedelta, limit: int = 200) -> list[str]:
    """Write one reminder step on each overdue case not reminded within ``every``; the case ids reminded."""
    due = (select(Case).where(Case.open.is_(True), Case.status.in_(lifecycle.OPEN_STATUSES), Case.deadline < now,
                              or_(Case.reminded_at.is_(None), Case.reminded_at < now - every))
           .order_by(Case.deadline).limit(limit))
    done = []
    for case in session.execute(due).scalars().all():
        prev = case.reminded_at
        cond = Case.reminded_at.is_(None) if prev is None else Case.reminded_at == prev
        won = session.execute(update(Case).where(and_(Case.id == case.id, cond))
                              .values(reminded_at=now, reminders=Case.reminders + 1, updated_at=now)
                              .execution_options(synchronize_session=False)).rowcount
        if not won:
            continue  # another worker reminded it just now
        to = recipients(case)
        session.add(CaseStep(case_pk=case.id, at=now, action="remind", from_status=case.status,
                             to_status=case.status, level=case.level, actor="system", role=None,
                             note=None, detail={"to": to, "n": case.reminders + 1,
                                                "deadline": store.aware(case.deadline).isoformat()},
                             **CaseStep.place(case)))
        session.info.setdefault("cases_changed", set()).add(case.case_id)
        done.append(case.case_id)
    return done


class CaseWorker(Worker):
    """Every ``cases.check_every_s``: remind the overdue cases, then announce them."""

    kind = "cases"

    def __init__(self, settings: Settings, instance: str | None = None):
        super().__init__(settings, instance)
        self.reminded = 0
        self._redis: Any = None

    def setup(self) -> None:
        self._engine = make_engine(self.settings.database.url)
        self._sessions = session_factory(self._engine)
        self._redis = connect(self.settings.redis, decode=False)

    def step(self) -> None:
        now = datetime.now(UTC)
        cfg = self.settings.cases
        with self._sessions() as session:
            ids = remind_overdue(session, now, timedelta(minutes=cfg.remind_every_min))
            session.commit()
            if ids:
                store.announce_changed(session, self._redis, self.settings.city.timezone, now)
                self.reminded += len(ids)
                log.info("reminded %d overdue case(s): %s", len(ids), ", ".join(ids[:10]))
        self.stop_event.wait(cfg.check_every_s)

    def teardown(self) -> None:
        if self._redis is not None:
            self._redis.close()
        self._engine.dispose()

    def health(self) -> dict[str, Any]:
        return {"reminded": self.reminded}
