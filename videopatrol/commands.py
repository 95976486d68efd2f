"""Video patrol commands and queries: each write one function over ``(session, actor, input, now)``.

Who may do what: supervisors and admins keep the plans; operators, supervisors and admins patrol (start a
round, mark each camera 正常/异常, finish it). Scope: a plan's cameras must all lie in the actor's communities,
and a plan or round outside them is "not found". Every write adds its audit row in the same transaction.

An 异常 (abnormal) mark opens a case through the cases command layer (``cases.commands.report``, source
``video_patrol``, CONTRACT §6) in the same transaction as the mark, with the camera's latest frame as its
evidence photo; the mark keeps the case id. The caller commits and then announces the case
(``cases.store.announce_changed``), as every cases adapter does.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases import commands as case_commands
from cases.commands import CaseEnv
from cases.photos import PhotoRefused, check_photo
from onescreen import names
from onescreen.commands import Actor, Conflict, Forbidden, Invalid, NotFound
from onescreen.db.models import (
    AuditLog,
    Camera,
    CasePhoto,
    GridNode,
    VideoPatrolMark,
    VideoPatrolPlan,
    VideoPatrolRound,
)
from videopatrol.schedule import due_times, missed

log = logging.getLogger(__name__)

PLANNERS = ("supervisor", "admin")
PATROLLERS = ("operator", "supervisor", "admin")
VERDICTS = ("normal", "abnormal")
_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")
MAX_CAMERAS = 200


@dataclass(frozen=True, slots=True)
class PlanInput:
    """A plan as a person enters it; ``plan_id`` None creates one."""

    name: str
    cameras: list[str]
    seconds_per_camera: int = 20
    every_min: int = 120
    start: str = "20:00"
    end: str = "06:00"
    scope_node_id: str | None = None
    plan_id: int | None = None
    active: bool = True


def _role(actor: Actor, roles: tuple[str, ...]) -> None:
    if actor.role not in roles:
        raise Forbidden("vp.err.role", f"role {actor.role} may not do this")


def _audit(session: Session, actor: Actor, action: str, target: str, detail: dict[str, Any]) -> None:
    """The audit row joins the caller's transaction (as in persons/ and cases/: no dependency on the dashboard)."""
    session.add(AuditLog(actor=actor.username[:64], user_id=actor.user_id, role=actor.role, action=action,
                         target=target[:300], detail=detail, remote_addr=actor.remote_addr))


def camera_communities(session: Session, camera_ids: list[str]) -> dict[str, str]:
    """camera id -> its community id, for the cameras that exist."""
    rows = session.execute(select(Camera.id, GridNode.parent_id).join(GridNode, GridNode.id == Camera.cell_id)
                           .where(Camera.id.in_(camera_ids))).all()
    return {cid: comm for cid, comm in rows}


def _check_plan(session: Session, actor: Actor, inp: PlanInput) -> None:
    if not isinstance(inp.name, str) or not inp.name.strip() or len(inp.name) > 200:
        raise Invalid("vp.err.name", "name must be 1..200 characters")
    if not inp.cameras or len(inp.cameras) > MAX_CAMERAS or len(set(inp.cameras)) != len(inp.cameras):
        raise Invalid("vp.err.cameras", f"cameras must be 1..{MAX_CAMERAS} distinct camera ids")
    if not (5 <= int(inp.seconds_per_camera) <= 600):
        raise Invalid("vp.err.seconds", "seconds_per_camera must be 5..600")
    if not (10 <= int(inp.every_min) <= 1440):
        raise Invalid("vp.err.every", "every_min must be 10..1440")
    for hhmm in (inp.start, inp.end):
        if not isinstance(hhmm, str) or not _HHMM.fullmatch(hhmm):
            raise Invalid("vp.err.time", f"{hhmm!r} is not a time HH:MM")
    found = camera_communities(session, inp.cameras)
    unknown = [c for c in inp.cameras if c not in found or not actor.sees_community(found[c])]
    if unknown:  # outside the scope looks like unknown: no leak of what exists elsewhere
        raise Invalid("vp.err.camera_unknown", f"unknown camera(s): {', '.join(unknown[:5])}")
    if inp.scope_node_id is not None and session.get(GridNode, inp.scope_node_id) is None:
        raise Invalid("vp.err.scope", f"unknown scope node {inp.scope_node_id!r}")


def save_plan(session: Session, actor: Actor, inp: PlanInput, now: datetime) -> int:
    """Create or change a plan (supervisor, admin); its id. Audited ``videopatrol_plan``."""
    _role(actor, PLANNERS)
    _check_plan(session, actor, inp)
    if inp.plan_id is None:
        plan = VideoPatrolPlan(created_by=actor.username, created_at=now)
        session.add(plan)
    else:
        plan = _plan_in_scope(session, actor, inp.plan_id)
    plan.name, plan.cameras = inp.name.strip(), list(inp.cameras)
    plan.seconds_per_camera, plan.every_min = int(inp.seconds_per_camera), int(inp.every_min)
    plan.start, plan.end, plan.scope_node_id, plan.active = inp.start, inp.end, inp.scope_node_id, inp.active
    session.flush()
    _audit(session, actor, "videopatrol_plan", str(plan.id), {"name": plan.name, "cameras": len(plan.cameras)})
    return plan.id


def _plan_in_scope(session: Session, actor: Actor, plan_id: int) -> VideoPatrolPlan:
    plan = session.get(VideoPatrolPlan, plan_id)
    if plan is None:
        raise NotFound("vp.err.no_plan", f"no plan {plan_id}")
    comms = camera_communities(session, plan.cameras)
    if not all(actor.sees_community(comms.get(c)) for c in plan.cameras):
        raise NotFound("vp.err.no_plan", f"no plan {plan_id}")
    return plan


def start_round(session: Session, actor: Actor, plan_id: int, now: datetime) -> int:
    """Start walking a plan's cameras (operator, supervisor, admin); the round's id."""
    _role(actor, PATROLLERS)
    plan = _plan_in_scope(session, actor, plan_id)
    if not plan.active:
        raise Conflict("vp.err.inactive", f"plan {plan_id} is not active")
    rnd = VideoPatrolRound(plan_id=plan.id, started_at=now, by=actor.username, user_id=actor.user_id)
    session.add(rnd)
    session.flush()
    _audit(session, actor, "videopatrol_start", str(rnd.id), {"plan_id": plan.id})
    return rnd.id


def _round_of(session: Session, actor: Actor, round_id: int) -> tuple[VideoPatrolRound, VideoPatrolPlan]:
    rnd = session.get(VideoPatrolRound, round_id)
    if rnd is None:
        raise NotFound("vp.err.no_round", f"no round {round_id}")
    try:
        plan = _plan_in_scope(session, actor, rnd.plan_id)
    except NotFound:
        raise NotFound("vp.err.no_round", f"no round {round_id}") from None
    return rnd, plan


def mark_camera(session: Session, actor: Actor, round_id: int, camera_id: str, verdict: str, note: str | None,
                now: datetime, env: CaseEnv, category: str = "public_order") -> int:
    """Mark one camera of a running round 正常 (normal) or 异常 (abnormal, note required); the mark's id.

    An 异常 mark opens a case (``category``, default 治安 ``public_order``) in the same transaction."""
    _role(actor, PATROLLERS)
    rnd, plan = _round_of(session, actor, round_id)
    if rnd.finished_at is not None:
        raise Conflict("vp.err.finished", f"round {round_id} is finished")
    if rnd.by != actor.username:
        raise Conflict("vp.err.not_yours", f"round {round_id} is {rnd.by}'s")
    if camera_id not in plan.cameras:
        raise Invalid("vp.err.not_in_plan", f"camera {camera_id} is not in the plan")
    if verdict not in VERDICTS:
        raise Invalid("vp.err.verdict", f"verdict must be one of {', '.join(VERDICTS)}")
    note = (note or "").strip() or None
    if verdict == "abnormal" and note is None:
        raise Invalid("vp.err.note", "an abnormal mark needs a note")
    if note is not None and len(note) > 2000:
        raise Invalid("vp.err.note_long", "note longer than 2000 characters")
    if verdict == "abnormal" and category not in env.categories:
        raise Invalid("vp.err.category", f"category must be one of {', '.join(env.categories)}")
    exists = session.scalar(select(VideoPatrolMark.id).where(VideoPatrolMark.round_id == rnd.id,
                                                             VideoPatrolMark.camera_id == camera_id))
    if exists is not None:
        raise Conflict("vp.err.marked", f"camera {camera_id} is already marked in round {round_id}")
    mark = VideoPatrolMark(round_id=rnd.id, camera_id=camera_id, verdict=verdict, note=note, at=now,
                           by=actor.username)
    session.add(mark)
    session.flush()
    if verdict == "abnormal":
        mark.case_id = open_case_for_mark(session, actor, mark, now, env, category)
    _audit(session, actor, "videopatrol_mark", f"{rnd.id}/{camera_id}", {"verdict": verdict,
                                                                         "case_id": mark.case_id})
    return mark.id


def open_case_for_mark(session: Session, actor: Actor, mark: VideoPatrolMark, now: datetime, env: CaseEnv,
                       category: str = "public_order") -> str:
    """Report the 异常 as a case (source ``video_patrol``) at the camera's place, the note as its description,
    and keep the camera's latest frame as the case's evidence photo; the new case id.

    The case is reported with the nearby-frames evidence switched off: the one frame that matters is the one
    the operator looked at, attached here (none when Redis has no frame or is down: the case still opens).
    """
    cam = session.get(Camera, mark.camera_id)
    if cam is None:
        raise Invalid("vp.err.camera_unknown", f"unknown camera(s): {mark.camera_id}")
    where: dict[str, Any] = ({"lat": cam.lat, "lon": cam.lon} if env.places.locate(cam.lat, cam.lon) is not None
                             else {"cell_id": cam.cell_id})
    quiet = CaseEnv(env.settings.model_copy(update={"camera_frames": 0}), env.tz, env.places, None)
    case = case_commands.report(session, actor, {"category": category, "description": mark.note,
                                                 "source": "video_patrol", **where}, now, quiet)
    _attach_frame(session, case, cam.id, env, now)
    return case.case_id


def _attach_frame(session: Session, case: Any, camera_id: str, env: CaseEnv, now: datetime) -> None:
    if env.redis is None:
        return
    try:
        jpeg = env.redis.get(names.camera_snapshot(camera_id))
    except Exception:  # noqa: BLE001 - evidence is a bonus; the case must not fail on it
        log.warning("no frame of camera %s for case %s: Redis unreachable", camera_id, case.case_id)
        return
    if not isinstance(jpeg, bytes | bytearray) or not jpeg:  # none, or a decoding client (a bug of the caller)
        return
    try:
        photo = check_photo(bytes(jpeg), 10 * env.settings.max_photo_bytes, env.settings.photo_max_side)
    except PhotoRefused:
        log.warning("the frame of camera %s is not an image; case %s has none", camera_id, case.case_id)
        return
    # a fresh case reported with frames off holds no photo yet: this is its first (kind "camera", as
    # cases.commands keeps nearby frames; not counted in ``case.photos``, the field photos)
    session.add(CasePhoto(case_pk=case.id, n=1, kind="camera", camera_id=camera_id, taken_at=now,
                          uploaded_by="system", width=photo.width, height=photo.height, jpeg=photo.jpeg,
                          thumb=photo.thumb))


def finish_round(session: Session, actor: Actor, round_id: int, now: datetime) -> None:
    """End a round (the one who started it); cameras left unmarked stay unmarked in the log."""
    _role(actor, PATROLLERS)
    rnd, _plan = _round_of(session, actor, round_id)
    if rnd.finished_at is not None:
        raise Conflict("vp.err.finished", f"round {round_id} is finished")
    if rnd.by != actor.username:
        raise Conflict("vp.err.not_yours", f"round {round_id} is {rnd.by}'s")
    rnd.finished_at = now
    _audit(session, actor, "videopatrol_finish", str(rnd.id), {})


# ---------------------------------------------------------------- queries
def plans(session: Session, actor: Actor) -> list[VideoPatrolPlan]:
    """The plans whose cameras all lie in the actor's scope, by name."""
    rows = session.scalars(select(VideoPatrolPlan).order_by(VideoPatrolPlan.name)).all()
    every = sorted({c for p in rows for c in p.cameras})
    comms = camera_communities(session, every)
    return [p for p in rows if all(actor.sees_community(comms.get(c)) for c in p.cameras)]


def patrol_log(session: Session, actor: Actor, since: datetime) -> list[dict[str, Any]]:
    """Who patrolled which cameras when, newest first: one entry per round with its marks, in scope."""
    visible = {p.id: p for p in plans(session, actor)}
    rounds = session.scalars(select(VideoPatrolRound).where(VideoPatrolRound.started_at >= since)
                             .order_by(VideoPatrolRound.started_at.desc())).all()
    out = []
    for r in rounds:
        if r.plan_id not in visible:
            continue
        marks = session.scalars(select(VideoPatrolMark).where(VideoPatrolMark.round_id == r.id)
                                .order_by(VideoPatrolMark.at)).all()
        out.append({"round_id": r.id, "plan": visible[r.plan_id].name, "by": r.by, "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "marks": [{"camera_id": m.camera_id, "verdict": m.verdict, "note": m.note, "at": m.at,
                               "case_id": m.case_id} for m in marks]})
    return out


def missed_rounds(session: Session, actor: Actor, since: datetime, until: datetime,
                  grace_min: int = 30) -> list[tuple[VideoPatrolPlan, datetime]]:
    """The due rounds of the active plans in scope that nobody started on time, oldest first (a plan owes
    nothing from before it was made).

    ``since``/``until`` are aware datetimes in the city's timezone (the plans' times are local).
    """
    out: list[tuple[VideoPatrolPlan, datetime]] = []
    for plan in plans(session, actor):
        if not plan.active:
            continue
        created = plan.created_at if plan.created_at.tzinfo else plan.created_at.replace(tzinfo=UTC)
        due = due_times(plan.start, plan.end, plan.every_min, max(since, created.astimezone(since.tzinfo)), until)
        started = [s if s.tzinfo else s.replace(tzinfo=UTC) for s in session.scalars(
            select(VideoPatrolRound.started_at).where(VideoPatrolRound.plan_id == plan.id))]
        out += [(plan, t) for t in missed(due, started, plan.every_min, grace_min)]
    return sorted(out, key=lambda pt: pt[1])
