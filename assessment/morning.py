"""The morning check (每日晨检, Yanping: at 8 a.m. the district center checks every full-time grid worker):
today's lists of grid workers offline, with no entries, or with visits due.

Each list is a provider in ``CHECKS`` the cases / key-persons code registers (``register``), called as
``fn(session, communities, day)`` -> rows ``{"worker_id", "name", "community_id", "detail"}``. Until then a
list is pending and the desk says plainly that its source is not available, rather than showing an empty
list that would read as "everyone is fine". How each will be computed: docs/assessment.md.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class Check:
    name: str  # workers_offline | workers_no_entries | visits_due
    source: str  # the pending source's text key (assess.source.<source>)
    fn: Callable[[Session, set[str] | None, date], list[dict[str, Any]]] | None = None


CHECKS: dict[str, Check] = {c.name: c for c in (
    Check("workers_offline", "workers"), Check("workers_no_entries", "cases"), Check("visits_due", "visits"))}


def register(name: str, fn: Callable[[Session, set[str] | None, date], list[dict[str, Any]]]) -> None:
    """Give a morning list its source (the cases / key-persons code calls this at import)."""
    CHECKS[name].fn = fn


def lists(session: Session, communities: set[str] | None, day: date) -> dict[str, list[dict[str, Any]] | None]:
    """Every list for ``day`` inside ``communities``; None for a list whose source is not installed."""
    return {name: (c.fn(session, communities, day) if c.fn is not None else None) for name, c in CHECKS.items()}
