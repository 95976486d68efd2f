"""The wall's case panel data (``components.wall_cases``): open/overdue counts, the feed and the map points of
one user's scope cut to the drill-down node, read from SQL once per change (``readers.changes``), shared by
every wall of this server showing the same user and node.

Keyed per (user, node): the scope is the user's, so two users never share an entry; 20 walls of one account
cost one read per change, 20 accounts at most 20 (and each entry is re-read every ``changes.SAFETY_S``, which
also moves a case past its deadline into 超期 within that time when nothing else changed).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from cases import queries, store
from cases.scope import actor_of
from dashboard.readers import changes
from onescreen.db.models import User


def cache(ctx: Any) -> changes.ChangeCache:
    """The app's case-panel cache (kept on the context like the wall reader)."""
    c = ctx.__dict__.get("_wall_cases_cache")
    if c is None:
        c = ctx.__dict__.setdefault("_wall_cases_cache", changes.ChangeCache())
    return c


def wall_cases(ctx: Any, user_id: int, scope: str | None, places: Any,
               where: Callable[[str | None, Any], tuple[list[str] | None, str | None]]) -> dict[str, Any] | None:
    """``{"counts", "docs", "points"}`` for ``user_id`` at drill-down node ``scope`` (None: that account is gone);
    raises SQLAlchemyError. ``where``: the node -> (communities, cell) cut of the panel."""

    def load() -> dict[str, Any] | None:
        now = datetime.now(UTC)
        with Session(ctx.engine) as s:
            user = s.get(User, user_id)
            if user is None:
                return None
            actor = actor_of(user, places)
            comms, cell = where(scope, places)
            return {"counts": queries.counts(s, actor, now, comms, cell),
                    "docs": [store.to_contract(c, ctx.settings.city.timezone, now)
                             for c in queries.feed(s, actor, now, 10, comms, cell)],
                    "points": queries.points(s, actor, now, comms, cell)}

    return cache(ctx).get((user_id, scope), changes.version(ctx.redis), load)
