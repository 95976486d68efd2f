"""The alerts process: partition streams → rules → stage chain → SQL, Redis and MQTT.

Read as a loop of small steps (``step``): keep the partition leases; read the owned partitions' streams with
one XREADGROUP; run each event through the rules of its family; fire due timers; send the decisions through
the stage chain (``alerts.stages``); then commit SQL (alerts, transitions) and only after that, in one Redis pipeline, write back rule state and timers, queue notifications and XACK the events. A
crash anywhere before that pipeline leaves the events pending: they are read again (by us after a restart, or
by whoever takes the partition, via XAUTOCLAIM) and the alert's unique ``active_key`` turns a replayed raise
into an update, so nothing is lost and no alert is doubled. A batch that fails for another reason than an
outage is retried in halves until the failing entry stands alone; one that keeps failing goes to the
partition's dead-letter stream (``alerts.deadletter``) so it cannot stop the events behind it.

The engine does not archive events: the archivers (``alerts.archiver``, their own consumer group on the same
streams) do, so the archive row is not on the engine's per-event path (docs/alerts.md, performance).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson
import redis
from sqlalchemy import select

from alerts import deadletter, followup
from alerts.config import RulesError, load_rules
from alerts.leases import Leases
from alerts.notify import OutboxNotifier
from alerts.rules import RULES, RuleContext, RuleState, rules_for
from alerts.rules.base import Decision
from alerts.stages import Batch, run_chain
from onescreen import mqttconn, names
from onescreen.db.models import AlertSilence
from onescreen.db.session import make_engine, session_factory
from onescreen.events import StreamRecord
from onescreen.redisconn import connect
from onescreen.registry.cache import RegistryCache
from onescreen.worker import Worker

log = logging.getLogger(__name__)

FAMILIES = (*names.FAMILIES, names.WATCH)
GC_THRESHOLDS = (50_000, 20, 100)  # CPython's default is (700, 10, 10)


class AlertEngineWorker(Worker):
    kind = "alerts"

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.owned: dict[int, dict[str, RuleState]] = {}
        self.read_pending = True  # first read our own unacknowledged entries (after a restart or an error)
        self.counts = {"events": 0, "decisions": 0, "batches": 0, "errors": 0, "timers": 0}
        self.isolating = False  # after a failed batch: its pending entries go through deadletter.bisect
        self.rules_error: str | None = None
        self._healthy = True
        self._next = {"lease": 0.0, "rules": 0.0, "registry": 0.0, "silences": 0.0}

    # ------------------------------------------------------------ set-up
    def setup(self) -> None:
        s = self.settings
        self.redis = connect(s.redis)
        self.db = make_engine(s.database.url)
        self.sessions = session_factory(self.db)
        self.registry = RegistryCache.load(self.db)
        self.ctx = RuleContext(
            self.registry, load_rules(s.alerts.rules_file), s.city.timezone, s.redis.partitions
        )
        self._rules_mtime = self._mtime()
        self.leases = Leases(self.redis, self.instance, s.redis.partitions, s.alerts.lease_s)
        self._index_units()
        self.silences: list[AlertSilence] = []
        self.mqtt = mqttconn.make_client(s.mqtt, f"{s.mqtt.client_id}-alerts-{self.instance}")
        mqttconn.connect(self.mqtt, s.mqtt)
        self.notifier = OutboxNotifier(self.redis, self.mqtt, names.Topics(s.mqtt.prefix), self.instance)
        self.dead = deadletter.DeadLetters(self.redis, s.alerts.max_attempts, self.instance)
        # The rule state is a large, long-lived heap of small dicts and lists without cycles: the default
        # thresholds made the cyclic collector walk it again and again, a fifth of the engine's CPU
        # (docs/alerts.md, performance). Start-up objects go to the permanent generation; collections get rare.
        # Only as a process of its own: a test running the engine in a thread keeps its interpreter's settings.
        if threading.current_thread() is threading.main_thread():
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)

    def _index_units(self) -> None:
        """Responsible patrol unit per cell and per community (routing), from the posts' places."""
        self.units_by_cell: dict[str, str] = {}
        self.units_by_community: dict[str, str] = {}
        for u in self.registry.unit_ids():
            place = self.registry.place_of_unit(u)
            if place is not None:
                self.units_by_cell.setdefault(place.cell_id, u)
                self.units_by_community.setdefault(place.community_id, u)

    def route_unit(self, loc: dict[str, Any]) -> str | None:
        return self.units_by_cell.get(loc.get("cell_id") or "") or self.units_by_community.get(
            loc.get("community_id") or ""
        )

    def teardown(self) -> None:
        for p in list(self.owned):
            self.leases.release(p)
        self.mqtt.disconnect()
        self.mqtt.loop_stop()
        self.redis.close()
        self.db.dispose()

    def health(self) -> dict[str, Any]:
        return {
            "partitions": sorted(list(self.owned)),  # a copy: the heartbeat thread reads it
            "rules_error": self.rules_error,
            "published": getattr(getattr(self, "notifier", None), "published", 0),
            "dead_lettered": getattr(getattr(self, "dead", None), "moved", 0),
            **self.counts,
        }

    # ------------------------------------------------------------ the loop
    def step(self) -> None:
        try:
            self._housekeeping()
            if not self.owned:
                self.notifier.drain()
                self.stop_event.wait(0.2)
                return
            entries = self._read()
            if self.isolating and not self.read_pending:  # the failed batch is acknowledged or dead-lettered
                self.isolating = False
                self.dead.reset()
            if self.isolating:
                self._isolate(entries)
            else:
                self._process(entries)
            followup.escalate_due(self.redis, self.sessions, self.settings)
            self.notifier.drain()
            if not self._healthy:
                log.info("alert engine healthy again")
            self._healthy = True
        except (redis.RedisError, OSError) as exc:
            self._recover(f"Redis: {exc}")
        except Exception as exc:
            if deadletter.is_outage(exc):  # the database: retried as it is, nothing is the entries' fault
                self._recover("database: {}: {}".format(*deadletter.describe(exc)[:2]))
                return
            # a warning: the entries are retried; an entry that keeps failing gets its own ERROR line
            log.warning("batch failed: its entries are retried in halves to find the failing one", exc_info=True)
            self.isolating = True
            self._recover(f"{type(exc).__name__}: {exc}")

    def _recover(self, why: str) -> None:
        """Forget in-memory state; reload it from Redis and re-read our pending entries once Redis answers."""
        self.counts["errors"] += 1
        if self._healthy:
            log.warning("alert engine recovering (%s): reloading state, re-reading pending events", why)
        self._healthy = False
        self.stop_event.wait(0.5)
        self._next["lease"] = 0.0  # a restarted Redis lost our leases and groups: re-take at once
        try:
            for p in list(self.owned):
                self.owned[p] = self._load_state(p)
            self.read_pending = True
        except redis.RedisError:
            self.owned.clear()  # leases will be re-taken (ours lapse if Redis stays away)
            self._next["lease"] = 0.0

    def _housekeeping(self) -> None:
        now = time.monotonic()
        if now >= self._next["lease"]:
            self._next["lease"] = now + self.settings.alerts.lease_s / 3
            self._balance()
        if now >= self._next["rules"]:
            self._next["rules"] = now + self.settings.alerts.rules_reload_s
            self.reload_rules()
        if now >= self._next["registry"]:
            self._next["registry"] = now + 10
            if self.registry.refresh_if_changed():
                self._index_units()
        if now >= self._next["silences"]:
            self._next["silences"] = now + 2
            with self.sessions() as session:
                cutoff = datetime.now(UTC)
                self.silences = list(
                    session.execute(select(AlertSilence).where(AlertSilence.until > cutoff)).scalars()
                )

    # ------------------------------------------------------------ rules file
    def _mtime(self) -> float | None:
        path = self.settings.alerts.rules_file
        try:
            return path.stat().st_mtime if path else None
        except OSError:
            return None

    def reload_rules(self, force: bool = False) -> bool:
        """Load the rules file again if it changed; a bad file is refused and the running rules stay."""
        mtime = self._mtime()
        if not force and mtime == self._rules_mtime:
            return False
        self._rules_mtime = mtime
        try:
            self.ctx.rules = load_rules(self.settings.alerts.rules_file)
        except RulesError as exc:
            self.rules_error = str(exc)
            log.error("rules file refused, the running rules stay in force: %s", exc)
            self.redis.hset(names.ALERT_RULES_STATUS, mapping={"error": str(exc), "at": time.time()})
            return False
        self.rules_error = None
        log.info("rules reloaded from %s", self.settings.alerts.rules_file)
        self.redis.hset(
            names.ALERT_RULES_STATUS,
            mapping={"error": "", "at": time.time(), "path": str(self.settings.alerts.rules_file)},
        )
        return True

    # ------------------------------------------------------------ partitions
    def _streams(self, p: int) -> list[str]:
        return [names.event_stream(f, p) for f in FAMILIES]

    def _balance(self) -> None:
        kept, gained, give = self.leases.balance(set(self.owned))
        for p in set(self.owned) - kept:
            self.owned.pop(p, None)
            if p not in give:
                log.warning("lost the lease of partition %s", p)
        for p in give:
            self.leases.release(p)
            log.info("partition %s handed over (fair share)", p)
        for p in sorted(gained):
            self._take(p)

    def _load_state(self, p: int) -> dict[str, RuleState]:
        pipe = self.redis.pipeline(transaction=False)
        for name in RULES:
            pipe.hgetall(names.rule_state(p, name))
        return {
            name: RuleState({k.decode(): orjson.loads(v) for k, v in raw.items()})
            for name, raw in zip(RULES, pipe.execute())
        }

    def _take(self, p: int) -> None:
        """Own a partition: groups exist, its state is loaded, a previous owner's pending entries are ours."""
        for stream in self._streams(p):
            try:
                self.redis.xgroup_create(stream, names.ALERT_GROUP, id="0", mkstream=True)
            except redis.ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            start = "0-0"
            while True:  # XAUTOCLAIM: entries delivered to a dead engine and never acknowledged
                reply = self.redis.xautoclaim(
                    stream, names.ALERT_GROUP, self.instance, 0, start_id=start, count=1000
                )
                start = reply[0].decode() if isinstance(reply[0], bytes) else reply[0]
                if start == "0-0" or not reply[1]:
                    break
        self.owned[p] = self._load_state(p)
        for rule in RULES.values():
            if hasattr(rule, "on_start"):
                rule.on_start(self.owned[p][rule.name], p, time.time(), self.ctx)
        self.read_pending = True
        log.info("partition %s taken (%d partitions owned)", p, len(self.owned))

    # ------------------------------------------------------------ reading
    def _read(self) -> list[tuple[int, str, bytes, dict[str, Any]]]:
        """(partition, stream, entry id, event) of one batch: our pending entries first, then new ones."""
        streams = {s: ("0" if self.read_pending else ">") for p in self.owned for s in self._streams(p)}
        reply = self.redis.xreadgroup(
            names.ALERT_GROUP,
            self.instance,
            streams,
            count=self.settings.alerts.batch_size,
            block=None if self.read_pending else 200,
        )
        out = []
        for stream, entries in reply or []:
            stream = stream.decode() if isinstance(stream, bytes) else stream
            p = int(stream.split(":")[1][2:-1])
            for entry_id, fields in entries:
                try:
                    doc = StreamRecord.decode(fields) if fields else None
                except (KeyError, ValueError) as exc:  # not a record: no retry can change the bytes
                    self.dead.move((p, stream, entry_id, None), exc, 1, fields)
                    continue
                out.append((p, stream, entry_id, doc))
        if self.read_pending and not out:
            self.read_pending = False
        return out

    # ------------------------------------------------------------ processing
    def _process(self, entries: list[tuple[int, str, bytes, dict[str, Any]]], timers: bool = True) -> None:
        now = time.time()
        decisions: list[Decision] = []
        derived: list[tuple[int, dict[str, Any]]] = []
        positions: dict[str, tuple[float, float]] = {}
        late_ms = (
            (now - self.settings.alerts.late_window_s) * 1000 if self.settings.alerts.late_window_s else None
        )
        docs = [e for e in entries if e[3] is not None and e[0] in self.owned]
        docs.sort(key=lambda e: e[3]["ts"])  # out-of-order arrivals within a batch: oldest first
        for p, _stream, _id, ev in docs:
            if ev["family"] == names.VIDEO and ev.get("lat") is None:
                self._place_camera(ev)
            if late_ms is not None and ev["ts"] < late_ms:
                continue  # older than the late window: archived (by the archiver), but it cannot move live state
            for rule in rules_for(ev["family"]):
                decisions += rule.on_event(self.owned[p][rule.name], ev, self.ctx)
                if hasattr(rule, "derive"):
                    derived += rule.derive(ev, self.ctx)
            if ev["family"] == names.PATROL:
                positions[ev["unit_id"]] = (ev["lat"], ev["lon"])
        if timers:
            decisions += self._fire_timers(now)
        self._commit(entries, docs, decisions, derived, positions, now)

    # ------------------------------------------------------------ a failed batch
    def _isolate(self, entries: list[tuple[int, str, bytes, dict[str, Any]]]) -> None:
        """The pending entries of a failed batch, in halves until each failing one is alone (no timers)."""
        entries = sorted(entries, key=lambda e: deadletter.event_time(e[3]))
        deadletter.bisect(entries, self._try_batch, self.dead.failed)

    def _try_batch(self, entries: list[tuple[int, str, bytes, dict[str, Any]]]) -> None:
        """One run of ``bisect``: a batch without timers that, when it fails, leaves the state as stored."""
        try:
            self._process(entries, timers=False)
        except Exception:
            for p in {e[0] for e in entries} & set(self.owned):  # rules may have changed it before raising
                self.owned[p] = self._load_state(p)
            raise

    def _place_camera(self, ev: dict[str, Any]) -> None:
        """Video entries carry the grid ids but not the camera's point: alerts need it on the map."""
        cam = self.registry.camera(ev["camera_id"])
        if cam is not None:
            ev["lat"], ev["lon"] = cam.lat, cam.lon

    def _fire_timers(self, now: float) -> list[Decision]:
        out: list[Decision] = []
        pipe = self.redis.pipeline(transaction=False)
        parts = list(self.owned)
        for p in parts:
            pipe.zrangebyscore(names.rule_timers(p), "-inf", now, start=0, num=500)
        for p, members in zip(parts, pipe.execute()):
            for m in members:
                rule_name, _, key = m.decode().partition("|")
                rule = RULES.get(rule_name)
                if rule is None:
                    continue
                state = self.owned[p][rule_name]
                state.disarm(key)  # on_timer re-arms if it still has something to wait for
                try:
                    out += rule.on_timer(state, key, now, self.ctx)
                except Exception as exc:  # a rule's bug: contained to its subject
                    if deadletter.is_outage(exc):
                        raise
                    self.dead.timer(p, rule_name, key, state.get(key), exc)
                    state.drop(key)
                self.counts["timers"] += 1
        return out

    def _commit(
        self, entries: list, docs: list, decisions: list[Decision], derived: list, positions: dict, now: float
    ) -> None:
        pipe = self.redis.pipeline(transaction=False)
        if decisions or positions:
            self._commit_sql(pipe, decisions, positions)
        self._flush(pipe, entries, derived)
        self.counts["events"] += len(docs)
        self.counts["decisions"] += len(decisions)
        self.counts["batches"] += 1

    def _commit_sql(self, pipe: Any, decisions: list[Decision], positions: dict) -> None:
        with self.sessions() as session:
            batch = Batch(
                session,
                pipe,
                self.settings.city.timezone,
                self.settings.alerts.escalate_after_s,
                offline={m.decode() for m in self.redis.smembers(names.OFFLINE_DEVICES)},
                silences=self.silences,
                route_unit=self.route_unit,
                snapshot=self._snapshot,
            )
            run_chain(decisions, batch)
            if positions:
                followup.auto_on_scene(self.redis, session, pipe, positions, self.settings)
            session.commit()

    def _flush(self, pipe: Any, entries: list, derived: list) -> None:
        """After the SQL commit: state, timers, derived events, notifications and XACK in one pipeline."""
        for p, states in self.owned.items():
            for name, state in states.items():
                values, timers = state.take_changes()
                key = names.rule_state(p, name)
                sets = {k: orjson.dumps(v) for k, v in values.items() if v is not None}
                dels = [k for k, v in values.items() if v is None]
                if sets:
                    pipe.hset(key, mapping=sets)
                if dels:
                    pipe.hdel(key, *dels)
                arm = {f"{name}|{k}": due for k, due in timers.items() if due is not None}
                disarm = [f"{name}|{k}" for k, due in timers.items() if due is None]
                if arm:
                    pipe.zadd(names.rule_timers(p), arm)
                if disarm:
                    pipe.zrem(names.rule_timers(p), *disarm)
        for p, doc in derived:
            pipe.xadd(
                names.event_stream(names.WATCH, p),
                StreamRecord.encode(doc),
                maxlen=self.settings.redis.stream_maxlen,
                approximate=True,
            )
        acks: dict[str, list[bytes]] = {}
        for _p, stream, entry_id, _doc in entries:
            acks.setdefault(stream, []).append(entry_id)
        for stream, ids in acks.items():
            pipe.xack(stream, names.ALERT_GROUP, *ids)
        pipe.execute()

    def _snapshot(self, camera_id: str) -> bytes | None:
        return self.redis.get(names.camera_snapshot(camera_id))
