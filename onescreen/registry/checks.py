"""Checks across records: the grid tree's shape, unique ids, and every reference between records.

They run after every record has been read on its own (``validate.normalize``), so one refused import
lists the problems of all files together. Device ids share one namespace over doors, cameras and sensors
because ``city/device/{device_id}/status`` names any of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from onescreen.registry.records import Bundle, Loc, NodeRec, Problems
from onescreen.registry.validate import LEVELS, SPECS


def check(bundle: Bundle, locs: dict[str, list[Loc]], problems: Problems,
          refused: dict[str, set[str] | None] | None = None, categories: Iterable[str] | None = None) -> None:
    """Tree shape, unique ids (devices share one namespace) and every reference between records.

    ``refused`` names records already reported as bad (kind -> ids, or None for a whole unreadable file):
    a reference to one of them is not reported again, so one mistake gives one message, not a cascade.
    """
    at = _Locator(bundle, locs)
    refused = refused or {}

    def gone(kind: str, rid: str | None) -> bool:
        ids = refused.get(kind, ())
        return ids is None or rid in ids

    nodes: dict[str, NodeRec] = {}
    for i, n in enumerate(bundle.nodes):
        if n.id in nodes:
            problems.add(at("nodes", i), "duplicate grid node id")
        nodes[n.id] = n
    cities = [i for i, n in enumerate(bundle.nodes) if n.level == "city"]
    if len(cities) > 1 or (not cities and "nodes" not in refused):  # a refused node may be the city
        where = "grid.geojson" if not cities else at("nodes", cities[1])
        problems.add(where, f"exactly one city node is required, found {len(cities)}")
    for i, n in enumerate(bundle.nodes):
        want = LEVELS[LEVELS.index(n.level) - 1] if n.level != "city" else None
        parent = nodes.get(n.parent_id) if n.parent_id is not None else None
        if want is None and n.parent_id is not None:
            problems.add(at("nodes", i), "the city must have parent_id null")
        elif want is not None and n.parent_id is None:
            problems.add(at("nodes", i), f"a {n.level} needs a parent_id (a {want})")
        elif want is not None and parent is None and not gone("nodes", n.parent_id):
            problems.add(at("nodes", i), f"unknown parent_id {n.parent_id!r}")
        elif want is not None and parent is not None and parent.level != want:
            problems.add(at("nodes", i), f"parent {n.parent_id!r} is a {parent.level}; a {n.level}'s parent "
                                         f"must be a {want}")

    def in_cell(kind: str, i: int, cell_id: str) -> None:
        node = nodes.get(cell_id)
        if node is None and not gone("nodes", cell_id):
            problems.add(at(kind, i), f"unknown cell_id {cell_id!r}")
        elif node is not None and node.level != "cell":
            problems.add(at(kind, i), f"cell_id {cell_id!r} is a {node.level}, not a cell")

    devices: dict[str, str] = {}  # doors, cameras and sensors share city/device/{id}/status
    for kind, file in (("doors", "doors.csv"), ("cameras", "cameras.yaml"), ("sensors", "sensors.csv")):
        for i, rec in enumerate(getattr(bundle, kind)):
            if rec.id in devices:
                other = devices[rec.id]
                problems.add(at(kind, i), "duplicate device id" + ("" if other == file else f" (also in {other})"))
            devices.setdefault(rec.id, file)
            in_cell(kind, i, rec.cell_id)
    posts = _unique(bundle.posts, "posts", at, problems)
    for i, p in enumerate(bundle.posts):
        in_cell("posts", i, p.cell_id)
    _unique(bundle.units, "units", at, problems)
    for i, u in enumerate(bundle.units):
        if u.post_id is not None and u.post_id not in posts and not gone("posts", u.post_id):
            problems.add(at("units", i), f"unknown post_id {u.post_id!r}")
    seen: set[str] = set()
    for i, w in enumerate(bundle.watchlist):
        if w.person_id in seen:
            problems.add(at("watchlist", i), "duplicate person_id")
        seen.add(w.person_id)
        node = nodes.get(w.home_community_id)
        if (node is None and not gone("nodes", w.home_community_id)) or (node and node.level != "community"):
            what = "unknown" if node is None else f"a {node.level}, not a community:"
            problems.add(at("watchlist", i), f"home_community_id {what} {w.home_community_id!r}")
    allowed = None if categories is None else set(categories)
    for i, w in enumerate(bundle.watchlist):
        if allowed is not None and w.category is not None and w.category not in allowed:
            problems.add(at("watchlist", i), f"category {w.category!r} is not one of {', '.join(sorted(allowed))} "
                                             "(setting persons.categories)")
    _unique(bundle.workers, "workers", at, problems)
    for i, w in enumerate(bundle.workers):
        for cell_id in w.cells:
            in_cell("workers", i, cell_id)
    _unique(bundle.departments, "departments", at, problems)
    doors = {d.id for d in bundle.doors}
    for i, cam in enumerate(bundle.cameras):
        for name, zone in cam.zones.items():
            if zone.door_id is not None and zone.door_id not in doors and not gone("doors", zone.door_id):
                problems.add(at("cameras", i, name), f"unknown door_id {zone.door_id!r}")


def _unique(recs: Iterable[Any], kind: str, at: _Locator, problems: Problems) -> set[str]:
    ids: set[str] = set()
    for i, rec in enumerate(recs):
        if rec.id in ids:
            problems.add(at(kind, i), "duplicate id")
        ids.add(rec.id)
    return ids


class _Locator:
    """Formats the location of record ``i`` of a kind, from its file position or its index in memory."""

    def __init__(self, bundle: Bundle, locs: dict[str, list[Loc]]):
        self.bundle, self.locs = bundle, locs

    def __call__(self, kind: str, i: int, zone: str | None = None) -> str:
        spec = SPECS[kind]
        rec = getattr(self.bundle, kind)[i]
        locs = self.locs.get(kind)
        loc = locs[i] if locs else Loc(spec.file, index=i)
        return loc.at(getattr(rec, spec.key), zone)
