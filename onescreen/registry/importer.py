"""Import a registry bundle into the database: validate everything, then replace the registry in one transaction.

Nothing is half-imported: the bundle is read and validated completely before the first statement, and
every delete/insert plus the registry-version bump run in one transaction that a database error rolls
back. Rows go in with bulk ``executemany`` inserts (a city of 19,000 cameras imports in seconds).

Two things outside the bundle survive a re-import: user accounts scoped to a grid node or a patrol unit
(their references are parked during the swap and restored; an import that would drop a node or unit a user
still points at is refused), and camera passwords (not part of a bundle, see docs/registry.md): a camera
that keeps its id and username and gets no new password keeps the stored one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, bindparam, delete, insert, or_, select, update
from sqlalchemy.orm import Session

from onescreen.db.models import Camera, PersonGrade, RegistryVersion, User, WatchPerson
from onescreen.registry.bundle import read_bundle
from onescreen.registry.files import paused_gc
from onescreen.registry.records import Bundle, RegistryError
from onescreen.registry.rows import DELETE_ORDER, TABLES, bundle_rows

log = logging.getLogger(__name__)


def import_bundle(target: Session | Engine, path: str | Path,
                  categories: Collection[str] | None = None) -> dict[str, int]:
    """Validate the bundle at ``path`` and make it the registry; returns the number of rows per kind.

    Given an Engine, the import runs in its own session. Given a Session, the import is committed on that
    session (and rolled back on any error), so pass one with no pending work of its own.
    Raises RegistryError (nothing changed) when the bundle is invalid or conflicts with user accounts.
    """
    t0 = time.perf_counter()
    bundle = read_bundle(path, categories)
    t1 = time.perf_counter()
    with paused_gc():
        if isinstance(target, Engine):
            with Session(target) as session:
                counts = _import(session, bundle, str(path))
        else:
            counts = _import(target, bundle, str(path))
    log.info("registry import %s: %s (read+validate %.2f s, database %.2f s)",
             path, counts, t1 - t0, time.perf_counter() - t1)
    return counts


def _import(session: Session, bundle: Bundle, source: str) -> dict[str, int]:
    rows = bundle_rows(bundle)
    try:
        version = _lock_version(session)
        users = _user_refs(session, bundle)
        passwords = dict(session.execute(
            select(Camera.id, Camera.password).where(Camera.password.is_not(None))).all())
        usernames = dict(session.execute(select(Camera.id, Camera.username)).all()) if passwords else {}
        if users:  # park the references so the referenced rows can be replaced
            session.execute(update(User).where(User.id.in_([u["uid"] for u in users]))
                            .values(scope_node_id=None, unit_id=None))
        levels = dict(session.execute(select(WatchPerson.person_id, WatchPerson.level)).all())
        for kind in DELETE_ORDER:
            session.execute(delete(TABLES[kind]))
        for cam in rows["cameras"]:
            if cam["password"] is None and cam["id"] in passwords and usernames.get(cam["id"]) == cam["username"]:
                cam["password"] = passwords[cam["id"]]
        for kind in reversed(DELETE_ORDER):
            if rows[kind]:
                session.execute(insert(TABLES[kind]), rows[kind])
        if users:
            stmt = (update(User.__table__).where(User.__table__.c.id == bindparam("uid"))
                    .values(scope_node_id=bindparam("node"), unit_id=bindparam("unit")))
            session.connection().execute(stmt, users)
        _regraded_by_import(session, levels, rows["watchlist"], source)
        _bump_version(session, version, source)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return {kind: len(r) for kind, r in rows.items()}


def _regraded_by_import(session: Session, before: dict[str, str], rows: list[dict], source: str) -> None:
    """A key person whose level the bundle changes gets a level-history row (issue 15): a file must not
    silently undo a re-grading made on the desk."""
    now = datetime.now(UTC)
    changed = [{"person_id": r["person_id"], "at": now, "from_level": before[r["person_id"]], "to_level": r["level"],
                "actor": "import", "user_id": None, "reason": f"registry import {source}"[:1000]}
               for r in rows if r["person_id"] in before and before[r["person_id"]] != r["level"]]
    if changed:
        session.execute(insert(PersonGrade), changed)
        log.info("registry import changed the level of %d key persons (recorded in their level history)",
                 len(changed))


def _lock_version(session: Session) -> int | None:
    """Current version, row-locked on PostgreSQL so two concurrent imports run one after the other."""
    stmt = select(RegistryVersion.version).where(RegistryVersion.id == 1).with_for_update()
    return session.execute(stmt).scalar()


def _bump_version(session: Session, version: int | None, source: str) -> None:
    now = datetime.now(UTC)
    if version is None:
        session.execute(insert(RegistryVersion).values(id=1, version=1, imported_at=now, source=source))
    else:
        session.execute(update(RegistryVersion).where(RegistryVersion.id == 1)
                        .values(version=version + 1, imported_at=now, source=source))


def _user_refs(session: Session, bundle: Bundle) -> list[dict[str, object]]:
    """Users pointing into the registry; RegistryError if the new bundle drops what they point at."""
    refs = session.execute(select(User.id, User.username, User.scope_node_id, User.unit_id, User.worker_id,
                                  User.department_id).where(
        or_(User.scope_node_id.is_not(None), User.unit_id.is_not(None), User.worker_id.is_not(None),
            User.department_id.is_not(None)))).all()
    if not refs:
        return []
    nodes = {n.id for n in bundle.nodes}
    units = {u.id for u in bundle.units}
    workers = {w.id for w in bundle.workers}
    departments = {d.id for d in bundle.departments}
    problems = []
    for r in refs:
        if r.worker_id is not None and r.worker_id not in workers:
            problems.append(f"user {r.username!r} is grid worker {r.worker_id!r}, "
                            "which the bundle no longer has (change the user first)")
        if r.department_id is not None and r.department_id not in departments:
            problems.append(f"user {r.username!r} answers for department {r.department_id!r}, "
                            "which the bundle no longer has (change the user first)")
        if r.scope_node_id is not None and r.scope_node_id not in nodes:
            problems.append(f"user {r.username!r} is scoped to grid node {r.scope_node_id!r}, "
                            "which the bundle no longer has (change the user first)")
        if r.unit_id is not None and r.unit_id not in units:
            problems.append(f"user {r.username!r} belongs to patrol unit {r.unit_id!r}, "
                            "which the bundle no longer has (change the user first)")
    if problems:
        raise RegistryError(problems[:20], truncated=len(problems) > 20, source="registry import")
    return [{"uid": r.id, "node": r.scope_node_id, "unit": r.unit_id} for r in refs]

