"""One registry snapshot per app, for the wall, the desks and the API alike, with one freshness.

The registry changes only when an admin imports a city (``onescreen city import``), and every import bumps
the one-row ``registry_version`` in the same transaction. So the app holds one immutable ``Registry``: the
map's geometry (``CityView``), the wall's scope index (``WallIndex``) and the lookup cache of the desks and the
API (``RegistryCache``), all read from the same version. ``RegistrySnapshot.current()`` reads that integer at
most every ``CHECK_S`` seconds and, when it moved, builds a complete new ``Registry`` and swaps one reference:
a request sees the old registry or the new one, never a mix, and the wall shows a newly imported city within
its refresh, without a restart. One thread reloads; the others keep answering from the old one meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from dashboard.readers.wall_index import WallIndex, load_index
from dashboard.registry import CityView, build_view
from onescreen.db.models import Camera, GridNode
from onescreen.registry.cache import RegistryCache
from onescreen.registry.rows import current_version

log = logging.getLogger(__name__)

CHECK_S = 5.0  # how often the version is read: a new city is on the wall within this plus one refresh


@dataclass(frozen=True)
class Registry:
    """Everything the screens know of the registry, from one version."""

    version: int
    view: CityView
    index: WallIndex
    cache: RegistryCache | None


def load_view(engine: Engine, city_name: str) -> CityView:
    """Read the grid and cameras once; an error gives an empty view that says why (the wall must still come up).
    The city's own name (its root node) wins over the configured one, so a generated preset names itself."""
    try:
        with Session(engine) as session:
            nodes = list(session.scalars(select(GridNode)))
            cameras = list(session.scalars(select(Camera)))
    except SQLAlchemyError as exc:
        log.warning("city registry not loaded: %s", exc.__class__.__name__,
                    exc_info=log.isEnabledFor(logging.DEBUG))
        return CityView(name=city_name, error=f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:200]}")
    root = next((n.name for n in nodes if n.level == "city" and n.parent_id is None and n.name), None)
    view = build_view(root or city_name, nodes, cameras)
    log.info("city registry loaded: %d districts, %d communities, %d cells, %d cameras (%d streamed)",
             view.count("district"), view.count("community"), view.count("cell"), view.cameras_total,
             len(view.streamed))
    return view


def _version(engine: Engine) -> int | None:
    try:
        with engine.connect() as conn:
            return current_version(conn)
    except SQLAlchemyError as exc:
        log.warning("registry version not read: %s", exc.__class__.__name__)
        return None


def load_registry(engine: Engine, city_name: str) -> Registry:
    """View, index and lookup cache of the current version (read before them: a later import is seen later)."""
    version = _version(engine) or 0
    try:
        cache: RegistryCache | None = RegistryCache.load(engine)
    except SQLAlchemyError as exc:
        log.warning("registry cache not loaded: %s", exc.__class__.__name__)
        cache = None
    return Registry(version, load_view(engine, city_name), load_index(engine), cache)


class RegistrySnapshot:
    """The app's registry, re-read when an import bumped the version (checked at most every ``CHECK_S``)."""

    def __init__(self, engine: Engine, city_name: str, on_load: Any = None):
        self._engine = engine
        self._city_name = city_name
        self._on_load = on_load
        self._lock = threading.Lock()
        self.check_s = CHECK_S
        self._checked = time.monotonic()
        self._current = self._load()

    def _load(self) -> Registry:
        reg = load_registry(self._engine, self._city_name)
        if self._on_load is not None:
            self._on_load(reg)
        return reg

    def current(self) -> Registry:
        """The registry to use for this request (one version for everything it reads)."""
        if time.monotonic() - self._checked >= self.check_s and self._lock.acquire(blocking=False):
            try:
                self._checked = time.monotonic()
                latest = _version(self._engine)
                if latest is not None and latest != self._current.version:
                    old = self._current.version
                    self._current = self._load()
                    log.info("registry snapshot reloaded: version %s -> %s", old, self._current.version)
            finally:
                self._lock.release()
        return self._current

    @property
    def view(self) -> CityView:
        return self.current().view

    @property
    def index(self) -> WallIndex:
        return self.current().index

    @property
    def cache(self) -> RegistryCache:
        """The desks' and API's lookups; loaded again if the first load failed (database not ready then)."""
        reg = self.current()
        if reg.cache is None:
            with self._lock:
                if self._current.cache is None:
                    self._current = self._load()
                reg = self._current
        if reg.cache is None:
            raise SQLAlchemyError("registry not readable")
        return reg.cache
