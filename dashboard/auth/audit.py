"""The audit log of non-alert actions (``audit_log``); alert actions are audited in ``alert_transition``."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from onescreen.db.models import AuditLog

log = logging.getLogger(__name__)


def record(engine_or_session: Engine | Session, actor: str, action: str, *, user_id: int | None = None,
           role: str | None = None, target: str | None = None, detail: dict[str, Any] | None = None,
           remote_addr: str | None = None) -> None:
    """Write one row; given a Session the row joins its transaction, given an Engine it is committed at once."""
    row = AuditLog(actor=(actor or "?")[:64], user_id=user_id, role=role, action=action,
                   target=target and target[:300], detail=detail or {}, remote_addr=remote_addr)
    if isinstance(engine_or_session, Session):
        engine_or_session.add(row)
        return
    with Session(engine_or_session) as session:
        session.add(row)
        session.commit()
    log.info("audit %s by %s from %s: %s", action, actor, remote_addr, target)
