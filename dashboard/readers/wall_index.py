"""Where every device, post and unit of the city sits in the grid tree, for the wall's scope filters.

The wall's panels follow the map's drill-down scope (city, a district, a community, a cell), so each refresh
needs "which cameras / doors / units / posts are under this node". The registry changes only on an import,
so this index is read once per app (lazily, on the first wall refresh) and per-scope lists are memoised:
a refresh then costs a dict look-up, not a walk over 19,000 cameras.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from onescreen.db.models import Camera, Door, GridNode, PatrolPost, PatrolUnit

log = logging.getLogger(__name__)

MEMO_MAX = 1536  # per-scope lists kept (3 kinds × 512 scopes); more: start again (one walk each)


@dataclass(frozen=True, slots=True)
class Placed:
    """A device or post with its position and grid cell."""

    id: str
    name: str
    cell_id: str
    lat: float
    lon: float
    streamed: bool = False
    radius_m: float = 0.0
    post_id: str | None = None
    shift: tuple[str, str] | None = None  # a unit's post shift, local "HH:MM" start and end


@dataclass
class WallIndex:
    """Grid chains and positioned things; ``chain[cell]`` = the cell and all its ancestors."""

    chain: dict[str, frozenset[str]] = field(default_factory=dict)
    level: dict[str, str] = field(default_factory=dict)
    district: dict[str, str] = field(default_factory=dict)  # node -> its district (None above)
    community: dict[str, str] = field(default_factory=dict)  # node -> its community (None above)
    label: dict[str, tuple[float, float]] = field(default_factory=dict)  # node -> label point (lat, lon)
    cameras: tuple[Placed, ...] = ()
    doors: tuple[Placed, ...] = ()
    posts: dict[str, Placed] = field(default_factory=dict)
    units: dict[str, Placed] = field(default_factory=dict)  # unit -> (name, post position, radius)
    _lists: dict[tuple[str, str | None], tuple[Placed, ...]] = field(default_factory=dict, repr=False)

    def inside(self, node_id: str | None, scope: str | None) -> bool:
        """True when ``node_id`` lies in ``scope`` (None = the whole city)."""
        return scope is None or scope in self.chain.get(node_id or "", frozenset())

    def districts_of(self, scope: str | None) -> frozenset[str] | None:
        """Districts whose hourly aggregates describe ``scope`` (None = all); below a district, its own."""
        if scope is None or self.level.get(scope) in (None, "city"):
            return None
        d = self.district.get(scope)
        return frozenset([d]) if d else None

    def district_ids(self) -> list[str]:
        """Every district, sorted (the rows of the city's heat map)."""
        return sorted(d for d, lvl in self.level.items() if lvl == "district")

    def _memo(self, kind: str, scope: str | None, build: Any) -> tuple[Placed, ...]:
        """Per-scope lists kept on this index (dropped with it when a newer registry snapshot replaces it)."""
        key = (kind, scope)
        hit = self._lists.get(key)
        if hit is None:
            if len(self._lists) >= MEMO_MAX:
                self._lists.clear()
            hit = self._lists[key] = build()
        return hit

    def groups(self, things: tuple[Placed, ...], level: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """``things`` (a ``*_in`` list) by their ancestor at ``level`` that has a label point, sorted:
        ``((node, (id, …)), …)``; memoised by the list's identity (the ``*_in`` lists are memoised too)."""
        def build() -> Any:
            by: dict[str, list[str]] = {}
            for t in things:
                node = next((n for n in self.chain.get(t.cell_id, ()) if self.level.get(n) == level), None)
                if node is not None and node in self.label:
                    by.setdefault(node, []).append(t.id)
            return (things, tuple((node, tuple(ids)) for node, ids in sorted(by.items())))

        kept = self._memo(f"groups:{id(things)}:{level}", None, build)
        if kept[0] is not things:  # another list that happens to have a dead list's id: never trust it
            kept = build()
        return kept[1]  # type: ignore[return-value]

    def cameras_in(self, scope: str | None) -> tuple[Placed, ...]:
        return self._memo("camera", scope, lambda: tuple(c for c in self.cameras if self.inside(c.cell_id, scope)))

    def doors_in(self, scope: str | None) -> tuple[Placed, ...]:
        return self._memo("door", scope, lambda: tuple(d for d in self.doors if self.inside(d.cell_id, scope)))

    def units_in(self, scope: str | None) -> tuple[Placed, ...]:
        """Units whose post lies in ``scope`` (units without a post count for the whole city only)."""
        return self._memo("unit", scope, lambda: tuple(
            u for u in self.units.values() if (scope is None) or (u.cell_id and self.inside(u.cell_id, scope))))


def _chains(nodes: list[Any]) -> dict[str, Any]:
    """Chain, level, district and community of every node (the ``WallIndex`` fields of the grid tree)."""
    parent = {n.id: n.parent_id for n in nodes}
    level = {n.id: n.level for n in nodes}
    chain: dict[str, frozenset[str]] = {}
    above: dict[str, dict[str, str]] = {"district": {}, "community": {}}
    for nid in parent:
        seen, cur = [], nid
        while cur is not None and cur in parent and len(seen) < 8:
            seen.append(cur)
            if level[cur] in above:
                above[level[cur]][nid] = cur
            cur = parent[cur]
        chain[nid] = frozenset(seen)
    return {"chain": chain, "level": level, **above}


def load_index(engine: Engine) -> WallIndex:
    """Read the registry tables the wall filters by; an error gives an empty index (the wall still runs)."""
    try:
        with Session(engine) as s:
            nodes = list(s.execute(select(GridNode.id, GridNode.parent_id, GridNode.level, GridNode.lat,
                                          GridNode.lon)))
            cams = list(s.execute(select(Camera.id, Camera.name, Camera.cell_id, Camera.lat, Camera.lon,
                                         Camera.streamed)))
            doors = list(s.execute(select(Door.id, Door.name, Door.cell_id, Door.lat, Door.lon)))
            posts = list(s.scalars(select(PatrolPost)))
            units = list(s.scalars(select(PatrolUnit)))
    except SQLAlchemyError as exc:
        log.warning("wall index not loaded: %s", exc.__class__.__name__)
        return WallIndex()
    post_map = {p.id: p for p in posts}
    unit_map: dict[str, Placed] = {}
    for u in units:
        post = post_map.get(u.post_id or "")
        unit_map[u.id] = Placed(u.id, u.name, post.cell_id if post else "", post.lat if post else 0.0,
                                post.lon if post else 0.0, radius_m=post.radius_m if post else 0.0,
                                post_id=u.post_id, shift=(post.shift_start, post.shift_end) if post else None)
    return WallIndex(
        **_chains(nodes), label={n.id: (n.lat, n.lon) for n in nodes if n.lat is not None and n.lon is not None},
        cameras=tuple(Placed(c.id, c.name, c.cell_id, c.lat, c.lon, bool(c.streamed)) for c in cams),
        doors=tuple(Placed(d.id, d.name, d.cell_id, d.lat, d.lon) for d in doors),
        posts=post_map, units=unit_map,
    )
