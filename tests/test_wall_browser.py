"""The wall screen in a real headless Chromium, served by a real DashboardWorker (waitress) on a free port.

Besides the CONTRACT §4 ids, these tests hold the offline promise (every request stays on 127.0.0.1:
a route handler records and aborts anything else) and the no-scrollbar canvas at both wall sizes.
Screenshots land in ``test-artifacts/`` for a human to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from onescreen import names
from tests.dashboard_helpers import RunningWorker, insert_small_city, with_dashboard

pytestmark = [pytest.mark.services, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
CONTRACT_IDS = ("kpi-open-alerts", "alert-feed", "city-map", "camera-wall")
LOCAL_HOSTS = {"127.0.0.1"}
COMMUNITIES = "#city-map .leaflet-os-communities-pane"
CELLS = "#city-map .leaflet-os-cells-pane"
DISTRICTS = "#city-map .leaflet-os-districts-pane"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} missing: install Debian's chromium package", pytrace=False)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def city_wall(settings):
    insert_small_city(settings.database.url)
    running = RunningWorker(with_dashboard(settings)).start()
    yield running
    running.stop()


@pytest.fixture
def empty_wall(settings):
    running = RunningWorker(with_dashboard(settings)).start()
    yield running
    running.stop()


class WallPage:
    """A page on the wall with console errors and non-local requests recorded."""

    def __init__(self, browser, url: str, width: int, height: int):
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._only_local)
        self.page.goto(url, wait_until="load")
        self.page.wait_for_selector("#wall-canvas", state="visible", timeout=15_000)
        self.page.wait_for_function("document.getElementById('wall-clock-time').textContent.length >= 8")

    def _only_local(self, route) -> None:
        parts = urlsplit(route.request.url)
        if parts.scheme in ("data", "blob") or parts.hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def assert_clean(self) -> None:
        assert self.outside == [], f"requests left 127.0.0.1: {self.outside}"
        assert self.errors == [], f"console errors: {self.errors}"

    def assert_no_scrollbars(self) -> None:
        dims = self.page.evaluate("""() => ({sw: document.documentElement.scrollWidth, iw: innerWidth,
                                             sh: document.documentElement.scrollHeight, ih: innerHeight})""")
        assert dims["sw"] <= dims["iw"] and dims["sh"] <= dims["ih"], dims

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / name))

    def close(self) -> None:
        self.page.close()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])
def test_wall_renders_offline_without_scrollbars(browser, city_wall, width, height):
    wall = WallPage(browser, city_wall.url + "/", width, height)
    try:
        page = wall.page
        page.wait_for_selector("#city-map .os-map-label", timeout=10_000)
        for element_id in CONTRACT_IDS:
            assert page.locator(f"#{element_id}").is_visible(), element_id
        assert page.locator("#kpi-open-alerts").inner_text() == "0"
        assert page.locator("#alert-feed li").first.inner_text() == "暂无告警"
        assert page.locator("#city-map .os-map-label").all_inner_texts() == ["西城街道", "东湖街道"]
        assert page.locator(f"{COMMUNITIES} path").count() == 4
        assert page.locator(f"{DISTRICTS} path").count() == 2
        assert page.locator(f"{CELLS} path").count() == 0  # cells only once a community is clicked
        tiles = page.locator("#camera-wall .cam-tile")
        assert tiles.count() == 2  # streamed cameras only
        assert "无画面" in tiles.first.inner_text()
        assert "数据截至" in page.locator("#wall-data-as-of").inner_text()
        assert "延平区综治中心" in page.locator(".wall-header").inner_text()
        assert "secret-pw" not in page.content()
        # The canvas fills the window: scaled 1x on 1920x1080, 2x on 3840x2160.
        box = page.locator("#wall-canvas").bounding_box()
        assert box["width"] == pytest.approx(width, abs=2) and box["height"] == pytest.approx(height, abs=2)
        wall.assert_no_scrollbars()
        page.wait_for_timeout(700)  # let Leaflet finish fitting the bounds before the picture
        wall.screenshot(f"wall-{width}x{height}.png")
        wall.assert_clean()
    finally:
        wall.close()


@pytest.mark.parametrize("width,height", [(1920, 1080), (3840, 2160)])  # clicks through the 2x scale too
def test_wall_is_live_and_drills_down(browser, city_wall, redis_client, width, height):
    wall = WallPage(browser, city_wall.url + "/", width, height)
    try:
        page = wall.page
        page.wait_for_selector(f"{COMMUNITIES} path", timeout=10_000)
        redis_client.zadd(names.OPEN_ALERTS, {"A-1": 1.0, "A-2": 2.0, "A-3": 3.0})
        page.wait_for_function("document.getElementById('kpi-open-alerts').textContent === '3'",
                               timeout=6_000)  # the 2 s poll, with margin
        assert "hot" in page.locator("#kpi-open-alerts").get_attribute("class")
        # A click on 北门社区 (north-west square) draws its two cells and updates the breadcrumb.
        page.locator(f"{COMMUNITIES} path").first.click()
        page.wait_for_function(f"document.querySelectorAll('{CELLS} path').length === 2", timeout=5_000)
        crumbs = page.locator("#city-map-breadcrumb").inner_text()
        assert "西城街道" in crumbs and "北门社区" in crumbs
        page.wait_for_timeout(900)
        wall.screenshot(f"wall-drilled-{width}x{height}.png")
        page.locator("#city-map-reset").click()
        page.wait_for_function(f"document.querySelectorAll('{CELLS} path').length === 0", timeout=5_000)
        assert page.locator("#city-map-breadcrumb").inner_text().strip() == "全市"
        wall.assert_clean()
    finally:
        wall.close()


def test_wall_with_empty_registry_says_how_to_load_a_city(browser, empty_wall):
    wall = WallPage(browser, empty_wall.url + "/", 1920, 1080)
    try:
        page = wall.page
        for element_id in CONTRACT_IDS:
            assert page.locator(f"#{element_id}").is_visible(), element_id
        notice = page.locator(".map-empty")
        assert notice.is_visible()
        assert "未加载城市数据" in notice.inner_text()
        assert "onescreen city import" in notice.inner_text()
        assert "未接入视频" in page.locator("#camera-wall").inner_text()
        wall.assert_no_scrollbars()
        wall.screenshot("wall-empty-1920x1080.png")
        wall.assert_clean()
    finally:
        wall.close()


def test_placeholder_pages_are_navigable(browser, empty_wall):
    wall = WallPage(browser, empty_wall.url + "/", 1920, 1080)
    try:
        page = wall.page
        for path, title in (("/alerts", "告警处置"), ("/duty", "值班调度"), ("/patrol", "巡逻督查"),
                            ("/admin", "系统管理")):
            page.locator(f".wall-nav a[href='{path}']").click()
            page.wait_for_selector(".desk-title", timeout=5_000)
            assert page.locator(".desk-title").inner_text() == title
            assert "建设中 (later issue)" in page.locator(".desk-main").inner_text()
            assert page.title().startswith(title)
            page.locator(".desk-link").click()
            page.wait_for_selector("#wall-canvas", timeout=5_000)
        wall.assert_clean()
    finally:
        wall.close()
