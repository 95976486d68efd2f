"""A small generated city in a SQLite registry, shared by the ingest and alert tests (session scope)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from onescreen.db.session import make_engine, upgrade
from onescreen.registry.bundle import write_bundle
from onescreen.registry.cache import RegistryCache
from onescreen.registry.importer import import_bundle
from sim.citygen import generate_city

SMALL = dict(districts=2, communities=4, cells=8, doors=12, cameras=6, units=3, watchlist=6, sensors=2,
             streamed_cameras=0)


@dataclass
class SmallCity:
    url: str
    folder: Path
    registry: RegistryCache
    door: str
    other_door: str
    unit: str
    camera: str


@pytest.fixture(scope="session")
def small_city(tmp_path_factory) -> SmallCity:
    root = tmp_path_factory.mktemp("small-city")
    url = f"sqlite:///{root / 'registry.db'}"
    upgrade(url)
    bundle = generate_city(seed=11, **SMALL)
    # one post staffed round the clock, so shift-dependent tests (off_post) run whatever the hour
    bundle.posts[0] = dataclasses.replace(bundle.posts[0], shift_start="00:00", shift_end="00:00")
    write_bundle(root / "bundle", bundle)
    engine = make_engine(url)
    import_bundle(engine, root / "bundle")
    registry = RegistryCache.load(engine)
    units = [u.id for u in bundle.units if registry.place_of_unit(u.id) is not None]
    return SmallCity(url, root / "bundle", registry, bundle.doors[0].id, bundle.doors[1].id, units[0],
                     bundle.cameras[0].id)
