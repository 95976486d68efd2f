"""Key persons (issue 15): visit cadence (table), the commands (roles, scope, input, audit), the list and the
file, and the watch-list bundle's new columns (round trip exact, errors naming file and line)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import AuditLog, EventArchive, PersonGrade, WatchPerson
from onescreen.db.session import make_engine, session_factory
from onescreen.registry.bundle import read_bundle, write_bundle
from onescreen.registry.importer import import_bundle
from onescreen.registry.records import RegistryError
from onescreen.registry.rows import current_version
from persons import commands, queries
from persons.cadence import Cadence, visit_due
from sim.citygen import generate_city
from tests.city_fixtures import SMALL

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
D = timedelta(days=1)
CAD = Cadence()


@pytest.mark.parametrize("level, last, overdue, due", [
    ("red", NOW - 7 * D, False, NOW),            # exactly a week: due now, not yet overdue
    ("red", NOW - 7 * D - timedelta(seconds=1), True, NOW - timedelta(seconds=1)),
    ("orange", NOW - 13 * D, False, NOW + D),
    ("orange", NOW - 15 * D, True, NOW - D),
    ("yellow", NOW - 29 * D, False, NOW + D),
    ("yellow", NOW - 31 * D, True, NOW - D),
    ("green", NOW - 400 * D, False, None),      # green: no visits due
    ("green", None, False, None),
    ("red", None, True, NOW),                    # never visited: due at once
])
def test_cadence(level, last, overdue, due):
    v = visit_due(level, last, NOW, CAD)
    assert (v.overdue, v.due) == (overdue, due)


def test_cadence_is_configurable():
    assert visit_due("green", NOW - 8 * D, NOW, Cadence(green=7)).overdue
    assert not visit_due("red", NOW - 8 * D, NOW, Cadence(red=0)).overdue


@pytest.fixture
def city(tmp_path, sqlite_url):
    bundle = generate_city(seed=5, **{**SMALL, "watchlist": 12})
    write_bundle(tmp_path / "b", bundle)
    engine = make_engine(sqlite_url)
    import_bundle(engine, tmp_path / "b")
    return engine, bundle


def actor(role: str = "supervisor", communities=None, **kw) -> Actor:
    return Actor(username=role, role=role, user_id=1, communities=communities, **kw)


def test_grade_visit_unmask_and_the_file(city):
    engine, bundle = city
    red = next(w for w in bundle.watchlist if w.level == "red")
    other = next(w for w in bundle.watchlist if w.home_community_id != red.home_community_id)
    sessions = session_factory(engine)
    with sessions() as s:
        v0 = current_version(s)
        commands.grade(s, actor(), red.person_id, commands.GradeInput("orange", "情况稳定"), NOW)
        s.commit()
        assert s.get(WatchPerson, red.person_id).level == "orange"
        assert current_version(s) == v0 + 1  # the engines reload the level
        with pytest.raises(Conflict):
            commands.grade(s, actor(), red.person_id, commands.GradeInput("orange", "again"), NOW)
        for bad, err in ((commands.GradeInput("blue", "x"), Invalid), (commands.GradeInput("red", " "), Invalid)):
            with pytest.raises(err):
                commands.grade(s, actor(), red.person_id, bad, NOW)
        with pytest.raises(Forbidden):
            commands.grade(s, actor("operator"), red.person_id, commands.GradeInput("red", "x"), NOW)
        with pytest.raises(NotFound):  # out of scope looks like absent
            commands.grade(s, actor(communities=frozenset({other.home_community_id})), red.person_id,
                           commands.GradeInput("red", "x"), NOW)
        with pytest.raises(NotFound):
            commands.grade(s, actor(), "p-nobody", commands.GradeInput("red", "x"), NOW)

        commands.record_visit(s, actor("operator"), red.person_id,
                              commands.VisitInput(NOW - timedelta(hours=2), "home", "在家，情绪平稳"), NOW)
        for bad in (commands.VisitInput(NOW, "email"), commands.VisitInput(NOW + D, "phone"),
                    commands.VisitInput(NOW - 40 * D, "phone"), commands.VisitInput(NOW, "phone", "x" * 3000)):
            with pytest.raises(Invalid):
                commands.record_visit(s, actor(), red.person_id, bad, NOW)
        with pytest.raises(Forbidden):
            commands.record_visit(s, actor("duty"), red.person_id, commands.VisitInput(NOW, "phone"), NOW)
        # a grid worker records visits of the persons it answers for (from /grid)
        commands.record_visit(s, actor("grid", communities=frozenset(), cells=frozenset({"G0"}),
                                       worker_id=red.grid_worker_id), red.person_id,
                              commands.VisitInput(None, "phone"), NOW)
        with pytest.raises(Forbidden):
            commands.unmask(s, actor("operator"), red.person_id, NOW)
        assert commands.unmask(s, actor("admin"), red.person_id, NOW) == red.person_id
        s.add(EventArchive(family="access", event_id="e1", ts=int((NOW - D).timestamp() * 1000),
                           community_id=other.home_community_id,
                           doc={"person_id": red.person_id, "door_id": "D-1", "direction": "in",
                                "result": "granted", "community_id": other.home_community_id}))
        s.add(EventArchive(family="access", event_id="e2", ts=int((NOW - D).timestamp() * 1000),
                           community_id=other.home_community_id, doc={"person_id": "p-else", "door_id": "D-1"}))
        s.commit()

        audit = [a.action for a in s.execute(select(AuditLog).order_by(AuditLog.id)).scalars()]
        assert audit == ["person_grade", "person_visit", "person_visit", "person_unmask"]

        doc = queries.person_file(s, actor("operator"), red.person_id, NOW, CAD, "Asia/Shanghai")
        assert [h["to"] for h in doc["level_history"]] == ["orange"]
        assert doc["level_history"][0]["reason"] == "情况稳定" and doc["level_history"][0]["by"] == "supervisor"
        assert [v["method"] for v in doc["visits"]] == ["phone", "home"]
        assert doc["visits"][0]["by"] == red.grid_worker_id
        assert [x["door_id"] for x in doc["sightings"]] == ["D-1"]
        assert doc["cases"] == [] and doc["alerts"] == []
        from alerts import store
        from alerts.rules.base import Decision, Subject

        loc = {"community_id": other.home_community_id}
        for rule, subject, ev in (
                ("key_person_gathering", Subject("community", other.home_community_id),
                 {"persons": [{"person_id": red.person_id, "watch_level": "red"}], "count": 3}),
                ("key_person_gathering", Subject("community", "C-elsewhere"),
                 {"persons": [{"person_id": red.person_id + "0", "watch_level": "red"}], "count": 3}),
                ("lingering", Subject("door_person", f"D-1/{red.person_id}"), {"attempts": 4})):
            store.open_alert(s, Decision("raise", rule, subject, "red", loc, ev, NOW.timestamp()), "UTC")
        s.commit()
        got = queries.alerts(s, red.person_id, "UTC")
        assert sorted(a["rule"] for a in got) == ["key_person_gathering", "lingering"]
        assert doc["visit_overdue"] is False and doc["next_visit_due"].startswith("2026-12-19")

        rows = queries.listing(s, actor(), NOW, CAD, "UTC")
        assert len(rows) == 12
        overdue = [r["visit_overdue"] for r in rows]
        assert overdue == sorted(overdue, reverse=True)  # overdue visits first
        assert red.person_id not in {r["person_id"] for r in rows if r["visit_overdue"]}
        assert all(not r["visit_overdue"] for r in rows if r["level"] == "green")
        only = queries.listing(s, actor(communities=frozenset({other.home_community_id})), NOW, CAD, "UTC")
        assert {r["home_community_id"] for r in only} == {other.home_community_id}
        assert queries.listing(s, actor(), NOW, CAD, "UTC", level="orange", visit_overdue=False) == [
            r for r in rows if r["level"] == "orange" and not r["visit_overdue"]]
        c = queries.counts(rows)
        assert c["visit_overdue"] == sum(overdue) and sum(c[k] for k in ("red", "orange", "yellow", "green")) == 12
        assert queries.in_control(s, NOW, 24)["in_control"] >= 1  # visited 2 h ago
        from dashboard.components.wall_persons import summary

        wall = summary(s, None, NOW, CAD, 24)
        assert wall["counts"] == {k: c[k] for k in ("red", "orange", "yellow", "green")}
        assert wall["overdue"] == c["visit_overdue"] and wall["in_control"] == 1 and wall["watched"] >= 1
        assert wall["highest"][red.home_community_id] in ("red", "orange")
        assert set(summary(s, {other.home_community_id}, NOW, CAD, 24)["highest"]) == {other.home_community_id}
        with pytest.raises(Forbidden):
            queries.listing(s, actor("duty"), NOW, CAD, "UTC")
        assert s.execute(select(PersonGrade)).scalars().one().from_level == "red"


def test_watchlist_bundle_round_trip_and_old_header(tmp_path):
    bundle = generate_city(seed=5, **{**SMALL, "watchlist": 12})
    bundle.watchlist[0].plan = '多行计划, "引号"\n第二行'
    write_bundle(tmp_path / "a", bundle)
    back = read_bundle(tmp_path / "a")
    assert sorted(back.watchlist, key=lambda w: w.person_id) == sorted(bundle.watchlist, key=lambda w: w.person_id)
    write_bundle(tmp_path / "b", back)
    assert (tmp_path / "a/watchlist.csv").read_bytes() == (tmp_path / "b/watchlist.csv").read_bytes()
    assert {w.level for w in back.watchlist} >= {"green", "red"}
    # a file written before the new columns still imports
    csv = tmp_path / "a/watchlist.csv"
    lines = csv.read_text(encoding="utf-8").splitlines()
    old = [",".join(lines[0].split(",")[:4])] + [f"p-{i:06x},red,{bundle.watchlist[0].home_community_id},"
                                                 for i in range(3)]
    csv.write_text("\n".join(old) + "\n", encoding="utf-8")
    assert [w.officer for w in read_bundle(tmp_path / "a").watchlist] == [None] * 3
    # bad values name the file and the line
    csv.write_text(lines[0] + "\n" + f"p-1,red,{bundle.watchlist[0].home_community_id},petition,,W 1,\n",
                   encoding="utf-8")
    with pytest.raises(RegistryError, match=r"watchlist.csv line 2.*grid_worker_id"):
        read_bundle(tmp_path / "a")
    # the category must be one of the configured codes (persons.categories), when they are given
    csv.write_text(lines[0] + "\n" + f"p-1,red,{bundle.watchlist[0].home_community_id},astrology,,,\n",
                   encoding="utf-8")
    assert read_bundle(tmp_path / "a").watchlist[0].category == "astrology"
    with pytest.raises(RegistryError, match=r"watchlist.csv line 2.*category 'astrology' is not one of"):
        read_bundle(tmp_path / "a", categories=["petition", "other"])


def test_an_import_that_changes_a_level_is_in_the_level_history(city, tmp_path):
    engine, bundle = city
    bundle.watchlist[0].level = "green" if bundle.watchlist[0].level != "green" else "red"
    write_bundle(tmp_path / "again", bundle)
    import_bundle(engine, tmp_path / "again")
    with session_factory(engine)() as s:
        (row,) = s.execute(select(PersonGrade)).scalars().all()
    assert (row.person_id, row.to_level, row.actor) == (bundle.watchlist[0].person_id, bundle.watchlist[0].level,
                                                        "import")


def test_a_persons_row_ref_resolves_on_every_dashboard_process_sharing_the_secret():
    """/persons puts a keyed hash of the person id in the page, never the id; behind a load balancer the next
    request may reach another dashboard process, so the ref depends on the shared secret, not the process."""
    from flask import Flask

    from dashboard.pages.persons import ref_of

    def ref(secret: str) -> str:
        app = Flask(__name__)
        app.secret_key = secret
        with app.app_context():
            return ref_of("P-7f3a9c")

    assert ref("shared") == ref("shared")  # two processes, one secret
    assert ref("shared") != ref("other")
    assert "7f3a9c" not in ref("shared") and len(ref("shared")) == 16
