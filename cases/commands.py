"""Every write a person makes on a case: one function each over ``(session, actor, input, now, env)``.

Each checks the role (``lifecycle.ROLE_ACTIONS``), the scope (``scope.sees`` → 404, ``scope.may_steer`` → 403),
the input (400) and the state (409), then writes the change and its step row (who, when, from where, note).
It does not commit: the adapter commits and then announces every case the session changed
(``changed(session)`` + ``store.announce``), so nothing is announced that was rolled back.
``env`` carries what the registry and configuration say (places, deadlines, limits) and, optionally, Redis
for the evidence frames of the nearest cameras.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases import lifecycle
from cases.ids import next_case_id
from cases.photos import PhotoRefused, check_photo
from cases.places import Places
from cases.scope import may_steer, sees
from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import Alert, Case, CasePhoto, CaseStep, PatrolUnit
from onescreen.settings import CaseSettings

MAX_NOTE = 2000


@dataclass
class CaseEnv:
    settings: CaseSettings
    tz: str
    places: Places
    redis: Any = None  # for the cameras' latest frames (evidence); None: none taken

    @property
    def categories(self) -> tuple[str, ...]:
        return lifecycle.CATEGORIES + tuple(self.settings.extra_categories)

    def hours(self, level: str) -> float:
        s = self.settings
        return {"red": s.deadline_red_h, "orange": s.deadline_orange_h}.get(level, s.deadline_yellow_h)


def changed(session: Session) -> set[str]:
    """Case ids this session changed (announce them after commit)."""
    return session.info.setdefault("cases_changed", set())


# ---------------------------------------------------------------- input helpers
def _text(data: dict[str, Any], key: str, required: bool = False, limit: int = MAX_NOTE) -> str | None:
    v = data.get(key)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise Invalid(f"cases.missing_{key}", f"{key} is required")
        return None
    if not isinstance(v, str):
        raise Invalid(f"cases.bad_{key}", f"{key} must be a string")
    return v.strip()[:limit]


def _level(v: Any, key: str = "level") -> str:
    if v not in lifecycle.LEVELS:
        raise Invalid("cases.bad_level", f"{key} must be one of {', '.join(lifecycle.LEVELS)}")
    return v


def _number(data: dict[str, Any], key: str, lo: float, hi: float) -> float:
    v = data.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not lo <= v <= hi:
        raise Invalid(f"cases.bad_{key}", f"{key} must be a number in [{lo:g}, {hi:g}]")
    return float(v)


def _step(session: Session, case: Case, actor: Actor, action: str, before: str | None, now: datetime,
          note: str | None = None, **detail: Any) -> None:
    session.add(CaseStep(case_pk=case.id, at=now, action=action, from_status=before, to_status=case.status,
                         level=case.level, actor=actor.username, role=actor.role, user_id=actor.user_id,
                         remote_addr=actor.remote_addr, note=note, detail=detail,
                         **CaseStep.facts(action, detail), **CaseStep.place(case)))  # columns the assessment counts
    case.updated_at = now
    changed(session).add(case.case_id)


def find(session: Session, actor: Actor, case_id: str) -> Case:
    """The case if the actor may see it; NotFound otherwise (outside the scope looks the same as absent)."""
    case = session.execute(select(Case).where(Case.case_id == case_id)).scalar()
    if case is None or not sees(actor, case):
        raise NotFound("cases.not_found", f"no case {case_id}")
    return case


# ---------------------------------------------------------------- report (网格吹哨)
def report(session: Session, actor: Actor, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """A new case from the field, the hotline or an alert; ``handled_on_site`` lands it in ``handled``."""
    if actor.role not in lifecycle.REPORT_ROLES:
        raise Forbidden("cases.role", f"role {actor.role} may not report a case")
    category = data.get("category")
    if category not in env.categories:
        raise Invalid("cases.bad_category", f"category must be one of {', '.join(env.categories)}")
    description = _text(data, "description", required=True)
    level = _level(data.get("level", "yellow"))
    on_site = data.get("handled_on_site", False)
    if not isinstance(on_site, bool):
        raise Invalid("cases.bad_handled_on_site", "handled_on_site must be true or false")
    feedback = _text(data, "feedback")
    if on_site and not feedback:
        raise Invalid("cases.missing_feedback", "a case handled on the spot needs its feedback")
    spot, lat, lon = _where(data, env.places)
    alert_id = _text(data, "alert_id", limit=32)
    source = "grid" if actor.role == "grid" else data.get("source", "hotline")
    if source not in lifecycle.SOURCES:
        raise Invalid("cases.bad_source", f"source must be one of {', '.join(lifecycle.SOURCES)}")
    if alert_id is not None:
        alert = session.execute(select(Alert).where(Alert.alert_id == alert_id)).scalar()
        if alert is None or not actor.sees_community(alert.community_id):
            raise NotFound("cases.alert_not_found", f"no alert {alert_id}")
        source = "alert"
    if actor.role != "grid" and not actor.sees_community(spot.community_id):
        raise Invalid("cases.outside_scope", "the location is outside your area")
    reporter = actor.worker_id if actor.role == "grid" else actor.username
    outside = actor.role == "grid" and spot.cell_id not in (actor.cells or ())
    case = Case(case_id=next_case_id(session, now, env.tz), source=source, category=category, level=level,
                graded=False, status="reported", open=True, handling_level="community",
                district_id=spot.district_id, community_id=spot.community_id, cell_id=spot.cell_id, lat=lat, lon=lon,
                description=description, reporter=reporter, reporters=[reporter], outside_own_cells=outside,
                alert_id=alert_id, photos=0, reported_at=now, updated_at=now,
                deadline=now + timedelta(minutes=env.settings.accept_within_min), reminders=0)
    session.add(case)
    session.flush()
    _step(session, case, actor, "report", None, now, description, source=source, outside_own_cells=outside)
    if on_site:
        case.status, case.feedback, case.handled_at, case.on_time = "handled", feedback, now, True
        _step(session, case, actor, "handle", "reported", now, feedback, on_site=True)
    _camera_evidence(session, case, env, now)
    return case


def _where(data: dict[str, Any], places: Places):
    """(spot, lat, lon) from lat/lon (placed by its cell) or a cell_id (its label point); 400 outside the city."""
    if data.get("lat") is not None or data.get("lon") is not None:
        lat, lon = _number(data, "lat", -90, 90), _number(data, "lon", -180, 180)
        spot = places.locate(lat, lon)
        if spot is None:
            raise Invalid("cases.outside_city", "the location is outside the city's grid")
        return spot, lat, lon
    cell_id = data.get("cell_id")
    if cell_id is None:
        raise Invalid("cases.missing_location", "lat and lon, or cell_id, are required")
    spot = places.spot_of_cell(cell_id) if isinstance(cell_id, str) else None
    if spot is None:
        raise Invalid("cases.unknown_cell", f"cell_id {cell_id!r} is not a cell of the city")
    lat, lon = places.cell_label(cell_id)
    return spot, lat, lon


def _camera_evidence(session: Session, case: Case, env: CaseEnv, now: datetime) -> None:
    """The latest frames of the cameras nearest the report, kept as evidence (best effort: Redis may be down)."""
    if env.redis is None or case.lat is None or env.settings.camera_frames == 0:
        return
    from onescreen import names

    near = env.places.nearest_cameras(case.lat, case.lon, env.settings.camera_radius_m, env.settings.camera_frames)
    try:
        frames = [(cam, env.redis.get(names.camera_snapshot(cam.id))) for cam, _ in near]
    except Exception:  # noqa: BLE001 - evidence is a bonus; the report must not fail on it
        return
    for cam, jpeg in frames:
        if not jpeg:
            continue
        try:
            photo = check_photo(bytes(jpeg), 10 * env.settings.max_photo_bytes, env.settings.photo_max_side)
        except PhotoRefused:
            continue
        _store_photo(session, case, photo, "camera", "system", now, camera_id=cam.id)


# ---------------------------------------------------------------- photos
def _store_photo(session: Session, case: Case, photo, kind: str, by: str, now: datetime,
                 camera_id: str | None = None) -> int:
    n = (session.execute(select(func.max(CasePhoto.n)).where(CasePhoto.case_pk == case.id)).scalar() or 0) + 1
    session.add(CasePhoto(case_pk=case.id, n=n, kind=kind, camera_id=camera_id, taken_at=now, uploaded_by=by,
                          width=photo.width, height=photo.height, jpeg=photo.jpeg, thumb=photo.thumb))
    if kind != "camera":
        case.photos += 1
    return n


def add_photo(session: Session, actor: Actor, case_id: str, data: bytes, now: datetime, env: CaseEnv) -> int:
    """One photo (JPEG/PNG, checked by content) on a case; its number. 400 names the reason; nothing half-stored."""
    if actor.role not in lifecycle.PHOTO_ROLES:
        raise Forbidden("cases.role", f"role {actor.role} may not add photos")
    case = find(session, actor, case_id)
    if case.status == "archived":
        raise Conflict("cases.archived", f"case {case_id} is archived")
    if case.photos >= env.settings.max_photos:
        raise Invalid("cases.too_many_photos", f"a case holds at most {env.settings.max_photos} photos")
    try:
        photo = check_photo(data, env.settings.max_photo_bytes, env.settings.photo_max_side)
    except PhotoRefused as exc:
        raise Invalid(f"cases.photo_{exc.reason}", str(exc)) from None
    kind = "feedback" if actor.role in lifecycle.ASSIGNEE_ONLY or case.status in ("in_progress", "handled") \
        else "report"
    n = _store_photo(session, case, photo, kind, actor.username, now)
    _step(session, case, actor, "photo", case.status, now, None, n=n, kind=kind)
    return n


# ---------------------------------------------------------------- lifecycle steps
def _begin(session: Session, actor: Actor, case_id: str, action: str) -> tuple[Case, lifecycle.Action]:
    case = find(session, actor, case_id)
    own_assignment = (case.assignee_kind, case.assignee_id) in (
        ("department", actor.department_id), ("unit", actor.unit_id))
    try:
        lifecycle.check_role(actor.role, action, own_assignment=own_assignment,
                             own_report=actor.worker_id is not None and actor.worker_id in (case.reporters or []))
    except lifecycle.RoleRefused as exc:
        raise Forbidden("cases.role", str(exc)) from None
    if not may_steer(actor, case):
        raise Forbidden("cases.level", f"case {case_id} is handled at the {case.handling_level} level")
    try:
        return case, lifecycle.check_transition(action, case.status)
    except lifecycle.IllegalTransition as exc:
        raise Conflict("cases.illegal", str(exc)) from None


def _restart_clock(case: Case, env: CaseEnv, now: datetime) -> None:
    case.accepted_at = now
    case.deadline = now + timedelta(hours=env.hours(case.level))


def accept(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """Take a reported case on (受理), graded (``level``, default the suggested one); the deadline starts."""
    case, a = _begin(session, actor, case_id, "accept")
    if data.get("level") is not None:
        case.level = _level(data["level"])
    before, case.status, case.graded = case.status, a.to, True
    _restart_clock(case, env, now)
    if case.first_accepted_at is None:
        case.first_accepted_at = now
    _step(session, case, actor, "accept", before, now, _text(data, "note"), deadline=case.deadline.isoformat())
    return case


def grade(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """Re-grade with a reason; an accepted case's deadline follows the new level from its acceptance."""
    case, _ = _begin(session, actor, case_id, "grade")
    level, note = _level(data.get("level")), _text(data, "note", required=True)
    old, case.level, case.graded = case.level, level, True
    if case.accepted_at is not None:
        case.deadline = case.accepted_at + timedelta(hours=env.hours(level))
    _step(session, case, actor, "grade", case.status, now, note, previous=old)
    return case


def assign(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """Hand the case to the community itself, a department or a patrol unit (分级转办)."""
    case, a = _begin(session, actor, case_id, "assign")
    who = data.get("assignee")
    if not isinstance(who, dict) or who.get("kind") not in lifecycle.ASSIGNEE_KINDS or not isinstance(
            who.get("id"), str):
        raise Invalid("cases.bad_assignee", 'assignee must be {"kind": community|department|unit, "id": …}')
    kind, ident = who["kind"], who["id"]
    known = {"community": lambda: (n := env.places.reg.node(ident)) is not None and n.level == "community",
             "department": lambda: ident in env.places.departments,
             "unit": lambda: session.get(PatrolUnit, ident) is not None}[kind]()
    if not known:
        raise Invalid("cases.unknown_assignee", f"no {kind} {ident!r}")
    before, case.status = case.status, a.to
    case.assignee_kind, case.assignee_id = kind, ident
    _step(session, case, actor, "assign", before, now, _text(data, "note"), assignee={"kind": kind, "id": ident})
    return case


def return_(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime,
            env: CaseEnv) -> Case:
    """The assignee says it is not theirs (with a reason): back to ``accepted`` for another assignment."""
    case, a = _begin(session, actor, case_id, "return")
    note = _text(data, "note", required=True)
    before, previous = case.status, {"kind": case.assignee_kind, "id": case.assignee_id}
    case.status, case.assignee_kind, case.assignee_id = a.to, None, None
    _step(session, case, actor, "return", before, now, note, previous=previous)
    return case


def start(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """The assignee is on it."""
    case, a = _begin(session, actor, case_id, "start")
    before, case.status = case.status, a.to
    _step(session, case, actor, "start", before, now, _text(data, "note"))
    return case


def handle(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """Done, with the feedback (处置反馈); on time if before the deadline."""
    case, a = _begin(session, actor, case_id, "handle")
    feedback = _text(data, "note") or _text(data, "feedback")
    if not feedback:
        raise Invalid("cases.missing_feedback", "handling needs its feedback (note)")
    before, case.status, case.feedback, case.handled_at = case.status, a.to, feedback, now
    case.on_time = case.deadline is None or not _after(now, case.deadline)
    _step(session, case, actor, "handle", before, now, feedback, on_time=case.on_time)
    return case


def _after(a: datetime, b: datetime) -> bool:
    from datetime import UTC

    return a > (b if b.tzinfo else b.replace(tzinfo=UTC))


def evaluate(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime,
             env: CaseEnv) -> Case:
    """Satisfaction 1–5 (and on time); unsatisfied (1–2) reopens it to ``assigned`` with a new deadline."""
    case, _ = _begin(session, actor, case_id, "evaluate")
    sat = data.get("satisfaction")
    if isinstance(sat, bool) or not isinstance(sat, int) or not 1 <= sat <= 5:
        raise Invalid("cases.bad_satisfaction", "satisfaction must be an integer 1..5")
    on_time = data.get("on_time", case.on_time)
    if on_time is not None and not isinstance(on_time, bool):
        raise Invalid("cases.bad_on_time", "on_time must be true or false")
    before = case.status
    case.status, case.satisfaction, case.on_time = lifecycle.evaluated_status(sat), sat, on_time
    if case.status == "assigned":  # reopened: same assignee, the clock starts again
        case.handled_at = None
        _restart_clock(case, env, now)
    _step(session, case, actor, "evaluate", before, now, _text(data, "note"), satisfaction=sat, on_time=on_time)
    return case


def escalate(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime,
             env: CaseEnv) -> Case:
    """The level that cannot solve it pushes it up (community → district → city); the deadline restarts."""
    case, a = _begin(session, actor, case_id, "escalate")
    up = lifecycle.NEXT_LEVEL.get(case.handling_level)
    if up is None:
        raise Conflict("cases.top_level", "the city level is the top: nowhere to escalate")
    note = _text(data, "note", required=True)
    before, was = case.status, case.handling_level
    case.status, case.handling_level, case.graded = a.to, up, True
    case.assignee_kind = case.assignee_id = None
    _restart_clock(case, env, now)
    _step(session, case, actor, "escalate", before, now, note, from_level=was, to_level=up)
    return case


def archive(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime,
            env: CaseEnv) -> Case:
    """Close the file (事件归档)."""
    case, a = _begin(session, actor, case_id, "archive")
    before, case.status, case.open, case.archived_at = case.status, a.to, False, now
    _step(session, case, actor, "archive", before, now, _text(data, "note"))
    return case


def merge(session: Session, actor: Actor, case_id: str, data: dict[str, Any], now: datetime, env: CaseEnv) -> Case:
    """The same matter reported again: this case joins the open case ``into`` (which keeps every report and
    reporter) and is archived as merged. Returns the case merged into."""
    case, _ = _begin(session, actor, case_id, "merge")
    into_id = _text(data, "into", required=True, limit=32)
    target = find(session, actor, into_id)
    if target.case_id == case.case_id or not target.open or target.merged_into:
        raise Conflict("cases.merge_target", f"case {into_id} is not an open case to merge into")
    if target.category != case.category:
        raise Invalid("cases.merge_category", "only cases of the same category are merged")
    target.reporters = list(dict.fromkeys([*(target.reporters or []), *(case.reporters or [])]))
    _step(session, target, actor, "merge_in", target.status, now, case.description, merged=case.case_id,
          reporter=case.reporter)
    before = case.status
    case.status, case.open, case.archived_at, case.merged_into = "archived", False, now, target.case_id
    _step(session, case, actor, "merge", before, now, _text(data, "note"), into=target.case_id)
    return target


ACTIONS = {"accept": accept, "grade": grade, "assign": assign, "return": return_, "start": start, "handle": handle,
           "evaluate": evaluate, "escalate": escalate, "archive": archive, "merge": merge}


def act(session: Session, actor: Actor, case_id: str, action: str, data: dict[str, Any], now: datetime,
        env: CaseEnv) -> Case:
    """Dispatch a lifecycle action by its URL verb."""
    fn = ACTIONS.get(action)
    if fn is None:
        raise NotFound("cases.no_action", f"no action {action}; one of {', '.join(ACTIONS)}")
    return fn(session, actor, case_id, data, now, env)
