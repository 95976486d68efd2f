"""The archiver process: every event stream → ``event_archive`` (SQL), off the alert engine's path.

Why a process of its own: the archive row was 13 of the engine's 29 µs of CPU per event (docs/alerts.md,
performance), and history (replay, the persons file's sightings) does not need the engine's transaction: the
insert is idempotent on ``(family, event_id)``. So the archivers are a second consumer group (``archive``) on the
same streams, as DESIGN asks of every stream consumer: read with XREADGROUP, insert the batch, commit, and only
then XACK. A crash (even kill -9) between commit and XACK leaves the entries pending; they are read again by us
after a restart or by whoever takes the partition (XAUTOCLAIM) and the insert-or-ignore archives nothing twice.

Partitions are shared between archivers by leases, exactly like the engines' (``alerts.leases.Leases`` with the
``archive`` lease key): each aims for its fair share, a dead archiver's partitions move after ``alerts.lease_s``.

What is archived: every entry that is a record, whatever the engine makes of it (a poison event that the engine
dead-letters is still an event that arrived: it is archived; replay contains a rule that fails on it). An entry
that is not a record has no document to archive: it is acknowledged and counted (``skipped``); the engine
dead-letters its raw bytes.

Lag and trimming: ingest trims every stream to about ``redis.stream_maxlen`` entries, whoever has read them. The
archiver is cheaper per event than the engine, so it keeps up whenever it runs; when it does not (stopped, slow
database), its lag per stream is in its health record and in ``/metrics``, with a warning once a stream's lag
passes ``alerts.archive_lag_warn`` × maxlen, and an error when entries were trimmed before it read them
(``lost_to_trim``: the stream's ``max-deleted-entry-id`` is past the group's ``last-delivered-id``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import redis

from alerts import archive
from alerts.leases import Leases
from onescreen import names
from onescreen.db.session import make_engine, session_factory
from onescreen.events import StreamRecord
from onescreen.redisconn import connect
from onescreen.worker import Worker

log = logging.getLogger(__name__)

FAMILIES = (*names.FAMILIES, names.WATCH)
LAG_EVERY_S = 5.0


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id(value: Any) -> tuple[int, int]:
    ms, _, seq = _s(value).partition("-")
    return int(ms), int(seq or 0)


class ArchiverWorker(Worker):
    kind = "archiver"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.owned: set[int] = set()
        self.read_pending = True
        self.counts = {"archived": 0, "batches": 0, "skipped": 0, "errors": 0}
        self.lag: dict[str, int] = {}
        self._healthy = True
        self._warned: set[str] = set()
        self._next = {"lease": 0.0, "trim": 0.0, "lag": 0.0}

    def setup(self) -> None:
        s = self.settings
        self.redis = connect(s.redis)
        self.db = make_engine(s.database.url)
        self.sessions = session_factory(self.db)
        self.leases = Leases(self.redis, self.instance, s.redis.partitions, s.alerts.lease_s, kind=self.kind,
                             key_of=names.archive_lease)

    def teardown(self) -> None:
        for p in list(self.owned):
            self.leases.release(p)
        self.redis.close()
        self.db.dispose()

    def health(self) -> dict[str, Any]:
        return {"partitions": sorted(self.owned), **self.counts, "lag": dict(self.lag)}

    # ------------------------------------------------------------ the loop
    def step(self) -> None:
        try:
            self._housekeeping()
            if not self.owned or not self.settings.alerts.archive:
                self.stop_event.wait(0.2)
                return
            self._archive(self._read())
            if not self._healthy:
                log.info("archiver healthy again")
            self._healthy = True
        except Exception as exc:  # Redis or the database away, or a bad batch: retried, never lost
            self.counts["errors"] += 1
            if self._healthy:
                log.warning("archiver: %s: %s; the batch stays pending and is read again", type(exc).__name__,
                            exc, exc_info=not isinstance(exc, (redis.RedisError, OSError)))
            self._healthy = False
            self.read_pending = True
            self._next["lease"] = 0.0  # a restarted Redis lost our leases and groups
            self.stop_event.wait(0.5)

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next["lease"]:
            self._next["lease"] = now + self.settings.alerts.lease_s / 3
            self._balance()
        if now >= self._next["lag"]:
            self._next["lag"] = now + LAG_EVERY_S
            self._measure_lag()
        if now >= self._next["trim"] and self.settings.alerts.archive and 0 in self.owned:
            self._next["trim"] = now + 3600  # partition 0's archiver trims the (shared) table: one at a time
            keep_ms = self.settings.alerts.archive_retention_days * 86_400_000
            with self.sessions() as session:
                n = archive.trim(session, int(time.time() * 1000) - keep_ms)
                session.commit()
            log.info("archive retention: %d events older than %d days deleted", n,
                     self.settings.alerts.archive_retention_days)

    def _streams(self, p: int) -> list[str]:
        return [names.event_stream(f, p) for f in FAMILIES]

    def _balance(self) -> None:
        kept, gained, give = self.leases.balance(set(self.owned))
        for p in self.owned - kept:
            if p not in give:
                log.warning("archiver lost the lease of partition %s", p)
        for p in give:
            self.leases.release(p)
        self.owned = kept - give
        for p in sorted(gained):
            self._take(p)

    def _take(self, p: int) -> None:
        """Own a partition: the groups exist (from the stream's start), a dead archiver's pending are ours."""
        for stream in self._streams(p):
            try:
                self.redis.xgroup_create(stream, names.ARCHIVE_GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            start = "0-0"
            while True:
                reply = self.redis.xautoclaim(stream, names.ARCHIVE_GROUP, self.instance, 0, start_id=start,
                                              count=1000)
                start = _s(reply[0])
                if start == "0-0" or not reply[1]:
                    break
        self.owned.add(p)
        self.read_pending = True
        log.info("archiver took partition %s (%d owned)", p, len(self.owned))

    # ------------------------------------------------------------ read, insert, commit, acknowledge
    def _read(self) -> list[tuple[str, bytes, dict | None]]:
        streams = {s: ("0" if self.read_pending else ">") for p in sorted(self.owned) for s in self._streams(p)}
        reply = self.redis.xreadgroup(names.ARCHIVE_GROUP, self.instance, streams,
                                      count=self.settings.alerts.archive_batch_size,
                                      block=None if self.read_pending else 500)
        out = []
        for stream, entries in reply or []:
            for entry_id, fields in entries:
                try:
                    doc = StreamRecord.decode(fields) if fields else None
                    if doc is not None:  # what a row needs: a bad entry must not hold its stream back
                        int(doc["ts"]), str(doc["family"]), archive.event_id(doc)
                except (KeyError, ValueError, TypeError):
                    doc = None  # not an archivable record (the engine dead-letters it): acknowledged, counted
                out.append((_s(stream), entry_id, doc))
        if self.read_pending and not out:
            self.read_pending = False
        return out

    def _archive(self, entries: list[tuple[str, bytes, dict | None]]) -> None:
        if not entries:
            return
        docs = [d for _s_, _i, d in entries if d is not None]
        if docs:
            with self.sessions() as session:
                archive.archive(session, docs)
                session.commit()
        pipe = self.redis.pipeline(transaction=False)  # only after the commit: a crash before is a re-read
        acks: dict[str, list[bytes]] = {}
        for stream, entry_id, _doc in entries:
            acks.setdefault(stream, []).append(entry_id)
        for stream, ids in acks.items():
            pipe.xack(stream, names.ARCHIVE_GROUP, *ids)
        pipe.execute()
        self.counts["archived"] += len(docs)
        self.counts["skipped"] += len(entries) - len(docs)
        self.counts["batches"] += 1

    # ------------------------------------------------------------ lag
    def _measure_lag(self) -> None:
        """Per owned stream: entries not yet read by the group, and whether trimming outran us."""
        streams = [s for p in sorted(self.owned) for s in self._streams(p)]
        lag, per_stream = archive_lag(self.redis, streams)
        warn_at = self.settings.alerts.archive_lag_warn * self.settings.redis.stream_maxlen
        for s, behind, lost in per_stream:
            if behind is not None and behind > warn_at:
                if s not in self._warned:
                    self._warned.add(s)
                    log.warning("archiver lags %d entries on %s: past %.0f%% of stream_maxlen, trimming will "
                                "drop unarchived events next", behind, s, self.settings.alerts.archive_lag_warn * 100)
            else:
                self._warned.discard(s)
            if lost:
                log.error("events on %s were trimmed before the archiver read them: they are not in event_archive",
                          s)
        self.lag = lag


def _trimmed_unread(info: dict[str, Any], group: dict[str, Any]) -> bool:
    """Were entries removed (trimmed) before the group read them? XTRIM leaves ``max-deleted-entry-id`` alone,
    so count instead: when every entry still in the stream is past the group's ``last-delivered-id``, the
    entries the group never read are ``entries-added - entries-read``; more than the stream holds means some
    went unread. A group created at 0 has read none; an unknown ``entries-read`` otherwise tells nothing."""
    delivered = _id(group.get("last-delivered-id") or "0-0")
    read = group.get("entries-read")
    if read is None:
        if delivered != (0, 0):
            return False
        read = 0
    length = int(info.get("length") or 0)
    first = info.get("first-entry")
    if length and _id(first[0]) <= delivered:
        return False  # the oldest entry kept was delivered: what was trimmed had been read
    return int(info.get("entries-added") or 0) - int(read) > length


def archive_lag(client: Any, streams: list[str]) -> tuple[dict[str, int], list[tuple[str, int | None, bool]]]:
    """The archive group's lag over ``streams``: totals (``max``, ``total``, ``unknown``: streams whose lag Redis
    cannot count, ``lost_to_trim``: streams trimmed past what the group had read, ``no_group``: streams no
    archiver has taken yet, counted whole in ``total``) and per stream (name, lag or None, trimmed unread).

    Read by the archivers (their health) and by ``/metrics`` at scrape time (so a stopped archiver still shows)."""
    totals = {"max": 0, "total": 0, "unknown": 0, "lost_to_trim": 0, "no_group": 0}
    if not streams:
        return totals, []
    pipe = client.pipeline(transaction=False)
    for s in streams:
        pipe.xinfo_stream(s)
        pipe.xinfo_groups(s)
    replies = pipe.execute(raise_on_error=False)
    out = []
    for i, s in enumerate(streams):
        info, groups = replies[2 * i], replies[2 * i + 1]
        if isinstance(info, Exception) or isinstance(groups, Exception):
            continue  # no such stream yet: nothing to archive
        group = next((g for g in groups if _s(g.get("name")) == names.ARCHIVE_GROUP), None)
        if group is None:
            totals["no_group"] += 1
            behind: int | None = int(info.get("length") or 0)
            lost = False
        else:
            behind = group.get("lag")
            behind = None if behind is None else int(behind)
            lost = _trimmed_unread(info, group)
        if behind is None:
            totals["unknown"] += 1
        else:
            totals["total"] += behind
            totals["max"] = max(totals["max"], behind)
        totals["lost_to_trim"] += int(lost)
        out.append((s, behind, lost))
    return totals, out
