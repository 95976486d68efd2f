"""The assessment desk in a real Chromium (issue #16): the ranking with its change against the previous
period, drill-down district → community → grid worker, the chart, the CSV equal to the screen and to the
database, the printable monthly review, the morning check's real lists (workers offline, with no entries, with
visits due), and the refusal of a role that may not open it. Screenshot: ``test-artifacts/assessment.png``."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from assessment import figures, people, report
from onescreen.db.models import Alert, CameraHealthHour, Case, SpotCheck, WorkerOnlineDay
from onescreen.db.session import make_engine
from tests import test_alerts_engine as base
from tests.auth_helpers import create_users, login
from tests.dashboard_helpers import RunningWorker, with_dashboard
from tests.test_desk_browser import Desk

pytestmark = [pytest.mark.services, pytest.mark.browser]
make_settings = base.make_settings  # the shared fixture


def seed(url: str, reg, tz: str) -> str:
    """Alerts this month in every community (community i: i + 1 of them, the first meeting 1-3-5), one last
    month, a spot check, an hour of camera health; two cases reported by a grid worker of the first community,
    who was online this hour. Returns that worker."""
    engine = make_engine(url)
    now = datetime.now(UTC) - timedelta(minutes=1)
    with Session(engine) as db:
        c0 = reg.nodes_at("community")[0]
        wp = people.worker_places()
        worker = db.execute(select(wp.c.worker_id).where(wp.c.community_id == c0).order_by(wp.c.worker_id)
                            ).scalars().first()
        for n in range(2):
            db.add(Case(case_id=f"E-B-{n}", source="grid", category="environment", level="red", status="reported",
                        district_id=reg.district_of(c0), community_id=c0, description="x", reporter=worker,
                        reported_at=now, deadline=now + timedelta(minutes=30)))
        db.add(WorkerOnlineDay(day=now.astimezone(ZoneInfo(tz)).date().isoformat(), worker_id=worker,
                               community_id=c0, district_id=reg.district_of(c0), samples=2, online=1,
                               last_online_at=now))
        for i, c in enumerate(reg.nodes_at("community")):
            for j in range(i + 1):
                db.add(Alert(alert_id=f"A-B-{i}-{j}", rule="gathering", level="yellow", status="closed",
                             subject_kind="camera_zone", subject_id=f"b{i}{j}", district_id=reg.district_of(c),
                             community_id=c, opened_at=now, acknowledged_at=now + timedelta(seconds=20),
                             dispatched_at=now + timedelta(seconds=100 if j == 0 else 500),
                             on_scene_at=now + timedelta(seconds=250 if j == 0 else 900)))
        db.add(Alert(alert_id="A-B-old", rule="gathering", level="yellow", status="open", subject_kind="camera_zone",
                     subject_id="old", district_id=reg.district_of(c0), community_id=c0,
                     opened_at=now - timedelta(days=40)))
        db.add(SpotCheck(at=now, unit_id=reg.unit_ids()[0], community_id=c0, district_id=reg.district_of(c0),
                         on_post=True, on_route=True, uniform=True, equipment=True, checked_by="sup"))
        db.add(CameraHealthHour(hour=now.replace(minute=0, second=0, microsecond=0), community_id=c0,
                                district_id=reg.district_of(c0), samples=12, cells=24, covered=12, cameras=36,
                                online=30, good=27))
        db.commit()
    engine.dispose()
    return worker


def screen_rows(page) -> list[dict[str, str]]:
    """The ranking as shown: key and each figure's raw value (data-value) per row, in screen order."""
    return page.evaluate("""() => Array.from(document.querySelectorAll('#desk-assessment-ranking tr[data-key]'))
        .map(tr => Object.assign({key: tr.dataset.key}, Object.fromEntries(
            Array.from(tr.querySelectorAll('td[data-col]')).map(td => [td.dataset.col, td.dataset.value]))))""")


def test_assessment_desk(make_settings, small_city, redis_client, browser):
    s = with_dashboard(make_settings())
    reg = small_city.registry
    worker = seed(s.database.url, reg, s.city.timezone)
    users = create_users(s.database.url)
    running = RunningWorker(s).start()
    desk = Desk(browser, running.url)
    try:
        page = desk.page
        login(page, running.url, users["operator"].username, users["operator"].password, "/alerts")
        resp = page.goto(f"{running.url}/assessment")
        assert resp.status == 403  # an operator may not open it
        assert page.request.get(f"{running.url}/api/assessment?period=day&by=district").status == 403
        page.context.clear_cookies()

        login(page, running.url, users["supervisor"].username, users["supervisor"].password, "/assessment")
        page.wait_for_selector("#desk-assessment-ranking tr[data-key]", timeout=20_000)
        shown = screen_rows(page)
        districts = list(reg.nodes_at("district"))
        assert sorted(r["key"] for r in shown) == sorted(districts)
        # what the database says, through the module, in the screen's order (1-3-5 rate, best first)
        engine = make_engine(s.database.url)
        expected = report.ranked(report.assess(engine, reg, "month", "district", datetime.now(UTC),
                                               s.city.timezone).rows, "attainment_135_rate")
        engine.dispose()
        as_text = [{"key": r["key"], **{c: "" if r[c] is None else str(r[c]) for c in figures.COLUMNS}}
                   for r in expected]
        assert shown == as_text
        # the CSV the page links to: the same rows, the same order, the same numbers
        href = page.get_attribute("#desk-assessment-csv", "href")
        body = page.request.get(running.url + href).text()
        lines = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
        assert [{"key": line["key"], **{c: line[c] for c in figures.COLUMNS}} for line in lines] == shown
        # the cases reported this month, in the worker's district; every source installed: nothing pending
        d0 = reg.district_of(reg.nodes_at("community")[0])
        cell = page.locator(f"#desk-assessment-ranking tr[data-key='{d0}'] td[data-col='cases_reported']")
        assert cell.get_attribute("data-value") == "2"
        assert page.inner_text("#desk-assessment-pending").strip() == "" 
        # the change against last month: the old alert is last month's
        assert page.locator("#desk-assessment-ranking .assess-change").count() > 0
        assert page.locator("#desk-assessment-chart .bars, #desk-assessment-chart svg").count() > 0
        # the morning check from the real sources: the worker online this hour and with cases today is on
        # neither of the first two lists, every other registered worker (never online, no entries) is
        page.wait_for_selector("[data-morning='workers_offline'] [data-worker]", timeout=15_000)
        for name in ("workers_offline", "workers_no_entries"):
            listed = page.eval_on_selector_all(f"[data-morning='{name}'] [data-worker]",
                                               "els => els.map(e => e.dataset.worker)")
            assert worker not in listed and len(listed) > 0, name
            assert page.locator(f"[data-morning='{name}'][data-available='false']").count() == 0
        assert "从未在线" in page.inner_text("[data-morning='workers_offline']")
        assert page.locator("[data-morning='visits_due']").count() == 1
        desk.shot("assessment.png")

        # drill-down: a district's communities, then a community's grid workers
        district = shown[0]["key"]
        page.click(f"#desk-assessment-ranking tr[data-key='{district}']")
        page.wait_for_function(
            "keys => { const rows = Array.from(document.querySelectorAll('#desk-assessment-ranking tr[data-key]'))"
            ".map(tr => tr.dataset.key).sort(); return JSON.stringify(rows) === JSON.stringify(keys); }",
            arg=sorted(reg.descendants(district, "community")), timeout=15_000)
        assert reg.node(district).name in page.inner_text("#desk-assessment-crumbs")
        assert f"within={district}" in page.get_attribute("#desk-assessment-csv", "href")
        community = reg.nodes_at("community")[0] if district == d0 else screen_rows(page)[0]["key"]
        page.click(f"#desk-assessment-ranking tr[data-key='{community}']")
        page.wait_for_selector("#desk-assessment-ranking tr[data-key^='W-']", timeout=15_000)
        engine = make_engine(s.database.url)
        with Session(engine) as db:
            wp = people.worker_places()
            mine = sorted(db.scalars(select(wp.c.worker_id).where(wp.c.community_id == community)))
        engine.dispose()
        assert sorted(r["key"] for r in screen_rows(page)) == mine
        page.click("#desk-assessment-up")
        page.wait_for_selector(f"#desk-assessment-ranking tr[data-key='{community}']", timeout=15_000)
        desk.shot("assessment-drill.png")

        # the printable monthly review: every district, this month beside the last
        review = page.get_attribute("#desk-assessment-review", "href")
        page.goto(running.url + review)
        text = page.inner_text("body")
        assert "月度考核报告" in text and all(reg.node(d).name in text for d in districts)
        desk.shot("assessment-review.png")
    finally:
        desk.close()
        running.stop()
