"""The alert tables on PostgreSQL (the production database): migration 0002, one alert per condition,
lifecycle, event archive insert-or-ignore."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from alerts import archive, store
from alerts.lifecycle import IllegalTransition
from alerts.rules.base import Decision, Subject
from onescreen.db.models import Alert, EventArchive
from onescreen.db.session import make_engine, session_factory, upgrade

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg(postgres_url):
    """A fresh schema-qualified database: drop everything, migrate to head."""
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE alert, alert_transition, alert_snapshot, event_archive CASCADE"))
    yield engine
    engine.dispose()


def decision(subject: str, action: str = "raise") -> Decision:
    loc = {"district_id": "D01", "community_id": "C0101", "cell_id": "G010101", "lat": 26.6, "lon": 118.1}
    return Decision(
        action,
        "gathering",
        Subject("camera_zone", subject),
        "orange",
        loc,
        {"persons": 12},  # type: ignore[arg-type]
        datetime.now(UTC).timestamp(),
    )


def test_alerts_on_postgres(pg):
    subject = f"C-{uuid.uuid4().hex[:6]}/gate"
    with session_factory(pg)() as session:
        alert = store.open_alert(session, decision(subject), "Asia/Shanghai", route_unit="P-001")
        session.commit()
        assert alert.alert_id.startswith("A-") and store.find_active(
            session, "gathering", "camera_zone", subject
        )
        now = datetime.now(UTC)
        store.act(session, alert, "ack", now, actor="op")
        store.act(session, alert, "dispatch", now, actor="op")  # default: the routed unit
        assert alert.assignee == "P-001"
        with pytest.raises(IllegalTransition):
            store.act(session, alert, "close", now)
        session.commit()
        doc = store.to_contract(alert, "Asia/Shanghai")
        assert doc["status"] == "dispatched" and doc["clocks"]["ack_s"] >= 0
        assert [h["action"] for h in store.history(session, alert, "Asia/Shanghai")] == [
            "open",
            "ack",
            "dispatch",
        ]
    with session_factory(pg)() as session, pytest.raises(IntegrityError):
        session.add(
            Alert(
                rule="gathering",
                level="orange",
                status="open",
                subject_kind="camera_zone",
                subject_id=subject,
                active_key=store.active_key("gathering", "camera_zone", subject),
                evidence={},
                condition="active",
                reminders=0,
            )
        )
        session.commit()


def test_archive_is_idempotent_on_postgres(pg):
    docs = [
        {"family": "access", "event_id": f"e{i}", "ts": 1_700_000_000_000 + i, "community_id": "C0101"}
        for i in range(5)
    ]
    for _ in range(2):
        with session_factory(pg)() as session:
            archive.archive(session, docs)
            session.commit()
    with session_factory(pg)() as session:
        assert session.execute(sa.select(sa.func.count()).select_from(EventArchive)).scalar() == 5
        assert archive.trim(session, 1_700_000_000_003) == 3
        session.commit()
