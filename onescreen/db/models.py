"""SQL tables of the city registry and the accounts.

One ``grid_node`` table holds the whole hierarchy (city → district → community → cell) so a subtree query
is a walk over one table and every level shares the same columns (name, GeoJSON polygon, centroid).
Devices and posts hang off level-4 cells only (DESIGN: every device belongs to one cell). Schema changes
go through Alembic (``onescreen db upgrade``); these classes are the source the migrations are written from.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

LEVELS = ("city", "district", "community", "cell")


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class GridNode(Base):
    """One node of the grid tree; ``level`` is one of LEVELS and parents are one level up."""

    __tablename__ = "grid_node"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[dict[str, Any]]  # GeoJSON Polygon or MultiPolygon, lon/lat (EPSG:4326)
    lat: Mapped[float] = mapped_column(Float)  # label point, inside the polygon
    lon: Mapped[float] = mapped_column(Float)
    households: Mapped[int | None] = mapped_column(Integer)


class Door(Base):
    """A smart-community door controller (门禁)."""

    __tablename__ = "door"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    cell_id: Mapped[str] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class Camera(Base):
    """A camera: RTSP source (credentials kept apart from the URL), zones and the doors it watches."""

    __tablename__ = "camera"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    cell_id: Mapped[str] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    rtsp_url: Mapped[str | None] = mapped_column(Text)  # without credentials when they are kept below
    username: Mapped[str | None] = mapped_column(String(128))
    password: Mapped[str | None] = mapped_column(String(256))  # never rendered, logged or exported in the UI
    streamed: Mapped[bool] = mapped_column(Boolean, default=False)  # pulled and analysed by ingest-video
    nominal_fps: Mapped[float | None] = mapped_column(Float)
    # {"gate": {"polygon": [[x, y], ...], "door_id": "D-…" | null}}, coordinates normalised 0..1
    zones: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # {"main-gate": {"a": [x, y], "b": [x, y], "in": "left" | "right"}}: entrance lines, normalised 0..1
    lines: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Sensor(Base):
    """Any other device that reports status or counts (edge analytics boxes, smoke, barriers…)."""

    __tablename__ = "sensor"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    cell_id: Mapped[str] = mapped_column(ForeignKey("grid_node.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)


class PatrolPost(Base):
    """A post (岗位): a point with a radius that its unit should be within during the shift."""

    __tablename__ = "patrol_post"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    cell_id: Mapped[str] = mapped_column(ForeignKey("grid_node.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float, default=200.0)
    shift_start: Mapped[str] = mapped_column(String(5))  # "HH:MM" local time; end < start means overnight
    shift_end: Mapped[str] = mapped_column(String(5))


class PatrolUnit(Base):
    """A patrol unit (巡逻单元) and its terminal; ``post_id`` is its assigned post."""

    __tablename__ = "patrol_unit"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    post_id: Mapped[str | None] = mapped_column(ForeignKey("patrol_post.id"), index=True)
    members: Mapped[int] = mapped_column(Integer, default=2)


class WatchPerson(Base):
    """A watch-list entry (重点人员): a pseudonymous id only, never a name."""

    __tablename__ = "watch_person"

    person_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    level: Mapped[str] = mapped_column(String(8))  # red | orange | yellow | green (on file, no current risk)
    home_community_id: Mapped[str] = mapped_column(ForeignKey("grid_node.id"), index=True)
    category: Mapped[str | None] = mapped_column(String(64))
    # the file (一人一档, issue 15): who answers for the person, and the plan (一人一策)
    officer: Mapped[str | None] = mapped_column(String(64))  # responsible officer: a username
    grid_worker_id: Mapped[str | None] = mapped_column(String(128))  # responsible grid worker (W-0101-02)
    plan: Mapped[str | None] = mapped_column(Text)


class User(Base):
    """An account: role plus the grid node it is scoped to (a community user sees that community only)."""

    __tablename__ = "app_user"
    __table_args__ = (UniqueConstraint("username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # operator | duty | supervisor | admin
    scope_node_id: Mapped[str | None] = mapped_column(ForeignKey("grid_node.id"))
    unit_id: Mapped[str | None] = mapped_column(ForeignKey("patrol_unit.id"))  # for duty users on a unit
    # grid: the grid worker the account is; department: the department it answers for (issue #14). Plain ids,
    # checked by accounts.py and by a registry import (which refuses to drop one an account points at).
    worker_id: Mapped[str | None] = mapped_column(String(64))
    department_id: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class RegistryVersion(Base):
    """One row (id 1) bumped by every registry import, so each process's lookup cache can tell cheaply
    whether its copy is stale (``RegistryCache.refresh_if_changed``) without re-reading the tables."""

    __tablename__ = "registry_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    source: Mapped[str | None] = mapped_column(Text)  # bundle path of the last import


class GridWorker(Base):
    """A grid worker (网格员) and the cells they walk (``cells``: a list of cell ids). Issue #14."""

    __tablename__ = "grid_worker"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # W-0101-02
    name: Mapped[str] = mapped_column(String(200))
    cells: Mapped[list[Any]] = mapped_column(JSON, default=list)
    phone: Mapped[str | None] = mapped_column(String(40))  # stored; shown masked


class Department(Base):
    """A department (职能部门: 公安, 城管, 住建…) that handles the cases a community assigns to it."""

    __tablename__ = "department"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


ROLES = ("operator", "duty", "supervisor", "admin", "grid", "department")
REGISTRY_TABLES = (GridNode, Door, Camera, Sensor, PatrolPost, PatrolUnit, WatchPerson, GridWorker, Department)


# ---------------------------------------------------------------- alerts (issue #5)
# Registry rows (cells, units, devices) are referenced by plain id columns, not foreign keys: a registry import
# replaces those tables wholesale, and an alert must outlive the row it was about.
class Alert(Base):
    """One alert: a (rule, subject) condition and its handling, open until someone closes it."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str | None] = mapped_column(String(32), unique=True)  # A-20261122-000042
    rule: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), index=True)
    subject_kind: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(300))
    # "rule|kind|id" while the alert is not closed, NULL after: the unique index makes one-alert-per-condition
    # hold even when two engines race or an event is replayed after a crash.
    active_key: Mapped[str | None] = mapped_column(String(400), unique=True)
    district_id: Mapped[str | None] = mapped_column(String(64))
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cell_id: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    condition: Mapped[str] = mapped_column(String(16), default="active")  # active | cleared (by the rule)
    route_unit: Mapped[str | None] = mapped_column(String(128))  # responsible patrol unit of the cell
    assignee: Mapped[str | None] = mapped_column(String(128))  # unit it was dispatched to
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    on_scene_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminders: Mapped[int] = mapped_column(Integer, default=0)


class AlertTransition(Base):
    """Every change of an alert (status, level, evidence, escalation): who, when, from where, why. The audit trail."""

    __tablename__ = "alert_transition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_pk: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    action: Mapped[str] = mapped_column(String(32))  # open, update, clear, ack, dispatch, …, escalate, remind
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))  # username, or "system"
    user_id: Mapped[int | None] = mapped_column(Integer)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)


class AlertSnapshot(Base):
    """The camera frame kept when a video-derived alert fired (evidence; the live JPEG moves on)."""

    __tablename__ = "alert_snapshot"

    alert_pk: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(128))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)


class AlertSilence(Base):
    """A silence (Alertmanager's model): matching alerts are raised, kept and shown (marked 静默中) but not
    pushed on MQTT nor escalated between ``starts_at`` and ``until``. Matchers left None match anything, yet
    never beyond ``scope``: the communities its creator could see when it was made (None: the whole city).
    Lifting one early sets ``until`` to that instant (``lifted_at``/``lifted_by`` say who); rows are kept."""

    __tablename__ = "alert_silence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str | None] = mapped_column(String(32))  # None = any rule
    subject_id: Mapped[str | None] = mapped_column(String(300))  # None = any subject
    district_id: Mapped[str | None] = mapped_column(String(64))  # None = any district (of the scope)
    community_id: Mapped[str | None] = mapped_column(String(64))  # None = any community (of the scope)
    cell_id: Mapped[str | None] = mapped_column(String(64))  # None = any cell (of the scope)
    scope: Mapped[list[Any] | None] = mapped_column(JSON)  # community ids the creator saw; None = the city
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    reason: Mapped[str | None] = mapped_column(Text)  # required for new silences (alerts.silences)
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    lifted_by: Mapped[str | None] = mapped_column(String(64))


class ApiToken(Base):
    """A bearer token of the HTTP API: only its SHA-256 is stored (the token is 32 random bytes)."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    label: Mapped[str | None] = mapped_column(String(200))


class EventArchive(Base):
    """Every consumed event, for history queries and rule replay; trimmed by retention."""

    __tablename__ = "event_archive"
    __table_args__ = (UniqueConstraint("family", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    family: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(160))
    ts: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch ms
    community_id: Mapped[str | None] = mapped_column(String(64))
    doc: Mapped[dict[str, Any]] = mapped_column(JSON)


# ---------------------------------------------------------------- desks (issue #7): spot checks, audit log
# Registry rows are named by plain id (no foreign key): a re-imported city must not break old records.


class SpotCheck(Base):
    """A supervisor's spot check (抽查) of one patrol unit: where it was, and the checklist result."""

    __tablename__ = "spot_check"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    unit_id: Mapped[str] = mapped_column(String(128), index=True)
    post_id: Mapped[str | None] = mapped_column(String(128))
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    district_id: Mapped[str | None] = mapped_column(String(64))
    camera_id: Mapped[str | None] = mapped_column(String(128))  # the nearest camera looked at
    lat: Mapped[float | None] = mapped_column(Float)  # the unit's position at check time
    lon: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)  # from its post
    on_post: Mapped[bool] = mapped_column(Boolean)
    on_route: Mapped[bool] = mapped_column(Boolean)
    uniform: Mapped[bool] = mapped_column(Boolean)
    equipment: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text)
    checked_by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)


class AuditLog(Base):
    """Who did what, when and from where, for every action that is not an alert transition (those are in
    ``alert_transition``): logins, logouts, refused logins, spot checks, silences, exports."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # username (as typed, for refused logins)
    user_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48), index=True)  # login, login_failed, logout, spot_check, …
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    remote_addr: Mapped[str | None] = mapped_column(String(64))


# ---------------------------------------------------------------- assessment (issue #16)
class CameraHealthHour(Base):
    """Camera network health of one community in one hour, pre-aggregated by the assessment sampler: every
    sample adds its counts, so a rate over any period is a ratio of sums (time-weighted) and a month at
    Nanchang size is 141 communities × 744 hours of rows, never millions of raw samples (docs/assessment.md)."""

    __tablename__ = "camera_health_hour"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)  # UTC start of the hour
    community_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    district_id: Mapped[str | None] = mapped_column(String(64), index=True)
    samples: Mapped[int] = mapped_column(Integer, default=0)  # sampler ticks in this hour
    cells: Mapped[int] = mapped_column(Integer, default=0)  # Σ over samples: cells of the community
    covered: Mapped[int] = mapped_column(Integer, default=0)  # Σ: cells with at least one online camera
    cameras: Mapped[int] = mapped_column(Integer, default=0)  # Σ: registered cameras
    online: Mapped[int] = mapped_column(Integer, default=0)  # Σ: cameras online (degraded included)
    good: Mapped[int] = mapped_column(Integer, default=0)  # Σ: online, not degraded, image usable


class PatrolPostHour(Base):
    """One patrol unit in one hour, sampled with the cameras: how many samples found it expected at its post
    (its post's shift on) and how many of those found it there (``/patrol``'s rule), so the on-post rate over
    any period is Σ on_post / Σ samples (docs/assessment.md)."""

    __tablename__ = "patrol_post_hour"

    hour: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)  # UTC start of the hour
    unit_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    district_id: Mapped[str | None] = mapped_column(String(64))
    samples: Mapped[int] = mapped_column(Integer, default=0)  # samples taken while its shift was on
    on_post: Mapped[int] = mapped_column(Integer, default=0)  # of them, at its post with a fresh position


class WorkerOnlineDay(Base):
    """One grid worker on one local day, sampled with the cameras: how many samples were taken and in how many
    the worker's /grid heartbeat (``names.grid_online``) was alive. Periods are whole local days, so a day row
    is exact for every period, and a month at 2,500 workers is 77,500 rows (docs/assessment.md)."""

    __tablename__ = "worker_online_day"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # local "YYYY-MM-DD" in city.timezone
    worker_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    district_id: Mapped[str | None] = mapped_column(String(64))
    samples: Mapped[int] = mapped_column(Integer, default=0)  # sampler ticks on this day
    online: Mapped[int] = mapped_column(Integer, default=0)  # of them, with the heartbeat key alive
    last_online_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the last such sample


# ---------------------------------------------------------------- key persons (issue 15): the file's history
# Keyed by the plain person id (no foreign key): a registry import replaces ``watch_person`` wholesale, and a
# person's level history and visits must outlive a re-import (and a person taken off the list).


class PersonGrade(Base):
    """One re-grading of a watch-list person: from which level to which, who, when and why."""

    __tablename__ = "person_grade"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    from_level: Mapped[str | None] = mapped_column(String(8))
    to_level: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class PersonVisit(Base):
    """One visit (走访) to a watch-list person: when, how (home | phone | video), by whom, a note."""

    __tablename__ = "person_visit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # when the visit took place
    method: Mapped[str] = mapped_column(String(8))  # home | phone | video
    visitor: Mapped[str] = mapped_column(String(128))  # username or grid worker id
    user_id: Mapped[int | None] = mapped_column(Integer)
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)  # home community at the time
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
# ---------------------------------------------------------------- video patrol (issue #18)
class VideoPatrolPlan(Base):
    """A video patrol plan (视频巡查): cameras walked in order, seconds on each, when it is due, its scope."""

    __tablename__ = "video_patrol_plan"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    scope_node_id: Mapped[str | None] = mapped_column(String(64), index=True)  # None: the whole city
    cameras: Mapped[list[str]] = mapped_column(JSON, default=list)  # ordered camera ids
    seconds_per_camera: Mapped[int] = mapped_column(Integer, default=20)
    every_min: Mapped[int] = mapped_column(Integer, default=120)  # due every this many minutes …
    start: Mapped[str] = mapped_column(String(5), default="20:00")  # … between these local times
    end: Mapped[str] = mapped_column(String(5), default="06:00")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class VideoPatrolRound(Base):
    """One walk through a plan's cameras by one operator (the patrol log)."""

    __tablename__ = "video_patrol_round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("video_patrol_plan.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer)


class VideoPatrolMark(Base):
    """One camera looked at in a round: 正常 (normal) or 异常 (abnormal), with a note; abnormal opens a case."""

    __tablename__ = "video_patrol_mark"
    __table_args__ = (UniqueConstraint("round_id", "camera_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("video_patrol_round.id"), index=True)
    camera_id: Mapped[str] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))  # normal | abnormal
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[str | None] = mapped_column(String(64))  # the case an abnormal mark opened (cases branch)


class EntranceCountHour(Base):
    """People through one entrance line in one local hour (history; Redis keeps the last days for screens)."""

    __tablename__ = "entrance_count_hour"

    camera_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    line: Mapped[str] = mapped_column(String(128), primary_key=True)
    hour: Mapped[str] = mapped_column(String(10), primary_key=True)  # local "YYYYMMDDHH"
    community_id: Mapped[str] = mapped_column(String(64), index=True)
    n_in: Mapped[int] = mapped_column(Integer, default=0)
    n_out: Mapped[int] = mapped_column(Integer, default=0)
# ---------------------------------------------------------------- cases (issue #14, CONTRACT §6)
# Registry rows are named by plain id (no foreign key), like alerts: a case outlives a re-imported city.
class Case(Base):
    """One case (事件): what a person reported, where, how urgent, who handles it now, and how it ended."""

    __tablename__ = "case_record"
    # The desk's queue reads open cases newest first; the wall counts open and overdue ones.
    __table_args__ = (Index("ix_case_record_open_reported", "open", "reported_at"),
                      Index("ix_case_record_open_deadline", "open", "deadline"),
                      Index("ix_case_record_deadline", "deadline"))  # the assessment's overdue count

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(32), unique=True)  # E-20261205-000017
    source: Mapped[str] = mapped_column(String(16))  # grid | hotline | alert | video_patrol
    category: Mapped[str] = mapped_column(String(32), index=True)
    level: Mapped[str] = mapped_column(String(8))  # red | orange | yellow (suggested until graded)
    graded: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))
    open: Mapped[bool] = mapped_column(Boolean, default=True)  # not archived (the wall's "open cases")
    handling_level: Mapped[str] = mapped_column(String(16), default="community")  # community | district | city
    district_id: Mapped[str | None] = mapped_column(String(64))
    community_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cell_id: Mapped[str | None] = mapped_column(String(64))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text)
    reporter: Mapped[str] = mapped_column(String(64))  # worker id, or the username of an operator
    reporters: Mapped[list[Any]] = mapped_column(JSON, default=list)  # every reporter, merged reports included
    outside_own_cells: Mapped[bool] = mapped_column(Boolean, default=False)
    assignee_kind: Mapped[str | None] = mapped_column(String(16))  # community | department | unit
    assignee_id: Mapped[str | None] = mapped_column(String(128), index=True)
    alert_id: Mapped[str | None] = mapped_column(String(32), index=True)
    merged_into: Mapped[str | None] = mapped_column(String(32))
    feedback: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    on_time: Mapped[bool | None] = mapped_column(Boolean)
    photos: Mapped[int] = mapped_column(Integer, default=0)  # people's photos (report + feedback), <= max
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the acceptance itself (accept happens once, from "reported"); accepted_at restarts with an escalation or
    # a reopening. The assessment's "accepted in time" compares it with reported_at (migration 0010)
    first_accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # accept-by, then handle-by
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseStep(Base):
    """Every step of a case: who, when, from where, what, and a note (工作痕迹). The audit trail of cases."""

    __tablename__ = "case_step"
    __table_args__ = (Index("ix_case_step_action_at", "action", "at"),)  # the assessment: steps of a period

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    action: Mapped[str] = mapped_column(String(24))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))
    actor: Mapped[str] = mapped_column(String(64))  # username, or "system"
    role: Mapped[str | None] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(Integer)
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Copies of the detail keys the assessment counts, as plain columns so a month of steps is counted without
    # parsing JSON per row (migration 0010; ``CaseStep.facts`` derives them, ``cases.commands._step`` writes them)
    on_time: Mapped[bool | None] = mapped_column(Boolean)  # handle (on the spot = on time), evaluate
    satisfaction: Mapped[int | None] = mapped_column(Integer)  # evaluate: 1..5
    previous_kind: Mapped[str | None] = mapped_column(String(16))  # return: the assignee that returned it
    previous_id: Mapped[str | None] = mapped_column(String(128))
    # the case's place and reporting grid worker (fixed at the report): a month's steps are counted by district,
    # community or worker without a join with case_record (``CaseStep.place``)
    district_id: Mapped[str | None] = mapped_column(String(64))
    community_id: Mapped[str | None] = mapped_column(String(64))
    grid_worker_id: Mapped[str | None] = mapped_column(String(64))

    @staticmethod
    def place(case: Case) -> dict[str, Any]:
        """The column copies of the case's place and its reporting grid worker (a ``grid`` case's reporter)."""
        return {"district_id": case.district_id, "community_id": case.community_id,
                "grid_worker_id": case.reporter if case.source == "grid" else None}

    @staticmethod
    def facts(action: str, detail: dict[str, Any]) -> dict[str, Any]:
        """The column copies of a step's ``detail``: on_time (on_site counts on time), satisfaction, and for a
        return the previous assignee. Anything not of the expected type stays None."""
        on_time = True if detail.get("on_site") is True else detail.get("on_time")
        sat = detail.get("satisfaction")
        prev = detail.get("previous") if action == "return" else None
        prev = prev if isinstance(prev, dict) else {}
        return {"on_time": on_time if isinstance(on_time, bool) else None,
                "satisfaction": sat if isinstance(sat, int) and not isinstance(sat, bool) else None,
                "previous_kind": prev.get("kind"), "previous_id": prev.get("id")}


class CasePhoto(Base):
    """A photo of a case (report, feedback) or a camera frame taken as evidence; JPEG bytes plus a thumbnail.
    Blobs in SQL so SQLite and PostgreSQL both work and a backup holds everything."""

    __tablename__ = "case_photo"
    __table_args__ = (UniqueConstraint("case_pk", "n"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_pk: Mapped[int] = mapped_column(ForeignKey("case_record.id", ondelete="CASCADE"), index=True)
    n: Mapped[int] = mapped_column(Integer)  # 1, 2, … in the case: GET /api/cases/{id}/photos/{n}.jpg
    kind: Mapped[str] = mapped_column(String(16))  # report | feedback | camera
    camera_id: Mapped[str | None] = mapped_column(String(128))
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    jpeg: Mapped[bytes] = mapped_column(LargeBinary)
    thumb: Mapped[bytes] = mapped_column(LargeBinary)


class CaseCounter(Base):
    """The per-day case counter behind ``E-YYYYMMDD-NNNNNN``: one row per local day, bumped in the insert's
    transaction, so numbers stay unique and gap-free with any number of dashboard processes."""

    __tablename__ = "case_counter"

    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
