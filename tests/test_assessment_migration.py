"""Migration 0010 (issue #16, speed): the case facts the assessment counts become columns, filled for the rows
that exist. Table-driven: steps written as the cases code writes them before 0010 (detail only), then the
upgrade; every copy must equal what ``CaseStep.facts`` / ``CaseStep.place`` give a new step (the writer's
rule), on SQLite and on PostgreSQL (JSON is read with each dialect's own SQL)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from onescreen.db.models import Case, CaseStep
from onescreen.db.session import make_engine, upgrade

T = datetime(2026, 12, 5, 1, 0, tzinfo=UTC)

# (case, minutes after the report, action, detail) -> expected (on_time, satisfaction, previous kind, previous id)
STEPS = [
    (1, 0, "report", {}, (None, None, None, None)),
    (1, 20, "accept", {"deadline": "2026-12-05T09:20:00+08:00"}, (None, None, None, None)),
    (1, 25, "assign", {"assignee": {"kind": "unit", "id": "P-1"}}, (None, None, None, None)),
    (1, 30, "return", {"previous": {"kind": "unit", "id": "P-1"}}, (None, None, "unit", "P-1")),
    (1, 35, "grade", {"previous": "red"}, (None, None, None, None)),  # a grade's previous is a level: no copy
    (1, 40, "escalate", {}, (None, None, None, None)),
    (1, 90, "handle", {"on_time": False}, (False, None, None, None)),
    (1, 95, "evaluate", {"satisfaction": 2, "on_time": True}, (True, 2, None, None)),
    (1, 120, "handle", {"on_time": True}, (True, None, None, None)),
    (1, 130, "remind", {"to": ["x"], "n": 1}, (None, None, None, None)),
    (2, 0, "handle", {"on_site": True}, (True, None, None, None)),  # handled on the spot: on time
    (2, 10, "evaluate", {"satisfaction": 5}, (None, 5, None, None)),
    (3, 0, "report", {}, (None, None, None, None)),  # never accepted
]
CASES = {1: ("grid", "W-1", "D01", "C0101"), 2: ("hotline", "op", "D01", "C0102"), 3: ("grid", "W-2", None, None)}


def _seed(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        for pk, (source, reporter, district, community) in CASES.items():
            conn.execute(sa.text(
                "INSERT INTO case_record (id, case_id, source, category, level, graded, status, open, "
                "handling_level, district_id, community_id, description, reporter, reporters, outside_own_cells, "
                "photos, reported_at, updated_at, accepted_at, reminders) VALUES (:id, :cid, :source, 'x', 'red', "
                ":t, 'accepted', :t, 'community', :d, :c, 'x', :r, '[]', :f, 0, :at, :at, :acc, 0)"),
                {"id": pk, "cid": f"E-M{pk}", "source": source, "d": district, "c": community, "r": reporter,
                 "t": True, "f": False, "at": T, "acc": T + timedelta(minutes=40) if pk == 1 else None})
        for pk, minutes, action, detail, _ in STEPS:
            conn.execute(sa.text(
                "INSERT INTO case_step (case_pk, at, action, to_status, level, actor, detail) "
                "VALUES (:pk, :at, :action, 'x', 'red', 'test', :detail)"),
                {"pk": pk, "at": T + timedelta(minutes=minutes), "action": action, "detail": json.dumps(detail)})
    engine.dispose()


def _check(url: str) -> None:
    upgrade(url, "0009_worker_online")
    _seed(url)
    upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as db:
            steps = db.execute(sa.select(CaseStep).order_by(CaseStep.id)).scalars().all()
            cases = {c.id: c for c in db.execute(sa.select(Case)).scalars()}
            got = [(s.on_time, s.satisfaction, s.previous_kind, s.previous_id) for s in steps]
            assert got == [want for *_, want in STEPS]
            for s in steps:  # the migration's rule is the writer's rule
                assert got[steps.index(s)] == tuple(CaseStep.facts(s.action, s.detail).values())
                assert (s.district_id, s.community_id, s.grid_worker_id) == tuple(
                    CaseStep.place(cases[s.case_pk]).values())
            assert [(s.case_pk, s.grid_worker_id) for s in steps if s.action in ("report", "evaluate")] == [
                (1, "W-1"), (1, "W-1"), (2, None), (3, "W-2")]  # a hotline case is no worker's
            first = {pk: c.first_accepted_at and c.first_accepted_at.replace(tzinfo=UTC) for pk, c in cases.items()}
            # the accept step's time, not accepted_at (restarted at 40 min by the escalation)
            assert first == {1: T + timedelta(minutes=20), 2: None, 3: None}
    finally:
        engine.dispose()


def test_migration_0010_fills_the_columns_on_sqlite(tmp_path):
    _check(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migration_0010_fills_the_columns_on_postgres(postgres_cluster):
    import psycopg

    name = "mig_" + uuid.uuid4().hex[:8]
    with psycopg.connect(host="127.0.0.1", port=postgres_cluster.port, user="postgres", dbname="postgres",
                         autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    _check(postgres_cluster.url.rsplit("/", 1)[0] + "/" + name)
