"""`/persons` in a real Chromium against the real dashboard (real Redis, SQLite): the list with overdue visits
first and ids masked, one person's file, re-grading with a reason, a visit, and the audited unmask; an operator
sees no unmask and no re-grading; the wall's key-person panel and layer. Screenshots land in ``test-artifacts/``
(``persons-*.png``; the copies in docs/screenshots are from such a run, looked at)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from onescreen.db.models import AuditLog, EventArchive, PersonVisit, WatchPerson
from onescreen.db.session import make_engine, session_factory
from tests import test_alerts_engine as base
from tests.auth_helpers import create_users, login, logout
from tests.dashboard_helpers import RunningWorker, with_dashboard
from tests.test_desk_browser import Desk

pytestmark = [pytest.mark.services, pytest.mark.browser]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts"
make_settings = base.make_settings  # the shared fixture
P = "#desk-persons-"


def _wait(fn, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.1)
    return False


def test_persons_desk(make_settings, small_city, redis_client, browser):
    from flask import Flask
    from pydantic import SecretStr

    from dashboard.pages import persons as persons_page

    s = with_dashboard(make_settings(), secret_key=SecretStr("persons-test-secret"))

    def ref_of(person_id: str) -> str:  # what any dashboard process with this secret puts in the page
        app = Flask(__name__)
        app.secret_key = "persons-test-secret"
        with app.app_context():
            return persons_page.ref_of(person_id)

    users = create_users(s.database.url)
    engine = make_engine(s.database.url)
    sessions = session_factory(engine)
    with sessions() as db:
        persons = db.execute(select(WatchPerson)).scalars().all()
        red = next(p for p in persons if p.level == "red")
        door = small_city.door
        now_ms = int(time.time() * 1000)
        db.add(EventArchive(family="access", event_id="persons-1", ts=now_ms - 3_600_000,
                            community_id=red.home_community_id,
                            doc={"person_id": red.person_id, "door_id": door, "direction": "in", "result": "granted",
                                 "community_id": red.home_community_id}))
        db.commit()
    running = RunningWorker(s).start()
    sup = Desk(browser, running.url)
    try:
        page = sup.page
        login(page, running.url, users["supervisor"].username, users["supervisor"].password, "/persons")
        page.wait_for_selector(P + "table tr[data-ref]")
        html = page.content()
        assert all(p.person_id not in html for p in persons)  # masked everywhere
        overdue = page.eval_on_selector_all(P + "table tr[data-ref]", "rs => rs.map(r => r.dataset.overdue)")
        assert overdue == sorted(overdue, reverse=True) and overdue[0] == "1"  # overdue visits first

        page.click(f"tr[data-ref='{ref_of(red.person_id)}']")
        page.wait_for_selector(P + "file [data-level='red']")
        assert page.locator(P + "who").inner_text() == red.person_id[:4] + "****"
        assert door in page.locator(P + "sightings").inner_text()

        page.click(P + "grade-level")
        page.get_by_role("option", name="橙色").first.click()
        page.keyboard.press("Escape")
        page.click(P + "grade-submit")
        page.wait_for_selector(P + "msg.error")  # no reason: refused, nothing changed
        assert "请填写调整原因" in page.locator(P + "msg").inner_text()
        page.fill(P + "grade-reason", "近期情绪稳定，家属配合")
        page.click(P + "grade-submit")
        try:
            page.wait_for_selector(P + "file [data-level='orange']")
        except Exception:
            sup.shot("persons-fail.png")
            raise
        assert "近期情绪稳定" in page.locator(P + "history").inner_text()

        page.click("label:has-text('电话')")
        page.fill(P + "visit-note", "电话联系，本人在家")
        page.click(P + "visit-submit")
        page.wait_for_selector(P + "visits")
        assert "电话联系" in page.locator(P + "visits").inner_text()
        sup.shot("persons-desk.png")

        assert red.person_id not in page.content()
        page.click(P + "unmask")
        page.wait_for_selector(P + "full-id")
        assert page.locator(P + "full-id").inner_text() == red.person_id
        with sessions() as db:
            assert db.get(WatchPerson, red.person_id).level == "orange"
            visit = db.execute(select(PersonVisit)).scalars().one()
            assert (visit.method, visit.visitor) == ("phone", users["supervisor"].username)
            audit = [(a.action, a.actor) for a in db.execute(select(AuditLog).where(
                AuditLog.action.like("person_%")).order_by(AuditLog.id)).scalars()]
        assert audit == [("person_grade", users["supervisor"].username),
                         ("person_visit", users["supervisor"].username),
                         ("person_unmask", users["supervisor"].username)]
        logout(page)

        login(page, running.url, users["operator"].username, users["operator"].password, "/persons")
        page.wait_for_selector(P + "table tr[data-ref]")
        page.click(f"tr[data-ref='{ref_of(red.person_id)}']")
        page.wait_for_selector(P + "file [data-level='orange']")
        assert not page.locator(P + "unmask").is_visible() and not page.locator(P + "grade-form").is_visible()
        assert page.locator(P + "visit-form").is_visible()
        assert red.person_id not in page.content()
        page.screenshot(path=str(SHOTS / "persons-desk-operator.png"), full_page=True)

        # the wall: counts by colour, 在控率 (the red person, now orange, was visited), the community layer
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(running.url + "/")
        page.wait_for_function("document.getElementById('wall-persons-orange')"
                               " && document.getElementById('wall-persons-orange').textContent !== '—'")
        assert page.locator("#wall-persons-orange").inner_text() == "3"
        assert page.locator("#wall-persons-in-control").inner_text() == "33%"  # 1 of 3 orange, none red
        assert not page.locator(".leaflet-os-persons-pane").is_visible()
        page.click("#wall-persons-toggle")
        page.wait_for_selector(".leaflet-os-persons-pane path.os-persons-orange")
        page.screenshot(path=str(SHOTS / "persons-wall.png"))
        logout(page)
        login(page, running.url, users["duty"].username, users["duty"].password, "/duty")
        page.goto(running.url + "/persons")
        page.wait_for_selector(".desk-forbidden")
    finally:
        sup.close()
        running.stop()
        engine.dispose()
