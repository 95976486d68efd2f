"""The generated city: sizes per preset, a grid tree that nests and tiles exactly, stable ids, round trip."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
import shapely
from shapely.geometry import Point, shape

from onescreen.registry.bundle import read_bundle, write_bundle
from onescreen.timeutil import on_shift
from sim.citygen import PRESETS, generate_city
from sim.streams import local_mount

TOL = 1e-6  # degrees (~0.1 m): coordinates are rounded to 6 decimals, so nesting holds up to that


@pytest.fixture(scope="module")
def default_city():
    return generate_city("default", seed=7)


@pytest.fixture(scope="module")
def nanchang_city():
    return generate_city("nanchang", seed=7)


def _levels(bundle):
    out = {}
    for n in bundle.nodes:
        out.setdefault(n.level, []).append(n)
    return out


@pytest.mark.parametrize("preset, expect", [
    ("default", {"district": 4, "community": 40, "cell": 300, "doors": 600, "cameras": 80, "units": 30,
                 "watchlist": 60, "streamed": 4}),
    ("nanchang", {"community": 141, "cell": 1223, "doors": 2000, "cameras": 19_000, "units": 100,
                  "streamed": 24}),
])
def test_sizes_per_preset(preset, expect, request):
    bundle = request.getfixturevalue(f"{preset}_city")
    levels = _levels(bundle)
    assert len(levels["city"]) == 1
    for level in ("district", "community", "cell"):
        if level in expect:
            assert len(levels[level]) == expect[level], level
    for kind in ("doors", "cameras", "units", "watchlist"):
        if kind in expect:
            assert len(getattr(bundle, kind)) == expect[kind], kind
    assert len(bundle.posts) == len(bundle.units)
    assert sum(c.streamed for c in bundle.cameras) == expect["streamed"]
    assert bundle.sensors


@pytest.mark.parametrize("preset", ["default", "nanchang"])
def test_grid_nests_and_tiles(preset, request):
    """Every child inside its parent; the children of a parent cover it with no gap and no overlap."""
    bundle = request.getfixturevalue(f"{preset}_city")
    polys = {n.id: shape(n.geometry) for n in bundle.nodes}
    children: dict[str, list[str]] = {}
    for n in bundle.nodes:
        poly = polys[n.id]
        assert poly.is_valid and poly.geom_type == "Polygon", n.id
        assert poly.contains(Point(*n.label)), f"label of {n.id} outside"
        assert 26.0 < n.label[1] < 27.3 and 117.5 < n.label[0] < 118.9  # around Yanping, Nanping
        if n.parent_id:
            children.setdefault(n.parent_id, []).append(n.id)
            assert polys[n.parent_id].buffer(TOL).contains(poly), f"{n.id} not inside {n.parent_id}"
    levels = ["city", "district", "community", "cell"]
    by_id = {n.id: n for n in bundle.nodes}
    for parent, kids in children.items():
        assert levels.index(by_id[kids[0]].level) == levels.index(by_id[parent].level) + 1
        union = shapely.union_all([polys[k] for k in kids])
        area = polys[parent].area
        assert polys[parent].symmetric_difference(union).area < 1e-3 * area, f"gap under {parent}"
        assert sum(polys[k].area for k in kids) - union.area < 1e-6 * area, f"overlap under {parent}"
    assert all(n.parent_id is None or n.parent_id in by_id for n in bundle.nodes)


def test_devices_sit_in_their_cells(default_city):
    polys = {n.id: shape(n.geometry).buffer(TOL) for n in default_city.nodes if n.level == "cell"}
    for rec in [*default_city.doors, *default_city.cameras, *default_city.sensors, *default_city.posts]:
        assert polys[rec.cell_id].contains(Point(rec.lon, rec.lat)), rec.id


def test_ids_unique_and_readable(default_city):
    b = default_city
    patterns = {
        "nodes": r"^(CITY|D\d{2}|C\d{4}|G\d{6})$", "doors": r"^D-\d{4}-\d{2,}$",
        "cameras": r"^C-\d{4}-\d{2,}$", "sensors": r"^S-\d{4}-\d{2}$", "posts": r"^POST-\d{3}$",
        "units": r"^P-\d{3}$", "watchlist": r"^p-[0-9a-f]{6}$",
    }
    all_ids = []
    for kind, pattern in patterns.items():
        ids = [getattr(r, "id", None) or r.person_id for r in getattr(b, kind)]
        assert len(ids) == len(set(ids)), kind
        assert not [i for i in ids if not re.match(pattern, i)], kind
        all_ids += ids if kind not in ("nodes", "posts", "watchlist") else []
    assert len(all_ids) == len(set(all_ids)), "device ids must be unique across kinds"
    # ids say where a device is: D-0101-03 is in community C0101
    cells = {n.id: n.parent_id for n in b.nodes if n.level == "cell"}
    assert all(cells[d.cell_id] == "C" + d.id[2:6] for d in b.doors)
    assert all(cells[c.cell_id] == "C" + c.id[2:6] for c in b.cameras)
    communities = {n.id for n in b.nodes if n.level == "community"}
    assert {d.cell_id[:5].replace("G", "C") for d in b.doors} == communities  # every community has doors


def test_cameras(default_city):
    doors = {d.id for d in default_city.doors}
    watching = [c for c in default_city.cameras if any(z.door_id for z in c.zones.values())]
    assert len(watching) >= 5, "video + door fusion needs cameras that watch doors"
    for cam in default_city.cameras:
        assert cam.zones
        for zone in cam.zones.values():
            assert zone.door_id is None or zone.door_id in doors
            assert all(0 <= x <= 1 and 0 <= y <= 1 for x, y in zone.polygon) and len(zone.polygon) >= 3
        assert "@" not in cam.rtsp_url and cam.username is None and cam.password is None
        served = local_mount(cam.rtsp_url)
        assert (served is not None) == cam.streamed, cam.rtsp_url
        if not cam.streamed:
            assert re.match(r"^rtsp://10\.\d+\.\d+\.\d+:554/", cam.rtsp_url)
    mounts = sorted(local_mount(c.rtsp_url)[1] for c in default_city.cameras if c.streamed)
    assert mounts == ["figure", "quiet", "vtest", "vtest-2"]
    assert any("gate" in c.zones for c in default_city.cameras if c.streamed)


def test_patrol_and_watchlist(default_city):
    posts = {p.id: p for p in default_city.posts}
    assert {u.post_id for u in default_city.units} == set(posts)
    for hour in range(24):  # some unit is on shift at any hour
        local = datetime(2026, 11, 22, hour, 30)
        assert any(on_shift(p.shift_start, p.shift_end, local) for p in posts.values()), hour
    levels = [w.level for w in default_city.watchlist]
    assert {"red", "orange", "yellow"} <= set(levels) and levels.count("red") >= 3
    communities = {n.id for n in default_city.nodes if n.level == "community"}
    assert all(w.home_community_id in communities for w in default_city.watchlist)


def test_chinese_names(default_city):
    levels = _levels(default_city)
    streets = {"梅山街道", "水南街道", "黄墩街道", "四鹤街道", "紫云街道", "水东街道"}
    assert {n.name for n in levels["district"]} <= streets  # the central districts are Yanping's streets
    assert all(re.match(r"^第\d+网格$", n.name) for n in levels["cell"])
    names = [n.name for n in levels["community"]]
    assert len(names) == len(set(names))


def test_deterministic_for_a_seed():
    a, b, c = generate_city(seed=3), generate_city(seed=3), generate_city(seed=4)
    assert a == b
    assert a != c


def test_overrides_and_errors():
    small = generate_city(districts=2, communities=5, cells=12, doors=20, cameras=10, units=3, watchlist=6,
                          sensors=2, streamed_cameras=2, rtsp_port=9554)
    assert len(_levels(small)["cell"]) == 12 and len(small.cameras) == 10
    assert all(c.rtsp_url.startswith("rtsp://127.0.0.1:9554/") for c in small.cameras if c.streamed)
    with pytest.raises(TypeError):
        generate_city(lakes=3)
    with pytest.raises(ValueError):
        generate_city("atlantis")
    with pytest.raises(ValueError):
        generate_city(communities=5, cells=4)
    assert set(PRESETS) == {"default", "nanchang"}


def test_bundle_writes_and_reads_back(default_city, tmp_path):
    write_bundle(tmp_path / "city", default_city)
    back = read_bundle(tmp_path / "city")
    def key(rec):
        return getattr(rec, "id", None) or rec.person_id

    for kind in ("nodes", "doors", "cameras", "sensors", "posts", "units", "watchlist"):
        assert sorted(getattr(back, kind), key=key) == sorted(getattr(default_city, kind), key=key), kind
