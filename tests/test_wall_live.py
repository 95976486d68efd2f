"""The wall end to end in headless Chromium: MQTT event → alert in ``alert-feed`` within 2 s (CONTRACT §4),
door events over MQTT counted exactly per district, community and cell in the hourly chart, a Redis outage
shows the stale banner and clears by itself, and a city of the ``nanchang`` preset renders.

The MQTT test runs the real MqttIngestWorker and AlertEngineWorker in threads on the fixture Mosquitto and
Redis with a short-threshold rules file (as ``test_alerts_e2e.py`` does), and the real DashboardWorker.
"""

from __future__ import annotations

import time
import uuid

import pytest

from alerts.engine import AlertEngineWorker
from ingest.mqtt.worker import MqttIngestWorker
from onescreen.services import RedisServer
from tests import test_alerts_engine as base
from tests.auth_helpers import create_users
from tests.dashboard_helpers import RunningWorker, with_dashboard
from tests.mqtt_helpers import Publisher, ThreadWorker, access_event, wait_for
from tests.test_alerts_engine import now_ms
from tests.wall_browser_helpers import WallPage
from tests.redis_kinds import both_redis

pytestmark = [pytest.mark.services, pytest.mark.browser]

make_settings = base.make_settings  # the shared fixture
FAST = {"rules": {"gathering": {"hold_s": 1, "clear_hold_s": 1, "cooldown_s": 0}}}
FEED_RULES = "Array.from(document.querySelectorAll('#alert-feed [data-alert-id] .alert-rule')).map(e => e.textContent)"



@both_redis
def test_mqtt_event_shows_in_alert_feed_within_2s(browser, make_settings, small_city, redis_client):
    s = with_dashboard(make_settings(FAST))
    creds = create_users(s.database.url)["operator"]
    pub = Publisher(s.mqtt.host, s.mqtt.port)
    dash = RunningWorker(s).start()
    try:
        with ThreadWorker(MqttIngestWorker(s, "ing-wall")) as ingest, ThreadWorker(AlertEngineWorker(s, "wall")):
            assert wait_for(lambda: ingest.subscribed, 10)
            wall = WallPage(browser, dash.url, 1920, 1080, creds)
            try:
                wall.wait_live()
                assert wall.page.evaluate(FEED_RULES) == []
                topic = f"{s.mqtt.prefix}/video/{small_city.camera}/count"
                pub.publish(topic, {"event_id": str(uuid.uuid4()), "ts": now_ms(-1.2), "zone": "square", "persons": 12})
                pub.flush()
                t0 = time.monotonic()
                pub.publish(topic, {"event_id": str(uuid.uuid4()), "ts": now_ms(), "zone": "square", "persons": 13})
                pub.flush()
                wall.page.wait_for_function(f"{FEED_RULES}.includes('疑似聚集')", timeout=5_000, polling=20)
                latency = time.monotonic() - t0
                print(f"event → alert-feed: {latency:.3f} s")
                item = wall.page.locator("#alert-feed [data-alert-id]").first
                assert item.get_attribute("data-alert-id").startswith("A-")
                wall.page.wait_for_function("document.getElementById('kpi-open-alerts').textContent === '1'",
                                            timeout=3_000)
                wall.screenshot("wall-mqtt-alert-1920x1080.png")
                wall.assert_clean()
            finally:
                wall.close()
    finally:
        dash.stop()
        pub.close()
    assert latency < 2.0, f"event → alert-feed took {latency:.2f} s (CONTRACT §4: 2 s)"


# Doors of the generated small city (tests/city_fixtures.py) and how many door events each sends.
DOOR_EVENTS = {"D-0101-02": 3, "D-0101-01": 2, "D-0102-01": 4, "D-0201-01": 1}
DOOR_CELLS = {"D-0101-02": "G010101", "D-0101-01": "G010102", "D-0102-01": "G010201", "D-0201-01": "G020101"}
HOURLY_SUM = ("(() => { const m = document.querySelector('#wall-chart-hourly .legend-sum').textContent"
              ".match(/(\\d+) \\/ (\\d+)/); return m ? Number(m[1]) + Number(m[2]) : -1; })()")  # today + yesterday


def test_hourly_chart_counts_only_the_scope_events(browser, make_settings, small_city):
    """10 door events over MQTT through the real ingest: city 10, district D01 9, community C0101 5, its cell 3."""
    for door, cell in DOOR_CELLS.items():
        assert small_city.registry.place_of_device(door).cell_id == cell, "the generated city changed"
    s = with_dashboard(make_settings())
    creds = create_users(s.database.url)["operator"]
    pub = Publisher(s.mqtt.host, s.mqtt.port)
    dash = RunningWorker(s).start()
    try:
        with ThreadWorker(MqttIngestWorker(s, "ing-hours")) as ingest:
            assert wait_for(lambda: ingest.subscribed, 10)
            for door, n in DOOR_EVENTS.items():
                for _ in range(n):
                    pub.publish(f"{s.mqtt.prefix}/access/{door}", access_event(door, now_ms()))
            pub.flush()
            assert wait_for(lambda: ingest.counts["stored"] == 10, 10), ingest.counts
            wall = WallPage(browser, dash.url, 1920, 1080, creds)
            try:
                page = wall.page
                wall.wait_live()
                page.wait_for_function(f"{HOURLY_SUM} === 10", timeout=6_000)
                for layer in ("patrol", "cameras"):  # no marker in the way of the polygon clicks
                    page.locator(f".layer-toggle[data-layer='{layer}']").click()
                communities = "#city-map .leaflet-os-communities-pane"
                page.locator(f"{communities} path.os-area-C0101").click()  # city → its district D01
                page.wait_for_function(f"{HOURLY_SUM} === 9", timeout=6_000)
                page.wait_for_timeout(800)  # the map flies to the district
                page.locator(f"{communities} path.os-area-C0101").click()  # → the community
                page.wait_for_function(f"{HOURLY_SUM} === 5", timeout=6_000)
                assert page.locator("#wall-chart-heat .heat-row").count() == 8  # 7 days × 24 h + axis
                today = int(page.locator("#wall-chart-hourly .legend-sum").inner_text().split("/")[0])
                assert page.locator("#wall-kpi-grid .kpi-events .kpi-value").inner_text() == str(today)
                wall.screenshot("wall-hourly-community-1920x1080.png")
                page.wait_for_timeout(800)
                page.locator("#city-map .leaflet-os-cells-pane path.os-area-G010101").click()  # → one cell
                page.wait_for_function(f"{HOURLY_SUM} === 3", timeout=6_000)
                wall.assert_clean()
            finally:
                wall.close()
    finally:
        dash.stop()
        pub.close()


def test_redis_outage_shows_stale_banner_and_recovers(browser, settings, tmp_path):
    """A Redis of its own with an append-only file, as in production, so the session survives the restart."""
    from tests.dashboard_helpers import insert_small_city

    redis_aof = RedisServer(workdir=tmp_path / "redis", appendonly=True)
    redis_aof.start()
    s = with_dashboard(settings.model_copy(update={"redis": settings.redis.model_copy(update={"url": redis_aof.url})}))
    insert_small_city(s.database.url)
    creds = create_users(s.database.url)["operator"]
    dash = RunningWorker(s).start()
    wall = None
    try:
        wall = WallPage(browser, dash.url, 1920, 1080, creds)
        wall.wait_live()
        banner = wall.page.locator("#wall-stale-banner")
        assert not banner.is_visible()
        time.sleep(1.2)  # the AOF is fsynced every second
        redis_aof.stop()
        try:
            wall.page.wait_for_selector("#wall-stale-banner:not(.hidden)", timeout=15_000)
            assert "数据中断" in banner.inner_text()
            assert "stale" in wall.page.locator("#wall-data-as-of").get_attribute("class")
            wall.screenshot("wall-stale-1920x1080.png")
        finally:
            redis_aof.start()
        wall.page.wait_for_selector("#wall-stale-banner.hidden", state="attached", timeout=20_000)
        assert "数据截至" in wall.page.locator("#wall-data-as-of").inner_text()
        assert wall.outside == []
    finally:
        if wall is not None:
            wall.close()
        dash.stop()
        redis_aof.close()


@pytest.fixture(scope="module")
def nanchang_db(tmp_path_factory) -> str:
    from onescreen.db.session import make_engine, upgrade
    from onescreen.registry.bundle import write_bundle
    from onescreen.registry.importer import import_bundle
    from sim.citygen import generate_city

    root = tmp_path_factory.mktemp("nanchang")
    url = f"sqlite:///{root / 'nanchang.db'}"
    upgrade(url)
    write_bundle(root / "bundle", generate_city("nanchang"))
    engine = make_engine(url)
    import_bundle(engine, root / "bundle")
    engine.dispose()
    return url


def test_nanchang_preset_renders(browser, settings, nanchang_db, tmp_path):
    import shutil

    db = tmp_path / "nanchang.db"
    shutil.copy(nanchang_db.removeprefix("sqlite:///"), db)
    s = with_dashboard(settings.model_copy(update={"database": settings.database.model_copy(
        update={"url": f"sqlite:///{db}"})}))
    creds = create_users(s.database.url)["operator"]
    dash = RunningWorker(s).start()
    try:
        wall = WallPage(browser, dash.url, 1920, 1080, creds)
        try:
            wall.page.wait_for_function(
                "document.querySelectorAll('#city-map .leaflet-os-communities-pane path').length === 141",
                timeout=15_000)
            wall.wait_live()
            assert wall.page.locator("#city-map .os-map-label").count() == 10
            wall.assert_no_scrollbars()
            wall.page.wait_for_timeout(800)
            wall.screenshot("wall-nanchang-1920x1080.png")
            wall.assert_clean()
        finally:
            wall.close()
    finally:
        dash.stop()
