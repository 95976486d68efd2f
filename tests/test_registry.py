"""Registry bundle: validation messages, exact round trips, all-or-nothing import, the lookup cache.

The tiny city is written by hand (1 city, 2 districts, 2 communities, 4 cells) so these tests do not
depend on the simulator; each rejection case edits one file and asserts the message names the file, the
line or feature, and the problem.
"""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape
from sqlalchemy import create_engine, func, select, text

from onescreen.accounts import add_user
from onescreen.db.models import Camera, Door, GridNode, RegistryVersion, User
from onescreen.db.session import make_engine, session_factory, upgrade
from onescreen.registry.bundle import Bundle, DoorRec, RegistryError, read_bundle, write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.credentials import join_credentials, split_credentials
from onescreen.registry.exporter import export_bundle
from onescreen.registry.importer import import_bundle


def _square(x: float, y: float, w: float, h: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[x, y], [x + w, y], [x + w, y + h], [x, y + h], [x, y]]]}


def _node(id_, level, parent, geometry, **extra) -> dict:
    return {"type": "Feature", "properties": {"id": id_, "level": level, "parent_id": parent, "name": f"{id_} 名",
                                              **extra}, "geometry": geometry}


# Feature index: 0 C0, 1 D1, 2 D2, 3 M1, 4 M2, 5 G1, 6 G2, 7 G3, 8 G4
GRID = [
    _node("C0", "city", None, _square(118.0, 26.0, 0.4, 0.4)),
    _node("D1", "district", "C0", _square(118.0, 26.0, 0.2, 0.4)),
    _node("D2", "district", "C0", _square(118.2, 26.0, 0.2, 0.4)),
    _node("M1", "community", "D1", _square(118.0, 26.0, 0.2, 0.4)),
    _node("M2", "community", "D2", _square(118.2, 26.0, 0.2, 0.4)),
    _node("G1", "cell", "M1", _square(118.0, 26.0, 0.1, 0.4), households=150, label=[118.05, 26.2]),
    _node("G2", "cell", "M1", _square(118.1, 26.0, 0.1, 0.4), households=120),
    _node("G3", "cell", "M2", _square(118.2, 26.0, 0.1, 0.4)),
    _node("G4", "cell", "M2", _square(118.3, 26.0, 0.1, 0.4)),
]
FILES = {
    "doors.csv": "id,cell_id,name,lat,lon\nD-1,G1,North gate,26.05,118.05\nD-2,G3,东门,26.25,118.25\n",
    "sensors.csv": "id,cell_id,kind,name,lat,lon\nS-1,G2,edge,Counter box,26.1,118.1\n",
    "posts.csv": "id,cell_id,name,lat,lon,radius_m,shift_start,shift_end\n"
                 "P-1,G1,Square post,26.05,118.05,150,08:00,20:00\nP-2,G4,Night post,26.3,118.3,200.5,20:00,08:00\n",
    "units.csv": "id,name,post_id,members\nU-1,Patrol 1,P-1,2\nU-2,Patrol 2,,3\n",
    "watchlist.csv": "person_id,level,home_community_id,category\np-1,red,M1,petition\np-2,orange,M2,\n",
    "workers.csv": "id,name,cells,phone\nW-1,张伟,G1;G2,13800001111\nW-2,李娜,G3,\n",
    "departments.csv": "id,name\nD-CG,城管\nD-GA,公安\n",
    "cameras.yaml": """\
- id: C-1
  cell_id: G1
  name: Gate camera
  lat: 26.123456789012345
  lon: 118.05
  rtsp_url: rtsp://admin:s3cr%40t@10.0.0.5:554/ch1
  streamed: true
  nominal_fps: 25
  zones:
    gate:
      polygon: [[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9]]
      door_id: D-1
- id: C-2
  cell_id: G3
  name: Square
  lat: 26.25
  lon: 118.25
  rtsp_url: null
""",
}


def write_city(root: Path, grid: list | None = None, **overrides: str) -> Path:
    """Write the tiny city by hand, with some files replaced (None removes a file)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "grid.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": grid or GRID},
                                                  ensure_ascii=False, indent=1), encoding="utf-8")
    for name, body in {**FILES, **{k.replace("_", "."): v for k, v in overrides.items()}}.items():
        if body is not None:
            (root / name).write_text(body, encoding="utf-8")
    return root


def _grid(edit) -> list:
    grid = json.loads(json.dumps(GRID))
    edit(grid)
    return grid


def _replace(name: str, old: str, new: str) -> dict:
    assert old in FILES[name], old
    return {name.replace(".", "_"): FILES[name].replace(old, new, 1)}


def _set(i: int, **props):
    return lambda g: g[i]["properties"].update(props)


BOWTIE = {"type": "Polygon", "coordinates": [[[118.2, 26.0], [118.3, 26.2], [118.3, 26.0], [118.2, 26.2], [118.2, 26.0]]]}
REJECTIONS = [  # (case, grid edit, file overrides, fragments the message must contain)
    ("bad json", None, {"grid_geojson": "{\n  oops"}, ["grid.geojson line 2", "bad JSON"]),
    ("not a collection", None, {"grid_geojson": "[]"}, ["grid.geojson", "FeatureCollection"]),
    ("invalid polygon", lambda g: g[7].update(geometry=BOWTIE), {},
     ["grid.geojson feature 7 (id 'G3')", "invalid polygon", "Self-intersection"]),
    ("open ring", lambda g: g[8]["geometry"]["coordinates"][0].pop(), {}, ["feature 8 (id 'G4')", "closed"]),
    ("unknown level", _set(6, level="block"), {}, ["feature 6 (id 'G2')", "'block' is not one of"]),
    ("wrong parent level", _set(5, parent_id="D1"), {},
     ["feature 5 (id 'G1')", "parent 'D1' is a district; a cell's parent must be a community"]),
    ("unknown parent", _set(4, parent_id="D9"), {}, ["feature 4 (id 'M2')", "unknown parent_id 'D9'"]),
    ("two cities", _set(2, level="city", parent_id=None), {}, ["feature 2 (id 'D2')", "exactly one city"]),
    ("duplicate node", _set(6, id="G1"), {}, ["feature 6 (id 'G1')", "duplicate grid node id"]),
    ("label outside", _set(5, label=[119.5, 26.2]), {}, ["feature 5 (id 'G1')", "outside the polygon"]),
    ("unknown property", _set(5, colour="red"), {}, ["feature 5 (id 'G1')", "unknown field(s) 'colour'"]),
    ("dup device across kinds", None, _replace("sensors.csv", "\n", "\nD-1,G2,edge,Box,26.1,118.1\n"),
     ["sensors.csv line 2 (id 'D-1')", "duplicate device id (also in doors.csv)"]),
    ("dup door", None, _replace("doors.csv", "D-2,", "D-1,"), ["doors.csv line 3 (id 'D-1')", "duplicate device"]),
    ("unknown cell", None, _replace("doors.csv", "D-2,G3", "D-2,G9"), ["doors.csv line 3 (id 'D-2')",
                                                                       "unknown cell_id 'G9'"]),
    ("device in community", None, _replace("sensors.csv", "S-1,G2", "S-1,M1"),
     ["sensors.csv line 2 (id 'S-1')", "cell_id 'M1' is a community, not a cell"]),
    ("lat out of range", None, _replace("doors.csv", "26.05,", "95.5,"), ["doors.csv line 2", "lat: '95.5' is out"]),
    ("lon not a number", None, _replace("doors.csv", ",118.25", ",east"), ["doors.csv line 3", "'east' is not a"]),
    ("bad HH:MM", None, _replace("posts.csv", "08:00,20:00", "25:00,20:00"),
     ["posts.csv line 2 (id 'P-1')", "shift_start: '25:00' is not a time HH:MM"]),
    ("unknown post", None, _replace("units.csv", "P-1", "P-9"), ["units.csv line 2 (id 'U-1')", "unknown post_id"]),
    ("watch level", None, _replace("watchlist.csv", "red", "blue"), ["watchlist.csv line 2", "'blue' is not one of"]),
    ("home unknown", None, _replace("watchlist.csv", "M2", "M7"), ["watchlist.csv line 3", "unknown 'M7'"]),
    ("home is a cell", None, _replace("watchlist.csv", "M2", "G4"), ["watchlist.csv line 3", "not a community"]),
    ("missing column", None, {"doors_csv": "id,cell_id,name,lat\nD-1,G1,x,26.1\n"},
     ["doors.csv line 1", "missing column(s) lon"]),
    ("extra column", None, _replace("units.csv", "members\n", "members,floor\n"),
     ["units.csv line 1", "unknown column(s) 'floor'"]),
    ("short row", None, _replace("units.csv", "U-2,Patrol 2,,3", "U-2,Patrol 2"), ["units.csv line 3", "got 2"]),
    ("zone outside 0..1", None, _replace("cameras.yaml", "[0.9, 0.9]", "[1.5, 0.9]"),
     ["cameras.yaml line 1 (id 'C-1')", "outside 0..1"]),
    ("zone two points", None, _replace("cameras.yaml", ", [0.9, 0.9], [0.1, 0.9]", ""),
     ["cameras.yaml line 1 (id 'C-1')", "at least 3 points"]),
    ("zone door unknown", None, _replace("cameras.yaml", "door_id: D-1", "door_id: D-7"),
     ["cameras.yaml line 10 (id 'C-1', zone 'gate')", "unknown door_id 'D-7'"]),
    ("camera unknown key", None, _replace("cameras.yaml", "  rtsp_url: null", "  fps: 5"),
     ["cameras.yaml line 13 (id 'C-2')", "unknown field(s) 'fps'"]),
    ("camera in cell unknown", None, _replace("cameras.yaml", "cell_id: G3", "cell_id: X"),
     ["cameras.yaml line 13 (id 'C-2')", "unknown cell_id 'X'"]),
    ("password in yaml", None, _replace("cameras.yaml", "  rtsp_url: null", "  password: hunter22"),
     ["cameras.yaml line 13", "passwords are not allowed"]),
    ("password_env unset", None, _replace("cameras.yaml", "  rtsp_url: null", "  password_env: NO_SUCH_VAR_X"),
     ["cameras.yaml line 13", "NO_SUCH_VAR_X is not set"]),
    ("bad yaml", None, _replace("cameras.yaml", "  name: Square", "  name: [Square"), ["cameras.yaml line", "bad YAML"]),
    ("not rtsp", None, _replace("cameras.yaml", "rtsp://admin", "http://admin"), ["line 1 (id 'C-1')", "rtsp://"]),
    ("id with slash", None, _replace("doors.csv", "D-2,", "D/2,"), ["doors.csv line 3", "not a valid id"]),
    ("worker cell unknown", None, _replace("workers.csv", "G1;G2", "G1;G9"),
     ["workers.csv line 2 (id 'W-1')", "unknown cell_id 'G9'"]),
    ("worker cell is a community", None, _replace("workers.csv", "G3,", "M1,"),
     ["workers.csv line 3 (id 'W-2')", "cell_id 'M1' is a community"]),
    ("worker repeated cell", None, _replace("workers.csv", "G1;G2", "G1;G1"),
     ["workers.csv line 2 (id 'W-1')", "repeated cell(s) G1"]),
    ("worker bad phone", None, _replace("workers.csv", "13800001111", "call me"),
     ["workers.csv line 2 (id 'W-1')", "phone: 'call me' is not a phone number"]),
    ("dup worker", None, _replace("workers.csv", "W-2,", "W-1,"), ["workers.csv line 3 (id 'W-1')", "duplicate id"]),
    ("dup department", None, _replace("departments.csv", "D-GA,", "D-CG,"),
     ["departments.csv line 3 (id 'D-CG')", "duplicate id"]),
    ("department no name", None, _replace("departments.csv", "城管", ""),
     ["departments.csv line 2 (id 'D-CG')", "missing name"]),
]


@pytest.mark.parametrize("case, grid_edit, overrides, fragments", REJECTIONS, ids=[c[0] for c in REJECTIONS])
def test_rejections_name_file_line_and_problem(tmp_path, case, grid_edit, overrides, fragments):
    root = write_city(tmp_path / "b", _grid(grid_edit) if grid_edit else None, **overrides)
    with pytest.raises(RegistryError) as err:
        read_bundle(root)
    for fragment in fragments:
        assert fragment in str(err.value), f"{fragment!r} not in:\n{err.value}"


def test_valid_city_reads(tmp_path):
    b = read_bundle(write_city(tmp_path / "b"))
    assert b.counts() == {"nodes": 9, "doors": 2, "cameras": 2, "sensors": 1, "posts": 2, "units": 2,
                          "watchlist": 2, "workers": 2, "departments": 2}
    g2 = next(n for n in b.nodes if n.id == "G2")
    assert shape(g2.geometry).contains(Point(g2.label))  # computed: shapely's representative point


def test_many_problems_in_one_message_capped(tmp_path):
    rows = "".join(f"X-{i},G9,door,26.1,118.1\n" for i in range(40))
    root = write_city(tmp_path / "b", _grid(_set(6, level="block")), doors_csv="id,cell_id,name,lat,lon\n" + rows)
    with pytest.raises(RegistryError) as err:
        read_bundle(root)
    assert len(err.value.problems) == 20 and err.value.truncated
    assert "feature 6" in str(err.value) and "doors.csv line 2 (id 'X-0')" in str(err.value)


def test_missing_optional_files_are_empty_tables(tmp_path):
    root = write_city(tmp_path / "b", cameras_yaml=None, sensors_csv=None, watchlist_csv=None)
    assert read_bundle(root).counts()["cameras"] == 0


def test_credentials_split_from_rtsp_url(tmp_path, sqlite_url, monkeypatch):
    monkeypatch.setenv("CAM2_PASSWORD", "pa:ss w/rd")
    root = write_city(tmp_path / "b", **_replace("cameras.yaml", "  rtsp_url: null",
                                                  "  rtsp_url: rtsp://10.0.0.6/live\n  username: ops\n"
                                                  "  password_env: CAM2_PASSWORD"))
    engine = make_engine(sqlite_url)
    import_bundle(engine, root)
    with session_factory(engine)() as s:
        c1, c2 = s.get(Camera, "C-1"), s.get(Camera, "C-2")
    assert (c1.rtsp_url, c1.username, c1.password) == ("rtsp://10.0.0.5:554/ch1", "admin", "s3cr@t")
    assert (c2.rtsp_url, c2.username, c2.password) == ("rtsp://10.0.0.6/live", "ops", "pa:ss w/rd")
    cache = RegistryCache.load(engine)
    assert cache.camera("C-1").source_url() == "rtsp://admin:s3cr%40t@10.0.0.5:554/ch1"
    assert "s3cr" not in repr(cache.camera("C-1"))
    out = tmp_path / "out"
    export_bundle(engine, out)
    exported = (out / "cameras.yaml").read_text()
    assert "s3cr" not in exported and "pa:ss" not in exported and "password" not in exported
    import_bundle(engine, out)  # the canonical bundle has no passwords: the stored ones are kept
    with session_factory(engine)() as s:
        assert s.get(Camera, "C-1").password == "s3cr@t" and s.get(Camera, "C-2").password == "pa:ss w/rd"


def _same_dirs(a: Path, b: Path) -> None:
    names = sorted(os.listdir(a))
    assert names == sorted(os.listdir(b))
    _, mismatch, errors = filecmp.cmpfiles(a, b, names, shallow=False)
    assert not mismatch and not errors, mismatch


def _round_trip(url: str, tmp_path: Path) -> None:
    engine = make_engine(url)
    try:
        assert import_bundle(engine, write_city(tmp_path / "hand"))["cameras"] == 2
        export_bundle(engine, tmp_path / "e1")
        import_bundle(engine, tmp_path / "e1")
        export_bundle(engine, tmp_path / "e2")
        _same_dirs(tmp_path / "e1", tmp_path / "e2")
        b = read_bundle(tmp_path / "e1")
        write_bundle(tmp_path / "w", b)
        _same_dirs(tmp_path / "e1", tmp_path / "w")
        cam = next(c for c in b.cameras if c.id == "C-1")
        assert cam.lat == 26.123456789012345  # exact double through the database and the text
        assert f"lat: {26.123456789012345!r}\n" in (tmp_path / "e1" / "cameras.yaml").read_text()
        with session_factory(engine)() as s:
            assert s.execute(select(RegistryVersion.version)).scalar() == 2
    finally:
        engine.dispose()


def test_round_trip_is_byte_identical_sqlite(sqlite_url, tmp_path):
    _round_trip(sqlite_url, tmp_path)


def test_export_of_our_own_bundle_is_identical(sqlite_url, tmp_path):
    write_bundle(tmp_path / "ours", read_bundle(write_city(tmp_path / "hand")))
    engine = make_engine(sqlite_url)
    import_bundle(engine, tmp_path / "ours")
    export_bundle(engine, tmp_path / "back")
    _same_dirs(tmp_path / "ours", tmp_path / "back")


@pytest.mark.postgres
def test_round_trip_is_byte_identical_postgres(postgres_url, tmp_path):
    """On a database of its own inside the session cluster, dropped afterwards."""
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    db_url = postgres_url.rsplit("/", 1)[0] + "/registry_roundtrip"
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS registry_roundtrip"))
        conn.execute(text("CREATE DATABASE registry_roundtrip"))
    try:
        upgrade(db_url)
        _round_trip(db_url, tmp_path)
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS registry_roundtrip WITH (FORCE)"))
        admin.dispose()


def _counts(engine) -> tuple:
    with engine.connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(m)).scalar() for m in (GridNode, Door, Camera)) + (
            conn.execute(select(RegistryVersion.version)).scalar(),)


def test_failed_validation_leaves_database_unchanged(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    import_bundle(engine, write_city(tmp_path / "good"))
    export_bundle(engine, tmp_path / "before")
    bad = write_city(tmp_path / "bad", doors_csv="id,cell_id,name,lat,lon\nD-9,G1,x,26.1,118.1\nD-9,G1,y,26.1,118.1\n")
    with pytest.raises(RegistryError):
        import_bundle(engine, bad)
    export_bundle(engine, tmp_path / "after")
    _same_dirs(tmp_path / "before", tmp_path / "after")


def test_database_error_rolls_back_everything(sqlite_url, tmp_path):
    """A real constraint the bundle cannot know about fails mid-import: nothing of the import remains."""
    engine = make_engine(sqlite_url)
    import_bundle(engine, write_city(tmp_path / "good"))
    before = _counts(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TRIGGER no_c3 BEFORE INSERT ON camera WHEN NEW.id = 'C-3' "
                          "BEGIN SELECT RAISE(ABORT, 'camera C-3 refused'); END"))
    cams = FILES["cameras.yaml"] + "- {id: C-3, cell_id: G2, name: c3, lat: 26.1, lon: 118.1}\n"
    doors = FILES["doors.csv"] + "D-3,G2,new door,26.1,118.1\n"
    with pytest.raises(Exception, match="C-3 refused"):
        import_bundle(engine, write_city(tmp_path / "new", cameras_yaml=cams, doors_csv=doors))
    assert _counts(engine) == before  # doors (inserted before cameras) rolled back too, version not bumped


def test_users_survive_reimport_and_block_dropping_their_node(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    import_bundle(engine, write_city(tmp_path / "good"))
    with session_factory(engine)() as s:
        add_user(s, "duty1", "password-1", "duty", scope_node_id="M1", unit_id="U-1")
        s.commit()
    import_bundle(engine, tmp_path / "good")
    with session_factory(engine)() as s:
        u = s.execute(select(User).where(User.username == "duty1")).scalar_one()
        assert (u.scope_node_id, u.unit_id) == ("M1", "U-1")
    before = _counts(engine)
    no_u1 = write_city(tmp_path / "no_u1", units_csv="id,name,post_id,members\nU-2,Patrol 2,,3\n")
    with pytest.raises(RegistryError, match="user 'duty1' belongs to patrol unit 'U-1'"):
        import_bundle(engine, no_u1)
    assert _counts(engine) == before


def test_write_bundle_validates_records_in_memory(tmp_path):
    b = read_bundle(write_city(tmp_path / "b"))
    b.doors.append(DoorRec("D-3", "G1", "x", 91.0, 118.0))
    with pytest.raises(RegistryError, match=r"doors.csv record 2 \(id 'D-3'\): lat: 91.0 is out of range"):
        write_bundle(tmp_path / "out", b)
    with pytest.raises(RegistryError, match="exactly one city"):
        write_bundle(tmp_path / "out", Bundle())


def test_cache_lookups(sqlite_url, tmp_path):
    engine = make_engine(sqlite_url)
    import_bundle(engine, write_city(tmp_path / "b"))
    c = RegistryCache.load(engine)
    p = c.place_of_device("D-2")
    assert (p.cell_id, p.community_id, p.district_id, p.lat, p.lon) == ("G3", "M2", "D2", 26.25, 118.25)
    assert c.device_kind("D-2") == "door" and c.device_kind("C-1") == "camera" and c.device_kind("S-1") == "sensor"
    assert c.place_of_device("nope") is None and c.device_kind("G1") is None
    assert c.ancestors("G3") == ("M2", "D2", "C0") and c.ancestors("C0") == ()
    assert c.children("C0") == ("D1", "D2") and c.children("M1") == ("G1", "G2") and c.children("G1") == ()
    assert c.descendants("D2", level="cell") == ["G3", "G4"] and c.city_id == "C0"
    assert (c.community_of("G2"), c.community_of("M1"), c.community_of("D1")) == ("M1", "M1", None)
    assert (c.district_of("G4"), c.district_of("D1"), c.district_of("C0")) == ("D2", "D1", None)
    assert c.node("G1").households == 150 and (c.node("G1").lon, c.node("G1").lat) == (118.05, 26.2)
    assert c.watch_level("p-1") == "red" and c.watch_level("p-3") is None and c.watch_home("p-2") == "M2"
    assert c.cameras_watching_door("D-1") == ("C-1",) and c.cameras_watching_door("D-2") == ()
    assert c.post_of_unit("U-1").id == "P-1" and c.post_of_unit("U-2") is None
    assert c.place_of_unit("U-1").cell_id == "G1" and c.place_of_unit("U-2") is None
    assert [cam.id for cam in c.cameras(streamed_only=True)] == ["C-1"]
    assert c.refresh_if_changed() is False
    import_bundle(engine, write_city(tmp_path / "b2", doors_csv="id,cell_id,name,lat,lon\nD-9,G4,d,26.3,118.3\n",
                                     cameras_yaml=None))
    assert c.refresh_if_changed() is True and c.version == 2
    assert c.place_of_device("D-2") is None and c.place_of_device("D-9").community_id == "M2"


# ---------------------------------------------------------------- properties of the text forms

_LATS = st.floats(-90, 90, allow_nan=False)
_LONS = st.floats(-180, 180, allow_nan=False)
_UNIT = st.floats(0, 1, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lat=_LATS, lon=_LONS, zx=_UNIT, zy=_UNIT, radius=st.floats(0.001, 5000, allow_nan=False))
def test_any_float_round_trips_exactly_through_the_files(tmp_path_factory, lat, lon, zx, zy, radius):
    root = tmp_path_factory.mktemp("prop")
    b = read_bundle(write_city(root / "hand"))
    b.doors[0].lat, b.doors[0].lon = lat, lon
    b.posts[0].radius_m = radius
    b.cameras[0].zones["gate"].polygon[0] = (zx, zy)
    if b.cameras[0].zones["gate"].polygon[0] in b.cameras[0].zones["gate"].polygon[1:]:
        return  # a repeated vertex is (rightly) an invalid zone polygon
    try:
        write_bundle(root / "w1", b)
    except RegistryError as exc:
        assert "zone" in str(exc)  # a random vertex can make the zone self-intersect: refused, not mangled
        return
    again = read_bundle(root / "w1")
    door = next(d for d in again.doors if d.id == b.doors[0].id)
    assert (door.lat, door.lon) == (lat, lon) and next(p for p in again.posts if p.id == "P-1").radius_m == radius
    assert next(c for c in again.cameras if c.id == "C-1").zones["gate"].polygon[0] == (zx, zy)
    write_bundle(root / "w2", again)
    _same_dirs(root / "w1", root / "w2")


_SECRET = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(user=_SECRET, password=st.text(st.characters(blacklist_categories=("Cs",)), max_size=20))
def test_credentials_split_join_round_trip(user, password):
    url = "rtsp://10.1.2.3:554/Streaming/Channels/101?transport=tcp"
    joined = join_credentials(url, user, password)
    assert split_credentials(joined) == (url, user, password)
    assert split_credentials(url) == (url, None, None)
