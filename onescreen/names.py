"""Every MQTT topic and Redis key/stream name, in one place.

Nobody spells a topic or key inline: import from here.

Redis Cluster readiness: keys that must live together carry the same hash tag (the part in ``{…}``).
Events are partitioned by community: ``partition_of(community_id)`` picks one of ``redis.partitions``
partitions, and every stream, dedup key and rule-state key of that partition is tagged ``{pNN}``, so
one alert-engine consumer owns one partition's streams *and* state in one cluster slot, and a Lua script
or MULTI over them is legal on a cluster. City-wide hot state (patrol positions, device last-seen,
camera health) is keyed per entity and spreads over the cluster freely.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

ROOT = "os"  # short: it is in every key, millions of times


# ---------------------------------------------------------------- MQTT topics (CONTRACT §1, §3)
@dataclass(frozen=True)
class Topics:
    """The CONTRACT topics under a configurable prefix (default ``city``)."""

    prefix: str = "city"

    def access(self, door_id: str) -> str:
        return f"{self.prefix}/access/{door_id}"

    def patrol_position(self, unit_id: str) -> str:
        return f"{self.prefix}/patrol/{unit_id}/position"

    def video_count(self, camera_id: str) -> str:
        return f"{self.prefix}/video/{camera_id}/count"

    def device_status(self, device_id: str) -> str:
        return f"{self.prefix}/device/{device_id}/status"

    def alert(self, alert_id: str) -> str:
        return f"{self.prefix}/alerts/{alert_id}"

    def duty_alerts(self, unit_id: str) -> str:
        return f"{self.prefix}/duty/{unit_id}/alerts"

    def case(self, case_id: str) -> str:
        return f"{self.prefix}/cases/{case_id}"

    def subscriptions(self) -> list[str]:
        """The input topic filters an ingestor subscribes to."""
        p = self.prefix
        return [f"{p}/access/+", f"{p}/patrol/+/position", f"{p}/video/+/count", f"{p}/device/+/status"]

    def shared(self, group: str) -> list[str]:
        """The same filters as an MQTT v5 shared subscription, so several ingestors split the load."""
        return [f"$share/{group}/{t}" for t in self.subscriptions()]


# ---------------------------------------------------------------- event families
ACCESS = "access"
PATROL = "patrol"
COUNT = "count"  # edge people counts (MQTT) and video zone counts share the rules' view
STATUS = "status"
VIDEO = "video"  # per-camera analysis output of ingest-video (zone counts and track dwell)
FAMILIES = (ACCESS, PATROL, COUNT, STATUS, VIDEO)


def partition_of(key: str, partitions: int) -> int:
    """Stable partition of a community (or any subject) id; crc32 so every process agrees."""
    return zlib.crc32(key.encode("utf-8")) % partitions


def _tag(partition: int) -> str:
    return f"{{p{partition:03d}}}"


# ---------------------------------------------------------------- partitioned streams and state
def event_stream(family: str, partition: int) -> str:
    """Append-only event stream of one family in one partition."""
    return f"{ROOT}:{_tag(partition)}:ev:{family}"


def dedup_key(partition: int, event_id: str) -> str:
    """Marks an event id as stored; same slot as its stream so check-and-append is one atomic step."""
    return f"{ROOT}:{_tag(partition)}:seen:{event_id}"


def rule_state(partition: int, rule: str) -> str:
    """Hash of one rule's state for the subjects of one partition."""
    return f"{ROOT}:{_tag(partition)}:rule:{rule}"


def rule_timers(partition: int) -> str:
    """Sorted set of due times (score = epoch s) for the time-based rules of one partition."""
    return f"{ROOT}:{_tag(partition)}:timers"


def hourly_counts(partition: int, hour: str) -> str:
    """Hash ``district|family`` -> events stored in one local hour (``YYYYMMDDHH``) in one partition.

    Kept by ingest in the same atomic step as the append, so screens read aggregates, never the streams.
    """
    return f"{ROOT}:{_tag(partition)}:agg:{hour}"


def community_hourly_counts(partition: int, community_id: str, hour: str) -> str:
    """Hash ``cell|family`` -> events stored in one local hour in one community's cells.

    The district hash above answers the city view with one read per partition and hour; this one makes the
    figures exact below a district (a community is the sum of its cells) and costs a drilled wall one small read
    per hour. Same partition tag as the community's streams, so ingest keeps it in the same atomic step.
    """
    return f"{ROOT}:{_tag(partition)}:aggc:{community_id}:{hour}"


# ---------------------------------------------------------------- city-wide hot state
PATROL_LATEST = f"{ROOT}:hot:patrol"          # hash unit_id -> latest position JSON
DEVICE_LAST_SEEN = f"{ROOT}:hot:lastseen"     # zset device_id -> epoch s of last message
EDGE_COUNT_LATEST = f"{ROOT}:hot:count"       # hash "camera_id/zone" -> latest count JSON
REJECTED = f"{ROOT}:rejected"                 # stream of rejected messages (bounded)
REJECTED_COUNTS = f"{ROOT}:rejected:counts"   # hash reason -> count
CHANGES = f"{ROOT}:changes"                   # pub/sub channel: "something the screens show changed"
CHANGES_VERSION = f"{ROOT}:changes:v"         # counter INCR'd with every CHANGES message: screens compare it per refresh
OPEN_ALERTS = f"{ROOT}:alerts:open"           # zset alert_id -> opened epoch s
PROCESSES = f"{ROOT}:procs"                   # zset "kind:instance" -> last heartbeat epoch s
SIM_CONTROL = f"{ROOT}:sim:control"           # list: scenario commands for a running simulator


def process_health(kind: str, instance: str) -> str:
    """Hash with one process's heartbeat and health detail (expires if the process dies)."""
    return f"{ROOT}:proc:{kind}:{instance}"


def camera_health(camera_id: str) -> str:
    return f"{ROOT}:cam:{{{camera_id}}}:health"


def camera_snapshot(camera_id: str) -> str:
    return f"{ROOT}:cam:{{{camera_id}}}:jpeg"


def camera_lease(camera_id: str) -> str:
    return f"{ROOT}:cam:{{{camera_id}}}:lease"


# ---------------------------------------------------------------- alert engine (issue #5)
ALERT_GROUP = "alerts"                          # consumer group of the alert engines on every event stream
ARCHIVE_GROUP = "archive"                       # consumer group of the archivers (event_archive) on every event stream
ALERT_OUTBOX = f"{ROOT}:alerts:outbox"          # stream: alert changes still to be published over MQTT
ALERT_OUTBOX_GROUP = "notify"                   # consumer group of the MQTT notifiers on the outbox
ALERT_ESCALATIONS = f"{ROOT}:alerts:escalate"   # zset alert_id -> due epoch s (escalation / reminder)
OFFLINE_DEVICES = f"{ROOT}:alerts:offline"      # set of device ids with an active device_offline alert
ALERT_RULES_STATUS = f"{ROOT}:alerts:rules"     # hash: the rules file in force (path, loaded_at, error)
ALERT_DEAD_LETTER_COUNTS = f"{ROOT}:alerts:deadletter:counts"  # hash error type -> entries dead-lettered
WATCH = "watch"  # derived family: a watch-list person's sighting, re-routed to the person's home partition


def partition_lease(partition: int) -> str:
    """Which alert engine owns a partition (value = instance, PX = lease time); same slot as its streams."""
    return f"{ROOT}:{_tag(partition)}:lease:alerts"


def archive_lease(partition: int) -> str:
    """Which archiver owns a partition (same lease protocol as the engines'); same slot as its streams."""
    return f"{ROOT}:{_tag(partition)}:lease:archive"


def dead_letters(partition: int) -> str:
    """Stream (bounded) of the partition's entries the alert engine could not process; same slot as them."""
    return f"{ROOT}:{_tag(partition)}:deadletter"


def alert_dispatched(unit_id: str) -> str:
    """Hash alert_id -> JSON [lat, lon] of the alerts dispatched to a unit and not yet on scene."""
    return f"{ROOT}:alerts:dispatched:{{{unit_id}}}"


def camera_zones(camera_id: str) -> str:
    """Latest per-zone counts and dwell of one camera (the newest VIDEO event, for screens; expires)."""
    return f"{ROOT}:cam:{{{camera_id}}}:zones"


def process_member_prefix(kind: str) -> str:
    """Prefix of the ``PROCESSES`` members (``kind:instance``) of one process kind, e.g. the live video workers."""
    return f"{kind}:"


# ---------------------------------------------------------------- assessment (issue #16)
def assessment_tick(tick: int) -> str:
    """SET NX by the sampler that takes tick ``tick`` (epoch s // cadence): one sample per tick city-wide,
    however many assessment workers run."""
    return f"{ROOT}:assess:tick:{tick}"
# ---------------------------------------------------------------- entrances (issue #18)
ENTRANCE_TOTAL = "*"  # the line part of the community-wide fields: ``*|in``, ``*|out``


def entrance_hourly(community_id: str, hour: str) -> str:
    """Hash ``camera_id/line|in|out`` (and ``*|in``, ``*|out``) -> crossings in one local hour (``YYYYMMDDHH``).

    One hash per community and hour answers both the per-entrance and the per-community figures of a screen
    with one read per hour; written by ingest-video only when someone crosses a line, so it costs nothing
    while the gates are quiet. Expires after ``video.entrance_days_kept``.
    """
    return f"{ROOT}:ent:{{{community_id}}}:{hour}"


def entrance_field(camera_id: str, line: str, direction: str) -> str:
    """A field of ``entrance_hourly``: ``C-1/gate|in``; ``*|in`` for the community total."""
    return f"{camera_id}/{line}|{direction}" if line != ENTRANCE_TOTAL else f"{ENTRANCE_TOTAL}|{direction}"


ENTRANCE_HOURLY_MATCH = f"{ROOT}:ent:*"  # SCAN pattern of every ``entrance_hourly`` hash


def parse_entrance_hourly(key: str) -> tuple[str, str] | None:
    """(community_id, hour) of an ``entrance_hourly`` key, None for another key."""
    prefix = f"{ROOT}:ent:{{"
    if not key.startswith(prefix) or "}:" not in key:
        return None
    community, _, hour = key[len(prefix):].rpartition("}:")
    return (community, hour) if community and len(hour) == 10 and hour.isdigit() else None
# ---------------------------------------------------------------- cases (issue #14, CONTRACT §6)
def grid_online(worker_id: str) -> str:
    """Set with a TTL by the /grid page's heartbeat: the worker is online while it exists (assessment counts it)."""
    return f"{ROOT}:grid:online:{worker_id}"


GRID_ONLINE_PATTERN = f"{ROOT}:grid:online:*"
