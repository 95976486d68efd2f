"""The case loop without a browser: the simulated grid (a scenario walks one case round the loop, the daily
rhythm reports), camera frames kept as evidence, the reminder worker (督办), numbering, the pure lifecycle."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from cases import lifecycle
from cases.worker import CaseWorker, recipients
from onescreen import names
from onescreen.db.models import Case, CasePhoto, CaseStep
from sim.cases import CaseRhythm, Desk, report_one, walk
from tests.case_helpers import case_world, jpeg  # noqa: F401 (fixture)

pytestmark = pytest.mark.services


@pytest.mark.parametrize(("action", "status", "ok"), [
    ("accept", "reported", True), ("accept", "accepted", False), ("assign", "accepted", True),
    ("assign", "assigned", True), ("start", "accepted", False), ("handle", "in_progress", True),
    ("handle", "reported", False), ("evaluate", "handled", True), ("archive", "handled", False),
    ("archive", "evaluated", True), ("return", "assigned", True), ("escalate", "handled", False),
])
def test_lifecycle_table(action, status, ok):
    if ok:
        assert lifecycle.check_transition(action, status).name == action
    else:
        with pytest.raises(lifecycle.IllegalTransition):
            lifecycle.check_transition(action, status)


def test_role_matrix():
    lifecycle.check_role("department", "handle", own_assignment=True, own_report=False)
    for role, action, own in (("department", "handle", False), ("grid", "accept", True), ("operator", "archive", True),
                              ("grid", "evaluate", False), ("duty", "assign", True)):
        with pytest.raises(lifecycle.RoleRefused):
            lifecycle.check_role(role, action, own_assignment=own, own_report=own)
    assert lifecycle.evaluated_status(2) == "assigned" and lifecycle.evaluated_status(3) == "evaluated"


def test_scenario_walks_a_case_round_the_loop_and_the_rhythm_reports(case_world, redis_client):  # noqa: F811
    desk = Desk.open(case_world.settings)
    lines: list[str] = []
    cid = walk(desk, "dispute", 0.0, lines.append, random.Random(3), sleep=lambda s: None)
    with desk.sessions() as s:
        case = s.execute(select(Case).where(Case.case_id == cid)).scalar_one()
        steps = [x.action for x in s.execute(select(CaseStep).where(CaseStep.case_pk == case.id)
                                             .order_by(CaseStep.id)).scalars()]
        kinds = sorted(p.kind for p in s.execute(select(CasePhoto).where(CasePhoto.case_pk == case.id)).scalars())
    assert case.status == "archived" and case.assignee_kind == "department" and case.satisfaction == 5
    assert steps == ["report", "photo", "accept", "assign", "start", "photo", "handle", "evaluate", "archive"]
    assert kinds == ["feedback", "report"] and len(lines) == 8
    assert any(e[1][b"t"] == f"cases/{cid}".encode() for e in redis_client.xrange(names.ALERT_OUTBOX))
    rhythm = CaseRhythm(case_world.settings, 1, rate=1e7)  # absurdly busy: reports on the next tick
    rhythm.last -= 10
    assert rhythm.tick(time.time()) == 1 and rhythm.reported == 1
    desk.redis.close()


def test_camera_frames_are_kept_as_evidence(case_world, redis_client):  # noqa: F811
    desk = Desk.open(case_world.settings)
    cam = desk.env.places.reg.cameras()[0]
    redis_client.set(names.camera_snapshot(cam.id), jpeg(320, 240))
    from cases import commands

    desk_actor = desk.actor("supervisor")
    case = desk.run(commands.report, desk_actor, {"category": "public_order", "description": "聚集", "lat": cam.lat,
                                            "lon": cam.lon})
    with desk.sessions() as s:
        frames = s.execute(select(CasePhoto.kind, CasePhoto.camera_id).where(CasePhoto.case_pk == case.id)).all()
    assert (("camera", cam.id) in [tuple(f) for f in frames]) and case.photos == 0
    desk.redis.close()


def test_the_worker_reminds_overdue_cases_once_per_period(case_world, redis_client):  # noqa: F811
    desk = Desk.open(case_world.settings)
    case = report_one(desk, random.Random(5), "hazard", photo=False)
    with desk.sessions() as s:
        s.execute(update(Case).where(Case.case_id == case.case_id)
                  .values(deadline=datetime.now(UTC) - timedelta(minutes=1)))
        s.commit()
    worker = CaseWorker(case_world.settings, "test")
    worker.setup()
    try:
        worker.stop_event.set()  # step() returns at once after its work
        worker.step()
        worker.step()  # within remind_every_min: not again
    finally:
        worker.teardown()
    with desk.sessions() as s:
        c = s.execute(select(Case).where(Case.case_id == case.case_id)).scalar_one()
        reminds = s.execute(select(CaseStep).where(CaseStep.case_pk == c.id, CaseStep.action == "remind")).scalars()
        reminds = list(reminds)
    assert c.reminders == 1 and len(reminds) == 1 and worker.reminded == 1
    assert reminds[0].detail["to"] == recipients(c) and reminds[0].detail["to"][1].startswith("district:")
    desk.redis.close()


def test_ids_are_per_day_and_consecutive(case_world):  # noqa: F811
    from cases.ids import next_case_id
    from onescreen.db.session import make_engine, session_factory

    engine = make_engine(case_world.url)
    day = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)
    with session_factory(engine)() as s:
        got = [next_case_id(s, day, "Asia/Shanghai") for _ in range(3)]
        other = next_case_id(s, day + timedelta(days=1), "Asia/Shanghai")
        s.commit()
    engine.dispose()
    assert got == ["E-20261205-000001", "E-20261205-000002", "E-20261205-000003"]
    assert other == "E-20261206-000001"


def test_every_refusal_has_a_text_in_both_languages():
    """Every reason a case command refuses with is shown on the pages in the screen's language."""
    import re
    from pathlib import Path

    from dashboard.desk.cases_texts import CASES_TEXTS

    src = "".join(p.read_text() for p in (Path(__file__).parents[1] / "cases").glob("*.py"))
    reasons = set(re.findall(r'"cases\.([a-z_]+)"', src))
    reasons |= {f"missing_{k}" for k in ("description", "note", "into", "feedback")}
    reasons |= {f"photo_{r}" for r in ("too_large", "not_an_image", "empty")}
    for lang in ("zh", "en"):
        missing = sorted(r for r in reasons if f"cases.err.{r}" not in CASES_TEXTS[lang])
        assert missing == [], (lang, missing)
    assert CASES_TEXTS["zh"].keys() == CASES_TEXTS["en"].keys()


def test_hot_spots_count_cases_by_community_and_local_hour(case_world):  # noqa: F811
    from cases import queries
    from onescreen.commands import Actor

    desk = Desk.open(case_world.settings)
    for seed in range(4):
        report_one(desk, random.Random(seed), "dispute", photo=False)
    with desk.sessions() as s:
        spots = queries.hot_spots(s, Actor("t", "supervisor"), datetime.now(UTC) - timedelta(days=7), "Asia/Shanghai")
    assert sum(map(sum, spots.values())) == 4 and all(len(v) == 24 for v in spots.values())
    desk.redis.close()


def test_cli_binds_grid_and_department_accounts(case_world):  # noqa: F811
    """``onescreen users add --role grid --worker W-…`` / ``--role department --department …``; a clear
    message, not a trace, when the binding is missing or unknown."""
    from tests.test_cli import onescreen

    env = {"ONESCREEN_DATABASE_URL": case_world.url, "PW": "grid-pass-123"}
    ok = onescreen("users", "add", "wang", "--role", "grid", "--worker", case_world.worker, "--password-env", "PW",
                   env=env)
    assert ok.returncode == 0, ok.stderr
    ok = onescreen("users", "add", "cg", "--role", "department", "--department", case_world.department,
                   "--password-env", "PW", env=env)
    assert ok.returncode == 0, ok.stderr
    for args, message in ((("--role", "grid"), "needs its grid worker"),
                          (("--role", "grid", "--worker", "W-nope"), "'W-nope' is not a grid worker"),
                          (("--role", "operator", "--department", case_world.department), "only a department")):
        bad = onescreen("users", "add", "x1", *args, "--password-env", "PW", env=env)
        assert bad.returncode != 0 and message in bad.stderr and "Traceback" not in bad.stderr, bad.stderr
