"""Which rows a ranking has, and which group a source row falls in.

district / community / unit rows come from the registry (every one in scope, a row of zeros included: a
community with no alert is still ranked); worker and department rows come from the sources that know them
(the cases code registers them), so until those land a ranking by worker or department has no rows.
"""

from __future__ import annotations

from typing import Any

GROUPINGS = ("district", "community", "worker", "department", "unit")


def communities_within(registry: Any, node_id: str | None, scope: set[str] | None) -> set[str] | None:
    """The communities under ``node_id`` (None: the whole city) cut to ``scope`` (None: all); None = no limit."""
    if node_id is None:
        return scope
    node = registry.node(node_id)
    if node is None:
        return set()
    if node.level == "city":
        under = None
    elif node.level == "community":
        under = {node.id}
    elif node.level == "cell":
        under = {c for c in [registry.community_of(node.id)] if c}
    else:
        under = set(registry.descendants(node.id, "community"))
    if under is None:
        return scope
    return under if scope is None else under & scope


def registry_rows(registry: Any, by: str, communities: set[str] | None) -> list[tuple[str, str, str | None]]:
    """(key, name, parent) of the registry's rows of grouping ``by`` inside ``communities``."""
    def inside(c: str | None) -> bool:
        return communities is None or c in communities

    if by == "community":
        return [(c, registry.node(c).name, registry.district_of(c)) for c in registry.nodes_at("community")
                if inside(c)]
    if by == "district":
        out = []
        for d in registry.nodes_at("district"):
            if communities is None or communities & set(registry.descendants(d, "community")):
                out.append((d, registry.node(d).name, None))
        return out
    if by == "unit":
        out = []
        for uid in registry.unit_ids():
            post = registry.post_of_unit(uid)
            community = registry.community_of(post.cell_id) if post else None
            if inside(community):
                unit = registry.unit(uid)
                out.append((uid, unit.name if unit else uid, community))
        return out
    return []
