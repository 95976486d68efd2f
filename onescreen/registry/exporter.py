"""Export the registry from the database as a bundle directory, in the canonical form of ``write_bundle``.

Import → export → import → export gives byte-identical files, and exporting a bundle our own writer made
gives that bundle back byte for byte. Passwords stay in the database (a bundle carries no secrets).
The export does not re-validate: it must work as a backup even if a row was edited by hand.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Engine

from onescreen.registry.bundle import write_bundle
from onescreen.registry.rows import read_snapshot, records_of

log = logging.getLogger(__name__)


def export_bundle(engine: Engine, path: str | Path) -> dict[str, int]:
    """Write the registry (one consistent read) to the bundle directory ``path``; returns rows per kind."""
    snap = read_snapshot(engine)
    bundle = records_of(snap.tables)
    write_bundle(path, bundle, validate=False)
    counts = bundle.counts()
    log.info("registry version %s exported to %s: %s", snap.version, path, counts)
    return counts
