"""The wall screen in a real headless Chromium, served by a real DashboardWorker (waitress) on a free port.

Besides the CONTRACT §4 ids, these tests hold the offline promise (every request stays on 127.0.0.1: a route
handler records and aborts anything else), the no-scrollbar canvas at both wall sizes, the drill-down with
every panel following the scope, alerts without coordinates on their community's label point, the camera
wall in pages of 9 by setting, and the stale banner through a Redis outage. The MQTT → alert-feed test is in
``test_wall_live.py``. Screenshots land in ``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from onescreen import names
from onescreen.db.models import Alert
from onescreen.db.session import make_engine
from onescreen.redisconn import connect
from tests.auth_helpers import create_users
from tests.dashboard_helpers import RunningWorker, insert_small_city, insert_streamed_cameras, with_dashboard
from tests.wall_browser_helpers import WallPage, feed_frames

pytestmark = [pytest.mark.services, pytest.mark.browser]

CONTRACT_IDS = ("kpi-open-alerts", "alert-feed", "city-map", "camera-wall")
COMMUNITIES = "#city-map .leaflet-os-communities-pane"
CELLS = "#city-map .leaflet-os-cells-pane"
DISTRICTS = "#city-map .leaflet-os-districts-pane"
FEED_IDS = "Array.from(document.querySelectorAll('#alert-feed [data-alert-id]')).map(e => e.dataset.alertId)"



def add_alert(settings, alert_id: str, rule: str, level: str, district: str, community: str, cell: str | None,
              lat: float | None, lon: float | None, subject_id: str | None = None,
              evidence: dict | None = None) -> None:
    """An open alert row as the engine writes it, and the change signal the engine gives with it (the walls
    re-read the open alerts from SQL when the counter moves: ``dashboard/readers/changes.py``)."""
    engine = make_engine(settings.database.url)
    try:
        with Session(engine) as s:
            s.add(Alert(alert_id=alert_id, rule=rule, level=level, status="open", subject_kind="device",
                        subject_id=subject_id or alert_id, district_id=district, community_id=community,
                        cell_id=cell, lat=lat, lon=lon, evidence=evidence or {},
                        opened_at=datetime.now(UTC)))
            s.commit()
    finally:
        engine.dispose()
    client = connect(settings.redis)
    client.incr(names.CHANGES_VERSION)
    client.close()


@pytest.fixture
def city_wall(settings):
    insert_small_city(settings.database.url)
    users = create_users(settings.database.url)
    running = RunningWorker(with_dashboard(settings)).start()
    running.creds = users["operator"]
    yield running
    running.stop()


@pytest.fixture
def empty_wall(settings):
    users = create_users(settings.database.url)
    running = RunningWorker(with_dashboard(settings)).start()
    running.creds = users["operator"]
    yield running
    running.stop()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_wall_renders_offline_without_scrollbars(browser, city_wall, width, height):
    wall = WallPage(browser, city_wall.url, width, height, city_wall.creds)
    try:
        page = wall.page
        page.wait_for_selector("#city-map .os-map-label", timeout=10_000)
        wall.wait_live()
        for element_id in CONTRACT_IDS:
            assert page.locator(f"#{element_id}").is_visible(), element_id
        assert page.locator("#kpi-open-alerts").inner_text() == "0"
        assert page.locator("#alert-feed li").first.inner_text() == "暂无告警"
        assert page.locator("#city-map .os-map-label").all_inner_texts() == ["西城街道", "东湖街道"]
        assert page.locator(f"{COMMUNITIES} path").count() == 4
        assert page.locator(f"{DISTRICTS} path").count() == 2
        assert page.locator(f"{CELLS} path").count() == 0  # cells only once a community is chosen
        tiles = page.locator("#camera-wall .cam-tile")
        assert tiles.count() == 2  # streamed cameras only
        assert "无画面" in tiles.first.inner_text()
        for label in ("今日事件", "视频在线率", "巡逻在岗率", "1-3-5达标率", "化解率"):
            assert label in page.locator("#wall-kpi-grid").inner_text()
        assert page.locator("#wall-chart-hourly .hbar").count() == 24
        assert page.locator("#wall-chart-heat .heat-row").count() == 3  # 2 districts + the hour axis
        assert "数据截至" in page.locator("#wall-data-as-of").inner_text()
        assert "stale" not in page.locator("#wall-data-as-of").get_attribute("class")
        assert "测试市综治中心" in page.locator(".wall-header").inner_text()  # the registry names its city
        assert "secret-pw" not in page.content()
        box = page.locator("#wall-canvas").bounding_box()
        assert box["width"] == pytest.approx(width, abs=2) and box["height"] == pytest.approx(height, abs=2)
        wall.assert_no_scrollbars()
        page.wait_for_timeout(700)  # let Leaflet finish fitting the bounds before the picture
        wall.screenshot(f"wall-{width}x{height}.png")
        wall.assert_clean()
    finally:
        wall.close()


def test_a_scoped_users_wall_opens_on_and_stays_within_its_area(browser, city_wall, settings):
    """A community-level user sees only that community (issue 7): the wall opens on it, the levels above are
    not clickable, the feed, colours and KPIs leave the rest of the city out, and the reset comes back here."""
    url = settings.database.url
    add_alert(settings, "A-20261122-000001", "gathering", "orange", "D1", "D1-01", "D1-01-A", 26.70, 118.12)
    add_alert(settings, "A-20261122-000002", "off_post", "red", "D2", "D2-02", None, 26.60, 118.25)
    scoped = create_users(url, scope_node_id="D1-01", prefix="c")["operator"]
    wall = WallPage(browser, city_wall.url, 1920, 1080, scoped)
    try:
        page = wall.page
        wall.wait_live()
        page.wait_for_function(f"{FEED_IDS}.length === 1", timeout=6_000)
        assert page.evaluate(FEED_IDS) == ["A-20261122-000001"]
        assert page.locator("#kpi-open-alerts").inner_text() == "1"
        crumbs = page.locator("#city-map-breadcrumb")
        assert "北门社区" in crumbs.locator(".crumb.current").inner_text()
        assert crumbs.locator(".crumb.locked").count() == 2 and crumbs.locator("button:disabled").count() == 2
        page.wait_for_function(f"document.querySelectorAll('{CELLS} path').length === 2", timeout=5_000)
        fill = f"(id => document.querySelector('{COMMUNITIES} path.os-area-' + id).getAttribute('fill'))"
        page.wait_for_function(f"{fill}('D1-01') !== null", timeout=4_000)
        assert page.evaluate(f"{fill}('D2-02')") != "#ff4d4f"  # the red alert elsewhere does not show
        assert page.locator("#city-map .os-marker-alerts").count() == 1
        page.locator("#city-map-reset").click()
        page.wait_for_timeout(500)
        assert "北门社区" in crumbs.locator(".crumb.current").inner_text() and page.evaluate(FEED_IDS) == [
            "A-20261122-000001"]
        wall.screenshot("wall-scoped-1920x1080.png")
        wall.assert_clean()
    finally:
        wall.close()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])  # clicks through the 2x scale too
def test_wall_is_live_and_drills_down(browser, city_wall, settings, redis_client, width, height):
    add_alert(settings, "A-20261122-000001", "gathering", "orange", "D1", "D1-01", "D1-01-A", 26.70, 118.12,
              subject_id="D-1/p-7f3a9c", evidence={"persons": 14, "peak": 16, "source": "video"})
    add_alert(settings, "A-20261122-000002", "off_post", "yellow", "D2", "D2-02", None, 26.60, 118.25)
    wall = WallPage(browser, city_wall.url, width, height, city_wall.creds)
    try:
        page = wall.page
        page.wait_for_selector(f"{COMMUNITIES} path", timeout=10_000)
        redis_client.zadd(names.OPEN_ALERTS, {"A-1": 1.0, "A-2": 2.0, "A-3": 3.0})
        page.wait_for_function("document.getElementById('kpi-open-alerts').textContent === '3'", timeout=4_000)
        assert "hot" in page.locator("#kpi-open-alerts").get_attribute("class")
        page.wait_for_function(f"{FEED_IDS}.length === 2", timeout=4_000)
        assert page.evaluate(FEED_IDS) == ["A-20261122-000002", "A-20261122-000001"]  # newest first
        assert "脱岗" in page.locator("#alert-feed").inner_text() and "疑似聚集" in page.locator("#alert-feed").inner_text()
        # colour by highest open level: 北门社区 orange, 新村社区 yellow, the others green
        fill = f"(id => document.querySelector('{COMMUNITIES} path.os-area-' + id).getAttribute('fill'))"
        page.wait_for_function(f"{fill}('D1-01') === '#ff9f1a'", timeout=4_000)
        fills = [page.evaluate(f"{fill}('{c}')") for c in ("D1-01", "D1-02", "D2-01", "D2-02")]
        assert fills == ["#ff9f1a", "#2fbf71", "#2fbf71", "#ffd84d"], fills
        assert page.locator("#city-map .os-marker-alerts").count() == 2
        # city → district: a click on 北门社区 selects its district 西城街道; the panels follow
        page.locator(f"{COMMUNITIES} path.os-area-D1-01").click()
        page.wait_for_function(f"{FEED_IDS}.length === 1", timeout=4_000)
        assert page.evaluate(FEED_IDS) == ["A-20261122-000001"]
        assert page.locator("#kpi-open-alerts").inner_text() == "1"
        assert "西城街道" in page.locator("#city-map-breadcrumb").inner_text()
        assert page.locator("#wall-chart-heat .heat-row").count() == 8  # 7 days + axis, inside a district
        # district → community: cells appear
        page.wait_for_timeout(800)  # the map flies to the district (0.6 s)
        page.locator(f"{COMMUNITIES} path.os-area-D1-01").click()
        page.wait_for_function(f"document.querySelectorAll('{CELLS} path').length === 2", timeout=5_000)
        crumbs = page.locator("#city-map-breadcrumb").inner_text()
        assert "西城街道" in crumbs and "北门社区" in crumbs
        page.wait_for_timeout(900)
        wall.screenshot(f"wall-drilled-{width}x{height}.png")
        # back through the breadcrumb: 全市
        page.locator("#city-map-breadcrumb .crumb").first.click()
        page.wait_for_function(f"document.querySelectorAll('{CELLS} path').length === 0", timeout=5_000)
        page.wait_for_function(f"{FEED_IDS}.length === 2", timeout=4_000)
        assert page.locator("#city-map-breadcrumb").inner_text().strip() == "全市"
        # a feed item opens the alert's detail with its history
        page.locator("#alert-feed [data-alert-id='A-20261122-000001']").click()
        page.wait_for_selector("#wall-alert-detail:not(.hidden) [data-alert-id='A-20261122-000001']", timeout=4_000)
        detail = page.locator("#wall-alert-detail").inner_text()
        assert "疑似聚集" in detail and "峰值人数" in detail  # the evidence, in Chinese
        assert "p-7f****" in detail and "p-7f3a9c" not in detail  # person ids masked on the wall too
        page.locator("#wall-alert-detail-close").click()
        page.wait_for_selector("#wall-alert-detail.hidden", state="attached", timeout=4_000)
        wall.assert_clean()
    finally:
        wall.close()


def test_an_alert_without_coordinates_has_a_marker_on_its_community(browser, city_wall, settings):
    add_alert(settings, "A-20261128-000001", "gathering", "yellow", "D1", "D1-02", None, 26.58, 118.12)
    add_alert(settings, "A-20261128-000002", "key_person_missing", "orange", "D2", "D2-01", None, None, None)
    wall = WallPage(browser, city_wall.url, 1920, 1080, city_wall.creds)
    try:
        page = wall.page
        placed = "#city-map .os-marker-alerts.os-marker-at"
        wall.wait_live()
        page.wait_for_selector(placed, timeout=6_000)
        assert page.locator("#city-map .os-marker-alerts").count() == 2  # the same layer as the located one
        assert page.locator(placed).get_attribute("fill") == "#ff9f1a"   # orange, as its level
        # on 湖滨社区's label point (the test city's label points are the squares' centres)
        m = page.locator(placed).bounding_box()
        area = page.locator(f"{COMMUNITIES} path.os-area-D2-01").bounding_box()
        assert m["x"] + m["width"] / 2 == pytest.approx(area["x"] + area["width"] / 2, abs=2)
        assert m["y"] + m["height"] / 2 == pytest.approx(area["y"] + area["height"] / 2, abs=2)
        wall.screenshot("wall-alert-at-community-1920x1080.png")
        # a second and a third alert on the same label point: still one marker there, with their number
        add_alert(settings, "A-20261128-000003", "key_person_missing", "red", "D2", "D2-01", None, None, None)
        add_alert(settings, "A-20261128-000004", "key_person_missing", "yellow", "D2", "D2-01", None, None, None)
        page.wait_for_selector("#city-map .leaflet-tooltip.os-count:text-is('3')", timeout=6_000)
        assert page.locator(placed).count() == 1 and page.locator(placed).get_attribute("fill") == "#ff4d4f"
        wall.screenshot("wall-alerts-sharing-a-point-1920x1080.png")
        page.locator(".layer-toggle[data-layer='alerts']").click()  # the alert layer's toggle hides it too
        page.wait_for_selector(placed, state="hidden", timeout=2_000)
        page.wait_for_selector("#city-map .os-count", state="hidden", timeout=2_000)
        wall.assert_clean()
    finally:
        wall.close()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_nine_camera_tiles_per_page_by_setting(browser, settings, redis_client, width, height):
    insert_small_city(settings.database.url)
    cameras = ["CAM-1", "CAM-2", *insert_streamed_cameras(settings.database.url, 10)]  # 12: pages of 9 and 3
    feed_frames(redis_client, cameras)
    creds = create_users(settings.database.url)["operator"]
    running = RunningWorker(with_dashboard(settings, camera_page_size=9)).start()
    shown = "#camera-wall .cam-tile:not(.cam-hidden)"
    count_shown = f"document.querySelectorAll('{shown}').length"
    label = "document.querySelector('.cam-page-label').textContent"
    try:
        wall = WallPage(browser, running.url, width, height, creds)
        try:
            page = wall.page
            wall.wait_live()
            assert page.locator("#camera-wall .cam-tile").count() == 12
            # the pages cycle: 3 tiles on the second page, then the first page again, fresh for 8 s
            page.wait_for_function(f"{label} === '2/2' && {count_shown} === 3", timeout=12_000)
            page.wait_for_function(f"{label} === '1/2' && {count_shown} === 9", timeout=12_000)
            page.wait_for_function(f"document.querySelectorAll('{shown}.cam-live').length === 9", timeout=4_000)
            boxes = [page.locator(shown).nth(i).bounding_box() for i in range(9)]
            assert len({round(b["x"]) for b in boxes}) == 3 and len({round(b["y"]) for b in boxes}) == 3  # 3×3
            scale = width / 1920
            assert all(b["width"] >= 280 * scale and b["height"] >= 140 * scale for b in boxes), boxes
            assert page.locator("#city-map").bounding_box()["height"] >= 320 * scale  # the map stays usable
            wall.assert_no_scrollbars()
            wall.screenshot(f"wall-cams9-{width}x{height}.png")
            # click to enlarge: a 16:9 picture 1000 px wide, held while enlarged; click again: back
            tile = page.locator(shown).nth(4)
            tile.click()
            big = page.locator("#camera-wall .cam-big .cam-body")
            box = big.bounding_box()
            assert [page.locator(shown).nth(i).bounding_box() for i in range(9)] == boxes  # the grid holds
            assert box["width"] == pytest.approx(1000 * scale, abs=3)
            assert page.locator("#camera-wall .cam-big .cam-picture").bounding_box()["height"] == \
                pytest.approx(1000 * scale * 9 / 16, abs=3)
            wall.screenshot(f"wall-cams9-big-{width}x{height}.png")
            if width == 1920:  # once: the page does not cycle away under an enlarged tile
                page.wait_for_timeout(9_000)
                assert big.is_visible() and page.evaluate(label) == "1/2"
            big.click()
            page.wait_for_function("!document.querySelector('#camera-wall .cam-big')", timeout=2_000)
            wall.assert_clean()
        finally:
            wall.close()
    finally:
        running.stop()


def test_wall_with_empty_registry_says_how_to_load_a_city(browser, empty_wall):
    wall = WallPage(browser, empty_wall.url, 1920, 1080, empty_wall.creds)
    try:
        page = wall.page
        for element_id in CONTRACT_IDS:
            assert page.locator(f"#{element_id}").is_visible(), element_id
        notice = page.locator(".map-empty")
        assert notice.is_visible()
        assert "未加载城市数据" in notice.inner_text()
        assert "onescreen city import" in notice.inner_text()
        page.wait_for_function("document.getElementById('camera-wall').innerText.includes('未接入视频')",
                               timeout=10_000)  # filled by the first live refresh
        wall.assert_no_scrollbars()
        wall.screenshot("wall-empty-1920x1080.png")
        wall.assert_clean()
    finally:
        wall.close()


def test_wall_in_english_by_setting(browser, settings):
    insert_small_city(settings.database.url)
    creds = create_users(settings.database.url)["operator"]
    running = RunningWorker(with_dashboard(settings, language="en", center_name="Yanping Command Centre")).start()
    try:
        wall = WallPage(browser, running.url, 1920, 1080, creds)
        try:
            page = wall.page
            wall.wait_live()
            assert page.locator("html").get_attribute("lang") == "en-GB"
            assert "Open alerts" in page.locator(".panel-kpis").inner_text()
            assert "Cameras online" in page.locator("#wall-kpi-grid").inner_text()
            assert page.locator("#city-map-breadcrumb").inner_text().strip() == "Whole city"
            assert page.locator("#wall-data-as-of").inner_text().startswith("Data as of")
            assert "Yanping Command Centre" in page.locator(".wall-header").inner_text()
            wall.screenshot("wall-en-1920x1080.png")
            wall.assert_clean()
        finally:
            wall.close()
    finally:
        running.stop()
