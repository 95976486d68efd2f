"""Who sees which cases: the ``Actor`` of an account, and the same rule as a Python check and a SQL filter.

- ``grid``: the cases of its own cells and its own reports (wherever they were placed);
- ``department`` / ``duty``: the cases assigned to its department / patrol unit;
- ``operator`` / ``supervisor`` / ``admin``: the communities under their scope node (None: the whole city).

A case outside the scope is reported as not found (404), never as forbidden: its existence is not told.
Acting also needs the case's handling level to be the actor's level or below it (a community desk does
not act on a case its district took over; it still sees it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import and_, false, or_

from cases.places import Places
from onescreen import scope
from onescreen.commands import Actor
from onescreen.db.models import Case, User

LEVEL_RANK = {None: 0, "city": 0, "district": 1, "community": 2, "cell": 3}
HANDLING_RANK = {"city": 0, "district": 1, "community": 2}


def actor_of(user: User, places: Places, remote_addr: str | None = None) -> Actor:
    """The Actor of an account (``onescreen.scope.actor_of``), a grid worker narrowed to its own cells."""
    actor = scope.actor_of(user, places.reg, remote_addr)
    if user.role != "grid":
        return actor
    worker = places.workers.get(user.worker_id or "")
    return replace(actor, cells=frozenset(worker[1]) if worker else frozenset())


def sees(actor: Actor, case: Case) -> bool:
    """May the actor see this case at all?"""
    if actor.role == "grid":
        return (actor.cells is not None and case.cell_id in actor.cells) or case.reporter == actor.worker_id
    if actor.role == "department":
        return case.assignee_kind == "department" and case.assignee_id == actor.department_id
    if actor.role == "duty":
        return case.assignee_kind == "unit" and case.assignee_id == actor.unit_id
    return actor.sees_community(case.community_id)


def may_steer(actor: Actor, case: Case) -> bool:
    """A desk acts on a case handled at its own level or below (a district desk on community cases too)."""
    if actor.role in ("grid", "department", "duty"):
        return True
    mine = LEVEL_RANK.get(actor.extra.get("scope_level"), 2)
    return mine <= HANDLING_RANK.get(case.handling_level, 2)


def sql_filter(actor: Actor) -> Any:
    """The same rule as ``sees`` as a WHERE clause over ``Case``."""
    if actor.role == "grid":
        return or_(Case.cell_id.in_(sorted(actor.cells or ())), Case.reporter == (actor.worker_id or ""))
    if actor.role == "department":
        return and_(Case.assignee_kind == "department", Case.assignee_id == (actor.department_id or ""))
    if actor.role == "duty":
        return and_(Case.assignee_kind == "unit", Case.assignee_id == (actor.unit_id or ""))
    if actor.communities is None:
        return None
    if not actor.communities:
        return false()
    return Case.community_id.in_(sorted(actor.communities))
