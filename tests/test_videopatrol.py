"""Video patrol (videopatrol/): plans, rounds, marks and the log as commands over a migrated database; the
schedule as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from cases.commands import CaseEnv
from cases.places import places_for
from onescreen import names
from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import AuditLog, Case, CasePhoto, CaseStep, VideoPatrolMark
from onescreen.db.session import make_engine, session_factory, upgrade
from onescreen.registry.bundle import write_bundle
from onescreen.registry.importer import import_bundle
from onescreen.settings import CaseSettings
from sim.citygen import generate_city
from tests.case_helpers import jpeg
from tests.city_fixtures import SMALL
from videopatrol import commands as vp
from videopatrol.schedule import due_times, missed

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 5, 22, 0, tzinfo=TZ)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    root = tmp_path_factory.mktemp("vp")
    url = f"sqlite:///{root / 'db.sqlite'}"
    upgrade(url)  # the migration chain, 0008_entrances included
    bundle = generate_city(seed=11, **SMALL)
    write_bundle(root / "city", bundle)
    engine = make_engine(url)
    import_bundle(engine, root / "city")
    comm_of = {n.id: n.parent_id for n in bundle.nodes if n.level == "cell"}
    by_comm: dict[str, list[str]] = {}
    for c in sorted(bundle.cameras, key=lambda c: c.id):
        by_comm.setdefault(comm_of[c.cell_id], []).append(c.id)
    yield engine, by_comm
    engine.dispose()


def actor(role: str, communities=None, name: str | None = None) -> Actor:
    return Actor(name or f"u-{role}", role, communities=None if communities is None else frozenset(communities))


def test_a_round_with_marks_and_the_log(city, redis_client):
    """A round with one 异常: the mark opens a case (source video_patrol, at the camera, the note, the camera's
    frame from Redis as evidence) in the same transaction; the log carries the case id."""
    engine, by_comm = city
    comm, other = sorted(by_comm)[:2]
    cams = by_comm[comm]
    boss, op = actor("supervisor"), actor("operator", {comm})
    env = CaseEnv(CaseSettings(), "Asia/Shanghai", places_for(engine), redis_client)
    redis_client.set(names.camera_snapshot(cams[-1]), jpeg(colour=200))
    with session_factory(engine)() as s:
        plan_id = vp.save_plan(s, boss, vp.PlanInput("夜间巡查", cams, 15, 120, "20:00", "06:00", comm), NOW)
        rnd = vp.start_round(s, op, plan_id, NOW)
        first = vp.mark_camera(s, op, rnd, cams[0], "normal", None, NOW + timedelta(seconds=15), env)
        assert s.get(VideoPatrolMark, first).case_id is None  # 正常 opens nothing
        with pytest.raises(Invalid):
            vp.mark_camera(s, op, rnd, cams[-1], "abnormal", "  ", NOW, env)  # 异常 needs a note
        with pytest.raises(Invalid):
            vp.mark_camera(s, op, rnd, cams[-1], "abnormal", "x", NOW, env, category="weather")
        mark = vp.mark_camera(s, op, rnd, cams[-1], "abnormal", "门口有人翻越", NOW + timedelta(seconds=30), env,
                              category="hazard")
        case_id = s.get(VideoPatrolMark, mark).case_id
        case = s.scalars(select(Case).where(Case.case_id == case_id)).one()
        cam = vp.camera_communities(s, [cams[-1]])
        assert (case.source, case.category, case.description, case.status, case.reporter) == (
            "video_patrol", "hazard", "门口有人翻越", "reported", "u-operator")
        assert case.community_id == cam[cams[-1]]
        (photo,) = s.scalars(select(CasePhoto).where(CasePhoto.case_pk == case.id)).all()
        assert (photo.kind, photo.camera_id, photo.n) == ("camera", cams[-1], 1) and photo.jpeg[:2] == b"\xff\xd8"
        assert s.scalars(select(CaseStep.action).where(CaseStep.case_pk == case.id)).all() == ["report"]
        with pytest.raises(Conflict):
            vp.mark_camera(s, op, rnd, cams[0], "normal", None, NOW, env)  # marked already
        with pytest.raises(Conflict):
            vp.mark_camera(s, actor("operator", {comm}, "someone-else"), rnd, cams[0], "normal", None, NOW, env)
        vp.finish_round(s, op, rnd, NOW + timedelta(minutes=1))
        with pytest.raises(Conflict):
            vp.finish_round(s, op, rnd, NOW)
        s.commit()
        (entry,) = [e for e in vp.patrol_log(s, op, NOW - timedelta(hours=1)) if e["round_id"] == rnd]
        assert entry["by"] == "u-operator" and entry["plan"] == "夜间巡查" and entry["finished_at"] is not None
        assert [(m["camera_id"], m["verdict"], m["case_id"]) for m in entry["marks"]] == [
            (cams[0], "normal", None), (cams[-1], "abnormal", case_id)]
        actions = s.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions[-5:] == ["videopatrol_plan", "videopatrol_start", "videopatrol_mark", "videopatrol_mark",
                                "videopatrol_finish"]
        # out of scope: the plan and its rounds do not exist for an operator of another community
        stranger = actor("operator", {other})
        with pytest.raises(NotFound):
            vp.start_round(s, stranger, plan_id, NOW)
        with pytest.raises(NotFound):
            vp.mark_camera(s, stranger, rnd, cams[0], "normal", None, NOW, env)
        assert all(e["round_id"] != rnd for e in vp.patrol_log(s, stranger, NOW - timedelta(hours=1)))


@pytest.mark.parametrize("who, inp, error", [
    ("operator", {"name": "x", "cameras": ["?"]}, Forbidden),
    ("supervisor", {"name": " ", "cameras": ["C"]}, Invalid),
    ("supervisor", {"name": "x", "cameras": []}, Invalid),
    ("supervisor", {"name": "x", "cameras": ["NOPE"]}, Invalid),
    ("supervisor", {"name": "x", "cameras": ["C", "C"]}, Invalid),
    ("supervisor", {"name": "x", "cameras": ["C"], "seconds_per_camera": 2}, Invalid),
    ("supervisor", {"name": "x", "cameras": ["C"], "start": "24:00"}, Invalid),
    ("supervisor", {"name": "x", "cameras": ["C"], "scope_node_id": "NOWHERE"}, Invalid),
    ("scoped supervisor", {"name": "x", "cameras": ["OTHER"]}, Invalid),  # another community's camera
])
def test_plan_input_is_checked(city, who, inp, error):
    engine, by_comm = city
    comm, other = sorted(by_comm)[:2]
    cams = [by_comm[comm][0] if c == "C" else by_comm[other][0] if c == "OTHER" else c for c in inp["cameras"]]
    who_actor = actor("supervisor", {comm}) if who == "scoped supervisor" else actor(who)
    with session_factory(engine)() as s:
        n = s.scalar(select(func.count()).select_from(AuditLog))
        with pytest.raises(error):
            vp.save_plan(s, who_actor, vp.PlanInput(**{**inp, "cameras": cams}), NOW)
        s.rollback()
        assert s.scalar(select(func.count()).select_from(AuditLog)) == n


def test_missed_rounds_are_listed(city):
    engine, by_comm = city
    comm = min(by_comm)
    boss = actor("supervisor")
    day = datetime(2026, 12, 6, 12, 0, tzinfo=TZ)
    with session_factory(engine)() as s:
        plan_id = vp.save_plan(s, boss, vp.PlanInput("两小时一巡", by_comm[comm][:1], 20, 120, "20:00", "00:00"),
                               day)
        rnd = vp.start_round(s, boss, plan_id, datetime(2026, 12, 6, 22, 10, tzinfo=TZ).astimezone(UTC))
        vp.finish_round(s, boss, rnd, datetime(2026, 12, 6, 22, 12, tzinfo=TZ))
        s.commit()
        got = [(p.id, t.strftime("%H:%M")) for p, t in vp.missed_rounds(
            s, boss, datetime(2026, 12, 6, 12, 0, tzinfo=TZ), datetime(2026, 12, 7, 0, 0, tzinfo=TZ))
            if p.id == plan_id]
    assert got == [(plan_id, "20:00")]  # 22:00 done at 22:10; the window 20:00-00:00 has no 00:00 round


# ---------------------------------------------------------------- schedule (pure)
def _hm(ts: list[datetime]) -> list[str]:
    return [t.strftime("%d %H:%M") for t in ts]


@pytest.mark.parametrize("start, end, every, expected", [
    ("20:00", "06:00", 120, ["05 20:00", "05 22:00", "06 00:00", "06 02:00", "06 04:00"]),
    ("08:00", "12:00", 90, ["06 08:00", "06 09:30", "06 11:00"]),
    ("00:00", "00:00", 360, ["05 18:00", "06 00:00", "06 06:00", "06 12:00"]),
])
def test_due_times(start, end, every, expected):
    since, until = datetime(2026, 12, 5, 18, 0, tzinfo=TZ), datetime(2026, 12, 6, 13, 0, tzinfo=TZ)
    assert _hm(due_times(start, end, every, since, until)) == expected


def test_missed_within_grace():
    due = [datetime(2026, 12, 5, h, 0, tzinfo=TZ) for h in (20, 22)]
    started = [datetime(2026, 12, 5, 20, 29, tzinfo=TZ), datetime(2026, 12, 5, 22, 31, tzinfo=TZ)]
    assert _hm(missed(due, started, 120)) == ["05 22:00"]
