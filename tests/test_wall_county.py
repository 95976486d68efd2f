"""The wall at county size (issue 17), in headless Chromium at 1920×1080 on a ``nanchang``-preset city with
24,000 cameras: one operator's walk, as at 3 a.m.

- the preset's own city is named in the header (not the default's);
- 视频在线率 with 23,999 of 24,000 cameras online does not read 100 % (and its tooltip says what it counts);
- a real mouse click on the most crowded community, where an alert marker and clusters lie over it, drills
  down (city → district → community → cell): markers do not swallow clicks meant for the area;
- cameras cluster with online/total, the legend and the area names are there;
- the camera wall of a community without streamed cameras says 无可用画面 with the number registered and shows
  no other community's camera;
- no English word anywhere on the Chinese wall (text and tooltips).
"""

from __future__ import annotations

import re
import shutil
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onescreen import names
from onescreen.db.models import Alert, Camera, GridNode
from onescreen.db.session import make_engine
from tests.auth_helpers import create_users
from tests.dashboard_helpers import RunningWorker, with_dashboard
from tests.wall_browser_helpers import WallPage, feed_frames

pytestmark = [pytest.mark.services, pytest.mark.browser]

CAMERAS = 24_000
ENGLISH = re.compile(r"[A-Za-z]{2,}")
CURRENT = "#city-map-breadcrumb .crumb.current"


@pytest.fixture(scope="module")
def county_db(tmp_path_factory) -> str:
    from onescreen.db.session import upgrade
    from onescreen.registry.bundle import write_bundle
    from onescreen.registry.importer import import_bundle
    from sim.citygen import generate_city

    root = tmp_path_factory.mktemp("county")
    url = f"sqlite:///{root / 'county.db'}"
    upgrade(url)
    write_bundle(root / "bundle", generate_city("nanchang", cameras=CAMERAS))
    engine = make_engine(url)
    import_bundle(engine, root / "bundle")
    engine.dispose()
    return url


def crowded_community(url: str) -> tuple[str, str, int]:
    """(community, its district, cameras registered) of the smallest community without a streamed camera."""
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            streamed_cells = set(s.scalars(select(Camera.cell_id).where(Camera.streamed.is_(True))))
            nodes = {n.id: n for n in s.scalars(select(GridNode))}
            with_stream = {nodes[c].parent_id for c in streamed_cells}
            comms = [n for n in nodes.values() if n.level == "community" and n.id not in with_stream]

            def area(n: GridNode) -> float:
                ring = n.geometry["coordinates"][0]
                xs, ys = [p[0] for p in ring], [p[1] for p in ring]
                return (max(xs) - min(xs)) * (max(ys) - min(ys))

            comm = min(comms, key=area)
            cells = [n.id for n in nodes.values() if n.parent_id == comm.id]
            registered = s.scalar(select(func.count()).select_from(Camera).where(Camera.cell_id.in_(cells)))
            lat, lon = comm.lat, comm.lon
            # an alert right on the community: its marker lies over the area a click is meant for
            s.add(Alert(alert_id="A-20261205-900001", rule="gathering", level="red", status="open",
                        subject_kind="camera_zone", subject_id="C-X/gate", district_id=comm.parent_id,
                        community_id=comm.id, cell_id=cells[0], lat=lat, lon=lon, evidence={},
                        opened_at=datetime.now(UTC)))
            s.commit()
            return comm.id, comm.parent_id, int(registered)
    finally:
        engine.dispose()


def seed_cameras(client, url: str) -> None:
    """Every camera online but one: the streamed ones by their health hash, the others by a recent message."""
    engine = make_engine(url)
    with Session(engine) as s:
        cams = list(s.execute(select(Camera.id, Camera.streamed).order_by(Camera.id)))
    engine.dispose()
    feed_frames(client, [c.id for c in cams if c.streamed])
    others = [c.id for c in cams if not c.streamed][1:]  # the first one stays silent: 23,999 of 24,000
    now = time.time()
    for i in range(0, len(others), 5000):
        client.zadd(names.DEVICE_LAST_SEEN, {cid: now for cid in others[i:i + 5000]})


def click_area(page, node_id: str) -> None:
    """A real mouse click at the middle of an area's polygon, whatever lies on top of it there."""
    box = page.locator(f"#city-map path.os-area-{node_id}").first.bounding_box()
    assert box is not None, node_id
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def english_on(page, data: str) -> list[str]:
    """English words in the wall's text, titles and open tooltips (``data``: the user name, not screen text)."""
    text = page.evaluate("""() => [document.querySelector('#wall-canvas').innerText,
        ...Array.from(document.querySelectorAll('#wall-canvas [title]')).map(e => e.getAttribute('title')),
        ...Array.from(document.querySelectorAll('.leaflet-tooltip')).map(e => e.textContent)].join('\\n')""")
    return sorted(set(ENGLISH.findall(text.replace(data, ""))))


def test_a_county_sized_wall_is_readable_honest_and_drills_down(browser, settings, county_db, tmp_path,
                                                                 redis_client):
    db = tmp_path / "county.db"
    shutil.copy(county_db.removeprefix("sqlite:///"), db)
    url = f"sqlite:///{db}"
    community, district, registered = crowded_community(url)
    seed_cameras(redis_client, url)
    s = with_dashboard(settings.model_copy(update={"database": settings.database.model_copy(update={"url": url})}))
    users = create_users(url)
    running = RunningWorker(s).start()
    wall = WallPage(browser, running.url, 1920, 1080, users["operator"])
    try:
        page = wall.page
        wall.wait_live(30_000)
        assert "南昌县综治中心" in page.locator(".wall-header").inner_text()
        rate = page.locator("#wall-kpi-grid .kpi-camera-online")
        page.wait_for_function("document.querySelector('#wall-kpi-grid .kpi-camera-online .kpi-value')"
                               ".textContent.endsWith('%')", timeout=15_000)
        assert rate.locator(".kpi-value").inner_text() == "99.9%"
        assert "23,999 / 24,000" in rate.get_attribute("title")
        # city level: cameras gathered by district (online/total), the alert on top, a legend
        page.wait_for_selector("#city-map .os-cluster-cameras span", timeout=15_000)
        assert page.locator("#city-map .os-cluster-cameras").count() == 10
        assert page.locator("#city-map .os-marker-alerts").count() >= 1
        assert page.locator("#city-map-legend").is_visible()
        page.locator("#city-map .os-cluster-cameras span").first.hover()
        page.wait_for_selector(".leaflet-tooltip.os-tip", timeout=5_000)
        assert english_on(page, users["operator"].username) == []

        click_area(page, community)  # crowded: the alert marker and the district's clusters are around it
        page.wait_for_function(f"document.querySelector('{CURRENT}').textContent !== '全市'", timeout=10_000)
        district_name = page.locator(CURRENT).inner_text()
        assert page.locator("#city-map-scope-name").inner_text() == district_name
        page.wait_for_selector("#city-map .os-name-community span", timeout=10_000)  # its communities named
        page.wait_for_timeout(900)  # the fly-to animation
        click_area(page, community)
        page.wait_for_function(f"document.querySelector('{CURRENT}').textContent !== {district_name!r}",
                               timeout=10_000)
        community_name = page.locator(CURRENT).inner_text()
        assert page.locator("#city-map-scope-name").inner_text() == community_name
        page.wait_for_selector("#city-map .os-name-cell span", timeout=10_000)
        # the camera wall: this community streams nothing, and says so; no other community's camera
        page.wait_for_function("document.querySelector('#camera-wall').innerText.includes('无可用画面')",
                               timeout=10_000)
        assert page.locator("#camera-wall .cam-tile").count() == 0
        assert f"{registered:,}" in page.locator("#camera-wall").inner_text()
        wall.screenshot("wall-county-community.png")
        page.wait_for_timeout(900)
        cell = page.evaluate("() => Array.from(document.querySelectorAll('#city-map .leaflet-os-cells-pane path'))"
                             ".map(p => (p.getAttribute('class').match(/os-area-(\\S+)/) || [])[1])[0]")
        click_area(page, cell)
        page.wait_for_function(f"document.querySelector('{CURRENT}').textContent !== {community_name!r}",
                               timeout=10_000)
        assert english_on(page, users["operator"].username) == []
        wall.assert_clean()
    finally:
        wall.close()
        running.stop()
    assert district  # the helper found the community's district
