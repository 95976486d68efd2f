"""Read and write a registry bundle: the directory of files that describes a whole city (docs/registry.md).

``read_bundle`` parses every file, validates every record and every reference, and either returns the
records or raises one ``RegistryError`` listing the problems (file, line or feature, what is wrong), so an
operator fixes a bundle in one round. ``write_bundle`` writes the canonical form: what ``read_bundle`` of
that directory returns writes back byte-identical. The simulated-city generator uses ``write_bundle`` with
records built in memory; they pass the same validation as files do.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from pathlib import Path
from typing import Any

from onescreen.registry import files
from onescreen.registry.checks import check
from onescreen.registry.credentials import join_credentials, split_credentials
from onescreen.registry.records import (
    KINDS,
    Bundle,
    CameraRec,
    DepartmentRec,
    DoorRec,
    Loc,
    NodeRec,
    PostRec,
    Problems,
    RegistryError,
    SensorRec,
    TooManyProblems,
    UnitRec,
    WatchRec,
    WorkerRec,
    ZoneRec,
)
from onescreen.registry.records import line_doc
from onescreen.registry.validate import CAMERA_KEYS, COLUMNS, LATER_COLUMNS, LEVELS, SPECS, normalize, to_raw

__all__ = [
    "FILES",
    "Bundle",
    "CameraRec",
    "DepartmentRec",
    "DoorRec",
    "NodeRec",
    "PostRec",
    "RegistryError",
    "SensorRec",
    "UnitRec",
    "WatchRec",
    "WorkerRec",
    "ZoneRec",
    "join_credentials",
    "read_bundle",
    "split_credentials",
    "validate_bundle",
    "write_bundle",
]

log = logging.getLogger(__name__)

FILES = {kind: SPECS[kind].file for kind in KINDS}  # kind -> file name inside the bundle directory
_LEVEL_ORDER = {level: i for i, level in enumerate(LEVELS)}


def read_bundle(path: str | Path, categories: Collection[str] | None = None) -> Bundle:
    """Parse and validate the bundle directory; raise RegistryError naming every problem found.

    ``categories``: the key-person category codes in force (``persons.categories``); None accepts any."""
    root = Path(path)
    if not root.is_dir():
        raise RegistryError([f"{root}: not a directory"])
    with files.paused_gc():
        bundle, problems = _read(root, categories)
    if problems:
        raise RegistryError(problems.items, source=f"registry bundle {root}")
    log.info("registry bundle %s read: %s", root, bundle.counts())
    return bundle


def _read(root: Path, categories: Collection[str] | None = None) -> tuple[Bundle, Problems]:
    problems = Problems()
    bundle, locs = Bundle(), {}
    refused: dict[str, set[str] | None] = {}  # kind -> ids refused record by record, None = file unreadable
    try:
        for kind in KINDS:
            spec = SPECS[kind]
            file = root / spec.file
            if not file.is_file():
                continue  # a missing file is an empty table of that kind
            n_before = len(problems.items)
            if kind == "nodes":
                raws = files.read_geojson(file, problems)
            elif kind == "cameras":
                raws = files.read_yaml_list(file, problems)
            else:
                raws = files.read_csv(file, COLUMNS[kind], problems, LATER_COLUMNS.get(kind, ()))
            if len(problems.items) > n_before:
                refused[kind] = None  # records we could not even identify: skip every reference to this kind
            recs, kind_locs = getattr(bundle, kind), locs.setdefault(kind, [])
            for raw, loc in raws:
                if kind == "cameras" and "password" in raw:
                    problems.add(loc.at(raw.get("id")), "passwords are not allowed in a bundle; use password_env "
                                                        "or credentials in rtsp_url (see docs/registry.md)")
                    continue
                rec = normalize(spec, raw, loc, problems)
                if rec is not None:
                    recs.append(rec)
                    kind_locs.append(loc)
                elif refused.get(kind, ()) is not None:
                    refused.setdefault(kind, set()).add(raw.get(spec.key))
        if "nodes" not in locs:
            problems.add(SPECS["nodes"].file, "missing: a bundle needs the grid")
        check(bundle, locs, problems, refused, categories)
    except TooManyProblems:
        raise RegistryError(problems.items, truncated=True, source=f"registry bundle {root}") from None
    return bundle, problems


def validate_bundle(bundle: Bundle) -> Bundle:
    """The canonical, validated copy of an in-memory bundle (same rules as files); RegistryError if bad."""
    problems = Problems()
    out = Bundle()
    try:
        for kind in KINDS:
            spec = SPECS[kind]
            dest = getattr(out, kind)
            for i, rec in enumerate(getattr(bundle, kind)):
                norm = normalize(spec, to_raw(rec), Loc(spec.file, index=i), problems)
                dest.append(norm if norm is not None else rec)  # keep indices aligned for check()
        if not problems:
            check(out, {}, problems)
    except TooManyProblems:
        raise RegistryError(problems.items, truncated=True, source="registry records") from None
    if problems:
        raise RegistryError(problems.items, source="registry records")
    return out


def write_bundle(path: str | Path, bundle: Bundle, validate: bool = True) -> None:
    """Write the bundle's nine files in canonical form (sorted by id, repr floats, fixed key order).

    With ``validate`` (the default) the records are first checked by the same rules as an import, so a
    bundle that is written can be imported. Passwords are never written.
    """
    root = Path(path)
    root.mkdir(parents=True, exist_ok=True)
    with files.paused_gc():
        b = validate_bundle(bundle) if validate else bundle
        nodes = sorted(b.nodes, key=lambda n: (_LEVEL_ORDER.get(n.level, 9), n.id))
        files.write_geojson(root / FILES["nodes"], (_feature(n) for n in nodes))
        files.write_yaml_list(root / FILES["cameras"], [_camera_item(c) for c in sorted(b.cameras, key=_id)])
        for kind in ("doors", "sensors", "posts", "units", "watchlist", "workers", "departments"):
            cols = COLUMNS[kind]
            recs = sorted(getattr(b, kind), key=_id)
            files.write_csv(root / FILES[kind], cols, ([_csv_value(getattr(r, c)) for c in cols] for r in recs))
    log.info("registry bundle %s written: %s", root, b.counts())


def _csv_value(v: Any) -> Any:
    """A list field (a worker's cells) is one CSV field, items joined by ';'."""
    return ";".join(v) if isinstance(v, (list, tuple)) else v


def _id(rec: Any) -> str:
    return rec.person_id if isinstance(rec, WatchRec) else rec.id


def _feature(n: NodeRec) -> dict[str, Any]:
    if n.label is None:  # only when validate=False: compute it as the importer would
        from shapely.geometry import shape

        pt = shape(n.geometry).representative_point()
        lon, lat = pt.x, pt.y
    else:
        lon, lat = n.label
    props = {"id": n.id, "level": n.level, "parent_id": n.parent_id, "name": n.name,
             "households": n.households, "label": [float(lon), float(lat)]}
    geometry = {"type": n.geometry["type"], "coordinates": n.geometry["coordinates"]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _camera_item(c: CameraRec) -> dict[str, Any]:
    item = {k: getattr(c, k) for k in CAMERA_KEYS if k not in ("zones", "lines")}
    item["zones"] = {name: {"polygon": [[float(x), float(y)] for x, y in z.polygon], "door_id": z.door_id}
                     for name, z in sorted(c.zones.items())}
    if c.lines:
        item["lines"] = {name: line_doc(ln) for name, ln in sorted(c.lines.items())}
    return item
