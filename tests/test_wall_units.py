"""The wall's pure parts and its camera-frame endpoint, without a browser: drill-down steps, colours by
highest open level, point features (alerts without coordinates on their node's label point), feed items
(``data-alert-id``), camera pages of 4 or 9, events per hour from the ingest's aggregates (written by the real
``EventStore`` into a real Redis), and ``GET /api/cameras/{id}/snapshot.jpg`` (401 without credentials, the
frame with a bearer token or a session).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import orjson
import pytest

from dashboard.components import citymap
from dashboard.components.panels import camera_page_class, camera_tiles, feed_items, kpi_grid
from dashboard.readers.hours import HourlyCounts, events_by_node, heat_by_day, hourly, per_hour
from dashboard.readers.wall import WallReader, _pct
from dashboard.readers.wall_index import WallIndex
from dashboard.registry import CityView, NodeInfo
from onescreen import names
from onescreen.settings import load_settings


def tiny_city() -> CityView:
    nodes = {n.id: n for n in (NodeInfo("C", "city", None, "市"), NodeInfo("D1", "district", "C", "西城"),
                               NodeInfo("D1-01", "community", "D1", "北门"), NodeInfo("G1", "cell", "D1-01", "一网格"),
                               NodeInfo("D2", "district", "C", "东湖"), NodeInfo("D2-01", "community", "D2", "湖滨"))}
    return CityView(name="t", nodes=nodes)


@pytest.mark.parametrize("scope,clicked,expected", [
    (None, "D1-01", "D1"),          # city: a click on a community chooses its district
    ("D1", "D1-01", "D1-01"),       # district: the community
    ("D1-01", "G1", "G1"),          # community: the cell
    ("G1", "G1", "G1"),             # the bottom
    ("D1", "D2-01", "D2"),          # a community of another district: that district
    ("D1", None, "D1"),             # nothing clicked: stay
])
def test_next_scope_goes_one_level_down(scope, clicked, expected):
    assert citymap.next_scope(tiny_city(), scope, clicked) == expected


def test_colors_take_the_highest_open_level_per_node():
    rows = [{"district": "D1", "community": "D1-01", "cell": "G1", "level": "yellow"},
            {"district": "D1", "community": "D1-01", "cell": None, "level": "red"},
            {"district": "D2", "community": "D2-01", "cell": None, "level": "orange"}]
    assert WallReader._colors(rows) == {"D1": "red", "D1-01": "red", "G1": "yellow", "D2": "orange",
                                        "D2-01": "orange"}


def test_points_are_geojson_in_lon_lat_order():
    fc = citymap.points([["A-1", 26.6, 118.1, "red", "gathering"]], "alert")
    feat = fc["features"][0]
    assert feat["geometry"]["coordinates"] == [118.1, 26.6]
    assert feat["properties"] == {"id": "A-1", "kind": "alert", "level": "red", "rule": "gathering", "node": None, "silenced": False,
                                  "tip": "rule.gathering · level.red"}


def test_an_alert_without_coordinates_sits_on_its_cell_or_community_label_point():
    ix = WallIndex(label={"D1": (26.6, 118.1), "D1-01": (26.7, 118.15), "G1": (26.71, 118.16)})
    rows = [
        {"id": "A-1", "level": "red", "rule": "key_person_missing", "ts": 3.0, "lat": None, "lon": None,
         "district": "D1", "community": "D1-01", "cell": None},
        {"id": "A-2", "level": "red", "rule": "key_person_gathering", "ts": 2.0, "lat": None, "lon": None,
         "district": "D1", "community": "D1-01", "cell": "G1"},
        {"id": "A-3", "level": "orange", "rule": "gathering", "ts": 1.0, "lat": 26.65, "lon": 118.12,
         "district": "D1", "community": "D1-01", "cell": "G1"},
        {"id": "A-4", "level": "yellow", "rule": "key_person_missing", "ts": 0.5, "lat": None, "lon": None,
         "district": "D9", "community": "D9-01", "cell": None},  # a place the registry does not know: no marker
        {"id": "A-5", "level": "yellow", "rule": "key_person_missing", "ts": 9.0, "lat": None, "lon": None,
         "district": "D1", "community": "D1-01", "cell": None},  # A-1's point: one marker, A-1's, for both
        {"id": "A-6", "level": "orange", "rule": "key_person_missing", "ts": 0.1, "lat": None, "lon": None,
         "district": "D1", "community": "D1-01", "cell": None},
    ]
    assert WallReader._alert_points(ix, rows, None, {"A-3"}) == [  # the most urgent last: drawn on top
        ["A-3", 26.65, 118.12, "orange", "gathering", None, 1, "G1", True],
        ["A-2", 26.71, 118.16, "red", "key_person_gathering", "G1", 1, "G1", False],
        ["A-1", 26.7, 118.15, "red", "key_person_missing", "D1-01", 3, "D1-01", False],
    ]
    fc = citymap.points(WallReader._alert_points(ix, rows, None, {"A-3"}), "alert", _Ctx().t)
    assert [f["properties"].get("at") for f in fc["features"]] == [None, "G1", "D1-01"]
    # a silenced alert stays on the map, marked 静默中 (issue 11: a silence never hides an alert)
    assert [f["properties"]["silenced"] for f in fc["features"]] == [True, False, False]
    assert "静默中" in fc["features"][0]["properties"]["tip"] and "静默中" not in fc["features"][1]["properties"]["tip"]
    assert [f["properties"].get("n") for f in fc["features"]] == [None, 1, 3]
    assert fc["features"][2]["geometry"]["coordinates"] == [118.15, 26.7]


class _Ctx:
    def __init__(self, **dashboard):
        from dashboard.i18n import Translator

        self.t = Translator("zh")
        self.city = tiny_city()
        self.settings = load_settings(dashboard=dashboard)


@pytest.mark.parametrize("size,pages", [(4, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]), (9, [0] * 9 + [1] * 3)])
def test_camera_tiles_come_in_pages_of_the_configured_size(size, pages):
    ctx = _Ctx(camera_page_size=size)
    cams = [{"id": f"CAM-{i}", "name": f"camera {i}", "online": True} for i in range(12)]
    tiles = [t.to_plotly_json()["props"] for t in camera_tiles(ctx, cams)]
    assert [t["data-page"] for t in tiles] == pages
    assert [t["data-camera-id"] for t in tiles] == [c["id"] for c in cams]
    assert camera_page_class(ctx) == f"cams-{size}"


def test_feed_items_carry_alert_id_rule_in_chinese_and_place():
    rows = [{"id": "A-2", "rule": "off_post", "level": "yellow", "status": "open", "district": "D1",
             "community": "D1-01", "cell": "G1", "ts": 1.5},
            {"id": "A-1", "rule": "device_offline", "level": "yellow", "status": "closed", "district": "D2",
             "community": "D2-01", "cell": None, "ts": 1.0}]
    items = feed_items(_Ctx(), rows)
    first = items[0].to_plotly_json()["props"]
    assert first["data-alert-id"] == "A-2" and "level-yellow" in first["className"]
    assert "level-green" in items[1].to_plotly_json()["props"]["className"]  # handled: shown green
    text = str(items[0].to_plotly_json())
    assert "脱岗" in text and "北门 · 一网格" in text


def test_kpis_show_a_dash_when_there_is_nothing_to_count():
    assert _pct(0, 0) is None and _pct(1, 3) == 33.3
    grid = str([k.to_plotly_json() for k in kpi_grid(_Ctx(), {"camera_online": 99.5})])
    assert "99.5%" in grid and "—" in grid


@pytest.mark.parametrize("n,total,shown", [
    (23_999, 24_000, 99.9), (24_000, 24_000, 100.0), (1, 24_000, 0.1), (0, 24_000, 0.0), (199_999, 200_000, 99.9),
    (2, 3, 66.7), (1, 2, 50.0),
])
def test_a_rate_is_100_or_0_only_when_it_is_exactly_that(n, total, shown):
    assert _pct(n, total) == shown
    grid = kpi_grid(_Ctx(), {"camera_online": _pct(n, total), "camera_online_parts": (n, total)})
    cam = next(k for k in grid if "kpi-camera-online" in k.className).to_plotly_json()["props"]
    assert f"{shown:g}%" in str(cam["children"]) and f"{n:,} / {total:,}" in cam["title"]


def test_every_kpi_has_a_tooltip_saying_what_it_counts():
    ctx = _Ctx()
    for kpi in kpi_grid(ctx, {}):
        title = kpi.to_plotly_json()["props"]["title"]
        assert title and "kpi." not in title, title


def test_markers_cluster_by_scope_level_with_online_of_total():
    from dashboard.readers.wall import cluster_level, clusters
    from dashboard.readers.wall_index import Placed

    ix = WallIndex(chain={"G1": frozenset({"G1", "C1", "D1"}), "G2": frozenset({"G2", "C1", "D1"}),
                          "C1": frozenset({"C1", "D1"}), "D1": frozenset({"D1"})},
                   level={"G1": "cell", "G2": "cell", "C1": "community", "D1": "district", "X": "city"},
                   label={"G1": (1.0, 2.0), "G2": (1.1, 2.1), "C1": (1.05, 2.05), "D1": (1.0, 2.0)})
    assert [cluster_level(ix, s, 100) for s in (None, "D1", "C1", "G1")] == ["district", "community", "cell", None]
    assert cluster_level(ix, "C1", 10) is None  # a community with few cameras: one marker each
    cams = [Placed(f"K{i}", "", "G1" if i < 3 else "G2", 1.0, 2.0) for i in range(5)]
    on = {"K0", "K3"}.__contains__
    assert clusters(ix, cams, "cell", "camera", on) == [["G1", 1.0, 2.0, "camera_cluster", 1, 3],
                                                        ["G2", 1.1, 2.1, "camera_cluster", 1, 2]]
    fc = citymap.points(clusters(ix, cams, "community", "camera", on), None, _Ctx().t, tiny_city().nodes)
    props = fc["features"][0]["properties"]
    assert props["node"] == "C1" and (props["on"], props["n"]) == (2, 5) and "2/5" in props["tip"]
    # a click on a cluster or a marker drills towards its node, like a click on the area under it
    assert citymap.clicked_node({"properties": props}) == "C1"
    assert citymap.clicked_node({"properties": {"id": "K1", "node": "G2"}}) == "G2"


def test_marker_tooltips_are_in_the_screen_language():
    t = _Ctx().t
    rows = [["P-1", 1.0, 2.0, "on_post", "G1"], ["P-2", 1.0, 2.0, "moving", "G1"], ["P-3", 1.0, 2.0, "off", "G1"]]
    tips = [f["properties"]["tip"] for f in citymap.points(rows, "patrol", t)["features"]]
    tips += [f["properties"]["tip"] for f in citymap.points([["C-1", 1.0, 2.0, "camera", 0, "G1"]], None, t)["features"]]
    assert tips == ["P-1 · 在岗", "P-2 · 离岗移动", "P-3 · 离线/下班", "摄像机 C-1 · 离线"]


def test_a_scope_without_streamed_cameras_says_so_with_the_number_registered():
    out = str([x.to_plotly_json() for x in camera_tiles(_Ctx(), [], 130)])
    assert "无可用画面" in out and "130" in out


def test_camera_snapshot_needs_credentials(settings, redis_client):
    from dashboard.app import create_app
    from onescreen.accounts import add_user
    from onescreen.accounts.tokens import create_token
    from onescreen.db.session import make_engine, session_factory
    from tests.auth_helpers import create_users, logged_in_client

    engine = make_engine(settings.database.url)
    with session_factory(engine)() as session:
        add_user(session, "api", "password-123", "operator")
        token = create_token(session, "api")
        session.commit()
    engine.dispose()
    users = create_users(settings.database.url)
    app = create_app(settings)
    client = app.server.test_client()
    url = "/api/cameras/CAM-1/snapshot.jpg"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=bearer).status_code == 404  # no frame yet
    assert client.get(url + "?missing=204", headers=bearer).status_code == 204
    redis_client.set(names.camera_snapshot("CAM-1"), b"\xff\xd8jpeg\xff\xd9")
    resp = client.get(url, headers=bearer)
    assert resp.status_code == 200 and resp.mimetype == "image/jpeg" and resp.data == b"\xff\xd8jpeg\xff\xd9"
    assert resp.headers["Cache-Control"] == "no-store"
    session_client = logged_in_client(app, users["duty"].username, users["duty"].password)
    assert session_client.get(url).data == b"\xff\xd8jpeg\xff\xd9"


def test_hour_aggregates_keep_door_events_per_node():
    assert events_by_node([{"D1|access": "2", "D1|status": "50", "D2|access": "1"}, {"D1|access": "3"}]) == \
        {"D1": 5, "D2": 1}
    hours = {"2026112808": {"G1": 2, "G2": 5}, "2026112807": {"G1": 1}}
    assert per_hour(hours) == {"2026112808": 7, "2026112807": 1}
    assert per_hour(hours, "G1".__eq__) == {"2026112808": 2, "2026112807": 1}
    now = datetime(2026, 11, 28, 8, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    h = hourly({"2026112808": 7, "2026112807": 1, "2026112723": 4}, now)
    assert h["today"] == [0] * 7 + [1, 7] and h["yesterday"][23] == 4 and sum(h["yesterday"]) == 4
    heat = heat_by_day({"2026112808": 7, "2026112207": 9}, now)
    assert [d for d, _row in heat["rows"]] == [f"202611{d}" for d in range(22, 29)]
    assert heat["rows"][-1][1][8] == 7 and heat["rows"][0][1][7] == 9


def test_community_hours_are_exact_per_cell_as_ingest_stores_them(redis_server, redis_client):
    """The real EventStore writes the aggregates; HourlyCounts reads one community's, by cell."""
    import redis

    from ingest.mqtt.parsers import Accepted
    from ingest.mqtt.store import EventStore

    tz = ZoneInfo("Asia/Shanghai")
    now_ms = int(datetime.now(tz).timestamp() * 1000)
    places = [("C1", "C1-G1")] * 3 + [("C1", "C1-G2")] * 2 + [("C2", "C2-G1")] * 4
    events = [Accepted(names.ACCESS, f"e-{i}", names.partition_of(com, 8), f"door-{cell}",
                       {"ts": now_ms, "cell_id": cell, "community_id": com, "district_id": "D1"})
              for i, (com, cell) in enumerate(places)]
    events.append(Accepted(names.STATUS, "s-1", names.partition_of("C1", 8), "door-C1-G1",
                           {"ts": now_ms, "online": True, "cell_id": "C1-G1", "community_id": "C1",
                            "district_id": "D1"}))  # a heartbeat is telemetry, not an event
    EventStore(redis_client, 3600, 10_000, "Asia/Shanghai").write(events + events[:2], [])  # 2 duplicates
    r = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        counts = HourlyCounts(tz, 8)
        c1 = counts.community(r, "C1", 2.0)
        current = datetime.now(tz).strftime("%Y%m%d%H")
        assert c1[current] == {"C1-G1": 3, "C1-G2": 2}
        assert sum(per_hour(c1).values()) == 5 and sum(per_hour(c1, "C1-G2".__eq__).values()) == 2
        assert sum(per_hour(counts.community(r, "C2", 2.0)).values()) == 4
        assert counts.districts(r)[current] == {"D1": 9}
    finally:
        r.close()


def test_patrol_on_post_rate_counts_only_units_on_shift():
    """在岗率 = units at their posts / units whose shift is on now; an off-shift unit is in neither part."""
    from dashboard.readers.wall import patrol_summary
    from dashboard.readers.wall_index import Placed

    def unit(uid: str, shift: tuple[str, str]) -> Placed:
        return Placed(uid, uid, "G1", 26.64, 118.17, radius_m=100.0, post_id="POST-" + uid, shift=shift)

    ix = WallIndex(chain={"G1": frozenset({"G1", "D1-01", "D1", "C"})},
                   units={u.id: u for u in (unit("day-at-post", ("08:00", "20:00")),
                                            unit("day-away", ("08:00", "20:00")),
                                            unit("day-silent", ("08:00", "20:00")),
                                            unit("night-at-post", ("20:00", "08:00")))})
    local = datetime(2026, 11, 22, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    now = local.timestamp()

    def fix(lat: float) -> str:
        return orjson.dumps({"lat": lat, "lon": 118.17, "ts": int(now * 1000), "status": "patrolling"}).decode()

    positions = {"day-at-post": fix(26.64), "day-away": fix(26.65), "night-at-post": fix(26.64)}
    out = patrol_summary(ix, None, positions, now, local)
    assert (out["on_post"], out["staffed"]) == (1, 3)       # night-at-post is at its post, but not on shift
    assert out["counts"] == {"on_post": 2, "moving": 1, "off": 1}
    assert _pct(out["on_post"], out["staffed"]) == pytest.approx(33.3, abs=0.1)
    night = patrol_summary(ix, None, positions, now + 12 * 3600, local.replace(hour=22))
    assert (night["on_post"], night["staffed"]) == (0, 1)   # the fixes are 12 h old: nobody counts as present


def test_one_registry_snapshot_follows_a_city_import_without_a_restart(settings, tmp_path):
    """Wall geometry, the wall's scope index and the desks' lookups come from one snapshot; after
    ``city import`` all three show the new city at the next check (no restart), and the wall's refresh
    sends the new geometry once (its hash is the registry version)."""
    from dashboard.app import build_context
    from dashboard.desk.data import registry
    from dashboard.pages.wall import GEO_SECTIONS, live_sections
    from onescreen.db.session import make_engine
    from onescreen.registry.bundle import write_bundle
    from onescreen.registry.importer import import_bundle
    from sim.citygen import generate_city

    ctx = build_context(settings)
    try:
        assert ctx.city.empty and ctx.registry.index.cameras == ()
        empty = {"kpi": {}, **dict.fromkeys(("feed", "colors", "alert_points", "patrol", "devices", "hourly",
                                              "heat", "cameras"))}
        before = {name: live_sections(ctx, empty, None, "alert")[name][0] for name in GEO_SECTIONS}
        write_bundle(tmp_path / "city", generate_city("default", cameras=40))
        engine = make_engine(settings.database.url)
        import_bundle(engine, tmp_path / "city")
        engine.dispose()
        ctx.registry.check_s = 0.0
        assert not ctx.city.empty and ctx.city.name == "延平区"
        assert len(ctx.registry.index.cameras) == 40
        assert registry(ctx).version == ctx.registry.current().version >= 1
        sections = live_sections(ctx, empty, None, "alert")
        assert all(sections[name][0] != before[name] for name in GEO_SECTIONS)
        assert sections["geo"][1]()["features"]  # the communities, drawn by the browser without a reload
    finally:
        ctx.close()


def test_a_flood_of_yellow_alerts_gathers_by_area_while_red_and_orange_keep_their_markers():
    ix = WallIndex(level={"D1": "district", "D1-01": "community", "D1-02": "community"},
                   label={"D1": (1.0, 2.0), "D1-01": (1.1, 2.1), "D1-02": (1.2, 2.2)})
    rows = [{"id": f"Y{i}", "level": "yellow", "rule": "device_offline", "ts": float(i), "lat": 1.0, "lon": 2.0,
             "district": "D1", "community": "D1-01" if i % 2 else "D1-02", "cell": None} for i in range(70)]
    rows.append({"id": "R1", "level": "red", "rule": "gathering", "ts": 0.0, "lat": 1.05, "lon": 2.05,
                 "district": "D1", "community": "D1-01", "cell": None})
    city = WallReader._alert_points(ix, rows, None)
    assert [(p[0], p[6]) for p in city] == [("Y69", 70), ("R1", 1)]  # one yellow group for D1; red last, on top
    district = WallReader._alert_points(ix, rows, "D1")
    assert sorted((p[5], p[6]) for p in district if p[3] == "yellow") == [("D1-01", 35), ("D1-02", 35)]
    assert WallReader._alert_points(ix, rows[:10], None)[0][6] == 1  # few: one marker each
