"""Who a signed-in person is to a command: the account turned into an ``onescreen.commands.Actor``.

A person's scope is one grid node (``User.scope_node_id``; None: the whole city). Commands and queries need it
as sets of community (and cell) ids, resolved once against the registry: ``actor_of`` does that for an account
row (the API's bearer token) and for a desk's session user alike, so the HTTP API, the desks and the wall cut
the city the same way. A node the registry no longer holds sees nothing, never everything.
"""

from __future__ import annotations

from typing import Any

from onescreen.commands import Actor


def communities_of(registry: Any, scope_node_id: str | None) -> frozenset[str] | None:
    """Community ids under a scope node (None: the whole city). A cell's scope sees its community: alerts are
    placed by community."""
    if scope_node_id is None:
        return None
    node = registry.node(scope_node_id)
    if node is None:
        return frozenset()
    if node.level == "city":
        return None
    if node.level == "community":
        return frozenset({node.id})
    if node.level == "cell":
        community = registry.community_of(node.id)
        return frozenset({community}) if community else frozenset()
    return frozenset(registry.descendants(node.id, "community"))


def cells_of(registry: Any, scope_node_id: str | None) -> frozenset[str] | None:
    """The cell of a cell-scoped account (roles bound to cells); None for any wider scope."""
    node = registry.node(scope_node_id) if scope_node_id else None
    return frozenset({node.id}) if node is not None and node.level == "cell" else None


def level_of(registry: Any, scope_node_id: str | None) -> str:
    """The grid level of a scope node: ``city`` for the whole city, ``cell`` (the narrowest) for a node the
    registry no longer holds."""
    if scope_node_id is None:
        return "city"
    node = registry.node(scope_node_id)
    return node.level if node is not None else "cell"


def actor_of(user: Any, registry: Any, remote_addr: str | None = None) -> Actor:
    """The Actor of an account row (``onescreen.db.models.User``) or a desk's ``SessionUser``; ``extra``
    carries the scope's grid level (``scope_level``: which handling levels a desk may steer)."""
    scope = getattr(user, "scope_node_id", None)
    return Actor(username=user.username, role=user.role, user_id=getattr(user, "id", None),
                 scope_node_id=scope, communities=communities_of(registry, scope),
                 cells=cells_of(registry, scope), unit_id=getattr(user, "unit_id", None),
                 worker_id=getattr(user, "worker_id", None), department_id=getattr(user, "department_id", None),
                 remote_addr=remote_addr, extra={"scope_level": level_of(registry, scope)})
