"""The desks in a real Chromium against the real ingest, alert engine and dashboard (threads, real Redis,
Mosquitto and SQLite): sign-in and roles, the whole closed loop of one alert through the pages, a spot check,
the CSV export, and every desk with ``dashboard.language: en``. Screenshots of each page land in
``test-artifacts/`` (``desk-*-en.png`` for English).
"""

from __future__ import annotations

import contextlib
import csv
import io
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.engine import AlertEngineWorker
from dashboard.desk import reports
from ingest.mqtt.worker import MqttIngestWorker
from onescreen.db.models import Alert, AlertTransition, SpotCheck, User
from onescreen.db.session import make_engine
from tests import test_alerts_engine as base
from tests.auth_helpers import create_users, login, logout
from tests.dashboard_helpers import RunningWorker, chinese_outside, registry_names, with_dashboard
from tests.mqtt_helpers import Publisher, ThreadWorker, wait_for
from tests.test_alerts_engine import now_ms

pytestmark = [pytest.mark.services, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
FAST = {"rules": {"lingering": {"dwell_s": 2}, "off_post": {"hold_s": 3600, "silent_s": 3600}}}
make_settings = base.make_settings  # the shared fixture



class Desk:
    """One person's browser (own cookies) with non-local requests and console errors recorded."""

    def __init__(self, browser, base_url: str, width: int = 1600, height: int = 1000, mobile: bool = False):
        self.context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=mobile)
        self.page = self.context.new_page()
        self.base = base_url
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._only_local)

    def _only_local(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob") or parts.hostname == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name), full_page=True)

    def close(self) -> None:
        assert self.outside == [], self.outside
        assert self.errors == [], self.errors
        self.context.close()


@contextlib.contextmanager
def running_city(make_settings, small_city, **dashboard):
    """Settings on a copy of the small city, one user per role (duty on the door's unit), services running."""
    s = with_dashboard(make_settings(FAST), **dashboard)
    reg = small_city.registry
    door = reg.place_of_device(small_city.door)
    unit = next(u for u in reg.unit_ids() if reg.post_of_unit(u) is not None)
    users = create_users(s.database.url, unit_id=unit)
    running = RunningWorker(s).start()
    pub = Publisher(s.mqtt.host, s.mqtt.port)
    try:
        with ThreadWorker(MqttIngestWorker(s, "desk-ingest")) as ingest, ThreadWorker(AlertEngineWorker(s, "desk")):
            assert wait_for(lambda: ingest.subscribed, 10)
            yield {"s": s, "users": users, "unit": unit, "door": small_city.door, "door_place": door,
                   "url": running.url, "pub": pub, "registry": reg}
    finally:
        pub.close()
        running.stop()


@pytest.fixture
def city(make_settings, small_city, redis_client):
    """The desks in the default language (Chinese)."""
    with running_city(make_settings, small_city) as running:
        yield running


@pytest.fixture
def city_en(make_settings, small_city, redis_client):
    """The desks with ``dashboard.language: en``."""
    with running_city(make_settings, small_city, language="en") as running:
        yield running


def position(city, lat: float, lon: float) -> None:
    unit = city["unit"]
    city["pub"].publish(f"{city['s'].mqtt.prefix}/patrol/{unit}/position",
                        {"event_id": str(uuid.uuid4()), "ts": now_ms(), "lat": lat, "lon": lon, "status": "patrolling"})
    city["pub"].flush()


def raise_lingering(city) -> str:
    """Four denied attempts by one person at one door: a lingering alert (CONTRACT §3)."""
    topic = f"{city['s'].mqtt.prefix}/access/{city['door']}"
    for i in range(4):
        city["pub"].publish(topic, {"event_id": str(uuid.uuid4()), "ts": now_ms(-5 + i), "person_id": "p-7f3a9c",
                                    "direction": "in", "result": "denied"})
    city["pub"].flush()
    engine = make_engine(city["s"].database.url)
    try:
        def find():
            with Session(engine) as db:
                return db.execute(select(Alert.alert_id).where(Alert.rule == "lingering")).scalar()
        alert_id = wait_for(find, 15)
    finally:
        engine.dispose()
    assert alert_id, "no lingering alert"
    return alert_id


def search_pick(page, dropdown: str, text: str) -> None:
    """Open a searchable dropdown, search for a text, pick the first option that contains it."""
    page.click(dropdown)
    page.locator("input.dash-dropdown-search:visible").fill(text)
    page.get_by_role("option", name=text, exact=False).first.click()


def wait_status(page, selector: str, status: str, timeout: float = 10_000) -> None:
    page.wait_for_selector(f"{selector}[data-status='{status}']", timeout=timeout)


def test_login_logout_and_role_denial(browser, city):
    users = city["users"]
    duty = Desk(browser, city["url"], 420, 860, mobile=True)
    try:
        page = duty.page
        page.goto(city["url"] + "/alerts")
        assert "/login" in page.url
        page.fill("#login-username", users["duty"].username)
        page.fill("#login-password", "wrong-password")
        page.click("#login-submit")
        assert "用户名或密码错误" in page.locator(".login-error").inner_text()
        duty.shot("desk-login-error.png")
        login(page, city["url"], users["duty"].username, users["duty"].password, "/alerts")
        assert urlsplit(page.url).path == "/duty"  # /alerts is not the duty role's: sent to its own desk
        page.wait_for_selector(".desk-title")
        assert page.locator(".nav a[href='/alerts']").count() == 0  # no link to pages the role may not open
        resp = page.goto(city["url"] + "/admin")
        assert resp.status == 403 and "无权访问" in page.content()
        logout_page = page.goto(city["url"] + "/duty")
        assert logout_page.status == 200
        page.wait_for_selector("#logout-button")
        logout(page)
        assert "/login" in page.url
        page.goto(city["url"] + "/duty")
        assert "/login" in page.url  # the session is gone
    finally:
        duty.close()


def test_the_whole_loop_through_the_pages(browser, city):
    users = city["users"]
    place = city["door_place"]
    position(city, place.lat + 0.01, place.lon)  # about 1.1 km north: on duty, suggested for dispatch
    alert_id = raise_lingering(city)

    op = Desk(browser, city["url"])
    duty = Desk(browser, city["url"], 420, 860, mobile=True)
    sup = Desk(browser, city["url"])
    try:
        # the operator: queue -> detail -> acknowledge -> dispatch to the suggested nearest unit
        page = op.page
        login(page, city["url"], users["operator"].username, users["operator"].password, "/alerts")
        row = page.locator(f"#desk-alerts-queue tr[data-alert-id='{alert_id}']")
        row.wait_for(timeout=10_000)
        assert "p-7f****" in row.inner_text() and "p-7f3a9c" not in page.content()
        filters = page.inner_text(".desk-filters")
        assert "已选 5 项" in filters and "selected" not in filters  # the dropdowns' own texts too
        row.click()
        wait_status(page, "#desk-alerts-detail-body", "open")
        page.fill("#desk-alerts-note", "门口反复刷卡被拒，已通知")
        page.click("#desk-alerts-btn-ack")
        wait_status(page, "#desk-alerts-detail-body", "acknowledged")
        page.click("#desk-alerts-unit")
        option = page.get_by_text(f"{city['unit']} ", exact=False).last
        option.wait_for(timeout=5_000)
        assert "km" in option.inner_text()  # suggested with its distance
        option.click()
        page.click("#desk-alerts-btn-dispatch")
        wait_status(page, "#desk-alerts-detail-body", "dispatched")
        op.shot("desk-alerts.png")

        # the duty unit's phone: my alert, receipt; on scene by itself when the unit comes within 100 m
        page = duty.page
        login(page, city["url"], users["duty"].username, users["duty"].password, "/duty")
        card = f".duty-card[data-alert-id='{alert_id}']"
        page.wait_for_selector(card, timeout=10_000)
        page.click(f"{card} button:has-text('接单确认')")
        page.wait_for_selector(f"{card} button:has-text('已接单')", timeout=10_000)
        position(city, place.lat + 0.0003, place.lon)  # ~33 m away
        wait_status(page, card, "on_scene", timeout=15_000)
        page.fill(f"{card} textarea", "现场系住户忘带门卡，已协助进门")
        duty.shot("desk-duty.png")
        page.click(f"{card} button:has-text('处置完毕')")
        wait_status(page, card, "resolved")

        # the supervisor closes it; the audit trail is on the page
        page = sup.page
        login(page, city["url"], users["supervisor"].username, users["supervisor"].password, "/alerts")
        page.locator(f"#desk-alerts-queue tr[data-alert-id='{alert_id}']").click()
        wait_status(page, "#desk-alerts-detail-body", "resolved")
        page.click("#desk-alerts-btn-close")
        page.wait_for_selector(".desk-msg.ok", timeout=10_000)
        trail = page.locator("#desk-alerts-detail .desk-timeline").inner_text()
        for text in ("确认", "t-operator", "派警", "接单", "t-duty", "到场", "系统", f"单元 {city['unit']} 已在",
                     "处置反馈", "已协助进门", "127.0.0.1"):
            assert text in trail, text
        evidence = page.locator("#desk-evidence-door-events").inner_text()  # the four refused attempts
        assert evidence.count("拒绝") == 4 and "p-7f****" in evidence
        sup.shot("desk-alerts-closed.png")
        # the supervisor silences this condition (the note is the reason), sees it marked and listed, lifts it
        page.fill("#desk-alerts-note", "门禁故障报修中")
        page.click("#desk-alerts-btn-silence")
        page.wait_for_function("document.getElementById('desk-alerts-msg').textContent.includes('已静默至')",
                               timeout=10_000)
        page.wait_for_selector("#desk-alerts-detail-body .tag-silenced", timeout=10_000)
        listed = page.locator("#desk-alerts-silences-table tr[data-silence-id]")
        listed.first.wait_for(timeout=10_000)
        assert "门禁故障报修中" in listed.first.inner_text() and "逗留异常" in listed.first.inner_text()
        sup.shot("desk-silences.png")
        listed.first.locator("button").click()
        page.wait_for_selector("#desk-alerts-silence-msg.ok", timeout=10_000)
        page.wait_for_selector("#desk-alerts-silences-table", state="detached", timeout=10_000)
    finally:
        op.close()
        duty.close()
        sup.close()

    engine = make_engine(city["s"].database.url)
    with Session(engine) as db:
        alert = db.execute(select(Alert).where(Alert.alert_id == alert_id)).scalar_one()
        steps = [(t.action, t.actor) for t in db.execute(
            select(AlertTransition).where(AlertTransition.alert_pk == alert.id).order_by(AlertTransition.id)).scalars()
            if t.action not in ("update",)]
    engine.dispose()
    assert alert.status == "closed" and alert.assignee == city["unit"]
    assert [s for s in steps if s[0] != "open"] == [
        ("ack", "t-operator"), ("dispatch", "t-operator"), ("receipt", "t-duty"), ("on_scene", "system"),
        ("resolve", "t-duty"), ("close", "t-supervisor")]


def test_spot_check_saved_listed_and_csv_matches_the_database(browser, city):
    users, unit = city["users"], city["unit"]
    post = city["registry"].post_of_unit(unit)
    position(city, post.lat, post.lon)
    alert_id = raise_lingering(city)
    sup = Desk(browser, city["url"])
    try:
        page = sup.page
        login(page, city["url"], users["supervisor"].username, users["supervisor"].password, "/patrol")
        page.wait_for_selector(f"#desk-patrol-units-table tr[data-unit-id='{unit}'][data-state='on_post']",
                               timeout=15_000)
        page.click("#desk-patrol-unit")
        page.get_by_text(f"{unit} ", exact=False).last.click()
        page.wait_for_selector(f"#desk-patrol-spot-body[data-unit-id='{unit}']", timeout=10_000)
        for label in ("在岗", "着装规范", "装备齐全"):
            page.get_by_label(label, exact=True).check()
        page.fill("#desk-patrol-note", "岗亭内值守")
        page.click("#desk-patrol-save")
        page.wait_for_selector("#desk-patrol-msg.ok", timeout=10_000)
        row = page.locator("#desk-patrol-history-table tr", has_text="岗亭内值守")
        row.wait_for(timeout=10_000)
        assert unit in row.inner_text()
        sup.shot("desk-patrol.png")

        # the CSV export of the 1-3-5 report, fetched with the same session
        resp = page.request.get(f"{city['url']}/api/patrol/report.csv?by=unit&days=1")
        assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(resp.text().lstrip("\ufeff"))))
        assert rows and set(rows[0]) == set(reports.COLUMNS)

        admin = Desk(browser, city["url"])
        try:
            login(admin.page, city["url"], users["admin"].username, users["admin"].password, "/admin")
            admin.page.wait_for_selector("#desk-admin-audit-table", timeout=10_000)
            admin.page.wait_for_selector("#desk-admin-audit-table td:has-text('spot_check')", timeout=10_000)
            assert "secret" not in admin.page.content()
            admin.shot("desk-admin.png")
        finally:
            admin.close()
    finally:
        sup.close()

    engine = make_engine(city["s"].database.url)
    with Session(engine) as db:
        check = db.execute(select(SpotCheck)).scalar_one()
        alerts = db.execute(select(Alert).where(Alert.alert_id.is_not(None))).scalars().all()
    engine.dispose()
    assert (check.unit_id, check.on_post, check.on_route, check.uniform, check.equipment, check.checked_by) == (
        unit, True, False, True, True, "t-supervisor")
    assert check.distance_m is not None and check.distance_m < 5
    # the CSV against the database, counted here independently
    expected: dict[str, int] = {}
    for a in alerts:
        key = a.assignee or a.route_unit
        if key:
            expected[key] = expected.get(key, 0) + 1
    assert {r["key"]: int(r["alerts"]) for r in rows} == expected
    assert any(a.alert_id == alert_id for a in alerts)
    for r in rows:
        assert int(r["acknowledged"]) == sum(1 for a in alerts if (a.assignee or a.route_unit) == r["key"]
                                             and a.acknowledged_at is not None)


def test_the_desks_in_english(browser, city_en):
    """Every desk, its callbacks' tables, details and messages included, shows no Chinese but the registry's
    names (data) when ``dashboard.language`` is ``en``."""
    city = city_en
    users, unit, url = city["users"], city["unit"], city["url"]
    place = city["door_place"]
    data = registry_names(city["registry"]) + [city["s"].dashboard.center_name]
    position(city, place.lat + 0.01, place.lon)  # on duty about 1.1 km away: suggested for dispatch
    alert_id = raise_lingering(city)

    def english(page, what: str) -> str:
        text = page.inner_text("body")
        assert chinese_outside(text, data) == [], what
        return text

    op = Desk(browser, url)
    duty = Desk(browser, url, 420, 860, mobile=True)
    sup = Desk(browser, url)
    admin = Desk(browser, url)
    try:
        page = op.page
        page.goto(url + "/login")
        assert "Sign in" in english(page, "/login")
        login(page, url, users["operator"].username, users["operator"].password, "/alerts")
        page.locator(f"#desk-alerts-queue tr[data-alert-id='{alert_id}']").click(timeout=10_000)
        wait_status(page, "#desk-alerts-detail-body", "open")
        page.fill("#desk-alerts-note", "Denied four times at the door, resident called")
        page.click("#desk-alerts-btn-ack")
        wait_status(page, "#desk-alerts-detail-body", "acknowledged")
        page.click("#desk-alerts-btn-ack")  # a second time: refused, in English
        page.wait_for_selector("#desk-alerts-msg.error", timeout=10_000)
        assert "Not possible in the alert's current status" in english(page, "/alerts refusal")
        page.click("#desk-alerts-unit")
        page.get_by_text(f"{unit} ", exact=False).last.click(timeout=5_000)
        page.click("#desk-alerts-btn-dispatch")
        wait_status(page, "#desk-alerts-detail-body", "dispatched")
        text = english(page, "/alerts")
        for label in ("Alert queue", "Alert details", "Lingering", "Yellow", "Dispatched", "History (audit trail)",
                      "Acknowledged", "resident called", f"{alert_id}: Dispatched"):
            assert label in text, label
        op.shot("desk-alerts-en.png")

        page = duty.page
        login(page, url, users["duty"].username, users["duty"].password, "/duty")
        card = f".duty-card[data-alert-id='{alert_id}']"
        page.click(f"{card} button:has-text('Confirm receipt')", timeout=10_000)
        page.wait_for_selector(f"{card} button:has-text('Received')", timeout=10_000)
        assert f"My unit: {unit}" in english(page, "/duty")
        duty.shot("desk-duty-en.png")
        resp = page.goto(url + "/admin")
        assert resp.status == 403 and "You may not open this page" in english(page, "403")

        page = sup.page
        login(page, url, users["supervisor"].username, users["supervisor"].password, "/patrol")
        page.wait_for_selector(f"#desk-patrol-units-table tr[data-unit-id='{unit}']", timeout=15_000)
        page.click("#desk-patrol-unit")
        page.get_by_text(f"{unit} ", exact=False).last.click()
        page.wait_for_selector(f"#desk-patrol-spot-body[data-unit-id='{unit}']", timeout=10_000)
        for label in ("On post", "In uniform"):
            page.get_by_label(label, exact=True).check()
        page.fill("#desk-patrol-note", "Checked by radio")
        page.click("#desk-patrol-save")
        page.wait_for_selector("#desk-patrol-history-table tr:has-text('Checked by radio')", timeout=10_000)
        text = english(page, "/patrol")
        for label in ("Spot check saved", "Nearest camera", "1-3-5 response times", "Avg. ack", "Per unit"):
            assert label in text, label
        sup.shot("desk-patrol-en.png")

        page = admin.page
        login(page, url, users["admin"].username, users["admin"].password, "/admin")
        page.wait_for_selector("#desk-admin-audit-table td:has-text('spot_check')", timeout=10_000)
        page.fill("#desk-admin-new-name", "en-operator")
        page.fill("#desk-admin-new-pw", "long-enough-password")
        page.click("#desk-admin-new-role")
        page.get_by_role("option", name="Operator", exact=True).click()
        community = place.community_id  # the scope and unit pickers search by id (or name)
        search_pick(page, "#desk-admin-new-scope", f"({community})")
        search_pick(page, "#desk-admin-new-unit", f"({unit})")
        page.click("#desk-admin-add")
        page.wait_for_selector("#desk-admin-msg.ok:has-text('User en-operator created')", timeout=10_000)
        row = page.wait_for_selector("#desk-admin-users-table tr:has(td:text-is('en-operator'))", timeout=10_000)
        assert f"({community})" in row.inner_text()  # the scope by name, then id
        engine = make_engine(city["s"].database.url)
        try:
            with Session(engine) as db:
                saved = db.execute(select(User).where(User.username == "en-operator")).scalar_one()
                assert (saved.scope_node_id, saved.unit_id) == (community, unit)
        finally:
            engine.dispose()
        search_pick(page, "#desk-admin-manage-user", "en-operator")
        page.wait_for_selector(f"#desk-admin-manage-scope:has-text('({community})')", timeout=10_000)  # prefilled
        page.click("#desk-admin-btn-scope")
        page.wait_for_selector("#desk-admin-manage-msg.ok:has-text('Scope and patrol unit of en-operator saved')",
                               timeout=10_000)
        assert "Camera health" in english(page, "/admin")
        admin.shot("desk-admin-en.png")
    finally:
        for desk in (op, duty, sup, admin):
            desk.close()
