"""Key persons on PostgreSQL (the production database): migration 0006_persons, the commands (row lock on
re-grading), the file's sightings read from the archived JSON (``doc->>'person_id'``), 在控率, and a re-import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dashboard.components.wall_persons import summary
from onescreen.commands import Actor
from onescreen.db.models import AuditLog, EventArchive, PersonGrade, PersonVisit
from onescreen.db.session import make_engine, session_factory, upgrade
from onescreen.registry.bundle import write_bundle
from onescreen.registry.importer import import_bundle
from persons import commands, queries
from persons.cadence import Cadence
from sim.citygen import generate_city
from tests.city_fixtures import SMALL

pytestmark = pytest.mark.postgres


def test_persons_on_postgres(postgres_url, tmp_path):
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    bundle = generate_city(seed=9, **{**SMALL, "watchlist": 10})
    write_bundle(tmp_path / "b", bundle)
    import_bundle(engine, tmp_path / "b")
    red = next(w for w in bundle.watchlist if w.level == "red")
    sup = Actor(username="sup", role="supervisor", user_id=None)
    now = datetime.now(UTC)
    with session_factory(engine)() as s:
        s.execute(PersonGrade.__table__.delete())
        commands.grade(s, sup, red.person_id, commands.GradeInput("orange", "稳定"), now)
        commands.record_visit(s, sup, red.person_id, commands.VisitInput(now - timedelta(hours=1), "video"), now)
        ms = int(now.timestamp() * 1000)
        s.add_all([EventArchive(family=f, event_id=f"pg-{f}-{red.person_id}", ts=ms - 60_000,
                                community_id=red.home_community_id,
                                doc={"person_id": red.person_id, "door_id": "D-PG", "direction": "in"})
                   for f in ("access", "watch")])
        s.commit()
        doc = queries.person_file(s, sup, red.person_id, now, Cadence(), "Asia/Shanghai")
        assert doc["level"] == "orange" and [x["door_id"] for x in doc["sightings"]] == ["D-PG"]
        assert [v["method"] for v in doc["visits"]] == ["video"] and not doc["visit_overdue"]
        from alerts import store
        from alerts.rules.base import Decision, Subject

        ev = {"persons": [{"person_id": red.person_id, "watch_level": "red"}], "count": 3}
        gathering = store.open_alert(s, Decision("raise", "key_person_gathering", Subject("community", "C-pg"), "red",
                                                 {"community_id": "C-pg"}, ev, now.timestamp()), "UTC")
        s.commit()
        assert [a["rule"] for a in queries.alerts(s, red.person_id, "UTC")] == ["key_person_gathering"]
        s.delete(gathering)
        s.commit()
        wall = summary(s, None, now, Cadence(), 24)
        assert wall["in_control"] >= 1 and wall["counts"]["orange"] >= 1
    import_bundle(engine, tmp_path / "b")  # the file still says red: the import is in the level history
    with session_factory(engine)() as s:
        rows = s.execute(select(PersonGrade).where(PersonGrade.person_id == red.person_id)
                         .order_by(PersonGrade.id)).scalars().all()
        assert [(r.to_level, r.actor) for r in rows] == [("orange", "sup"), ("red", "import")]
        s.execute(EventArchive.__table__.delete().where(EventArchive.event_id.like("pg-%")))
        for table in (PersonGrade, PersonVisit):  # leave the shared cluster as found
            s.execute(table.__table__.delete())
        s.execute(AuditLog.__table__.delete().where(AuditLog.action.like("person_%")))
        s.commit()
    engine.dispose()
