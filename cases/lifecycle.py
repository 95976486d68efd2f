"""The case lifecycle of CONTRACT §6 and who may move it: pure tables, shared by the API, the desks and the docs.

``reported → accepted → assigned → in_progress → handled → evaluated → archived``
(网格吹哨 → 分级转办 → 处置反馈 → 考核评价 → 事件归档), plus:

- ``grade``: re-grade with a reason (status unchanged);
- ``return``: the assignee says it is not theirs → back to ``accepted``;
- ``escalate``: the handling level pushes it up (community → district → city) → ``accepted`` at the new level,
  the deadline restarts;
- ``evaluate`` with satisfaction ≤ ``UNSATISFIED_MAX`` sends it back to ``assigned`` (reopened);
- on-the-spot resolution (就地解决): ``report`` with ``handled_on_site`` lands in ``handled`` directly.

Anything else is illegal (HTTP 409). Roles (CONTRACT §3 + §6): ``grid`` reports and records visits;
``operator`` and ``supervisor`` run the desk in their scope; ``department`` and ``duty`` (a patrol unit) take
what is assigned to them; ``admin`` may do everything.
"""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("reported", "accepted", "assigned", "in_progress", "handled", "evaluated", "archived")
LEVELS = ("red", "orange", "yellow")  # graded levels; a handled case shows green (display only)
LEVEL_RANK = {"red": 0, "orange": 1, "yellow": 2}
HANDLING_LEVELS = ("community", "district", "city")
ASSIGNEE_KINDS = ("community", "department", "unit")
SOURCES = ("grid", "hotline", "alert", "video_patrol")
CATEGORIES = ("dispute", "hazard", "public_order", "environment", "request", "key_person", "other")
UNSATISFIED_MAX = 2  # satisfaction 1..5; 1–2 reopens the case
OPEN_STATUSES = ("reported", "accepted", "assigned", "in_progress")  # deadline running: can be overdue
DONE_STATUSES = ("handled", "evaluated", "archived")


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # URL verb: POST /api/cases/{id}/<name>
    to: str | None  # status after (None: unchanged, or decided by the command: evaluate)
    sources: tuple[str, ...]  # statuses it may start from


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("accept", "accepted", ("reported",)),
        Action("grade", None, ("reported", "accepted", "assigned", "in_progress")),
        Action("assign", "assigned", ("accepted", "assigned")),
        Action("return", "accepted", ("assigned", "in_progress")),
        Action("start", "in_progress", ("assigned",)),
        Action("handle", "handled", ("assigned", "in_progress")),
        Action("evaluate", None, ("handled",)),
        Action("escalate", "accepted", ("reported", "accepted", "assigned", "in_progress")),
        Action("archive", "archived", ("evaluated",)),
        Action("merge", None, ("reported", "accepted")),  # the new report joins an open case: this one archives
    )
}

DESK = frozenset({"accept", "grade", "assign", "escalate", "evaluate", "archive", "merge", "return", "start",
                  "handle"})
# Role matrix. "department" and "duty" only act on cases assigned to them (ASSIGNEE_ONLY).
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "operator": DESK - {"archive"},
    "supervisor": DESK,
    "admin": DESK,
    "department": frozenset({"return", "start", "handle"}),
    "duty": frozenset({"return", "start", "handle"}),
    "grid": frozenset({"evaluate"}),  # the reporting side evaluates its own reports (CONTRACT §6)
}
ASSIGNEE_ONLY = {"department": "department", "duty": "unit"}
REPORT_ROLES = frozenset({"grid", "operator", "supervisor", "admin"})
PHOTO_ROLES = frozenset({"grid", "operator", "supervisor", "admin", "department", "duty"})
NEXT_LEVEL = {"community": "district", "district": "city"}


class IllegalTransition(Exception):
    """The case's status does not allow this action (HTTP 409)."""


class RoleRefused(Exception):
    """The role may not take this action on this case (HTTP 403)."""


def check_transition(action: str, status: str) -> Action:
    """The Action if ``action`` may start from ``status``; IllegalTransition otherwise."""
    a = ACTIONS.get(action)
    if a is None:
        raise IllegalTransition(f"unknown action {action!r}")
    if status not in a.sources:
        raise IllegalTransition(f"cannot {action} a case that is {status} (allowed from: {', '.join(a.sources)})")
    return a


def check_role(role: str, action: str, *, own_assignment: bool, own_report: bool) -> None:
    """RoleRefused unless ``role`` may take ``action`` (an assignee role: on what is assigned to it; grid: its
    own reports)."""
    if action not in ROLE_ACTIONS.get(role, frozenset()):
        raise RoleRefused(f"role {role} may not {action} a case")
    if role in ASSIGNEE_ONLY and not own_assignment:
        raise RoleRefused(f"role {role} may only {action} cases assigned to it")
    if role == "grid" and not own_report:
        raise RoleRefused("a grid worker may only evaluate its own reports")


def evaluated_status(satisfaction: int) -> str:
    """Where an evaluation leads: unsatisfied (1..UNSATISFIED_MAX) reopens the case, else ``evaluated``."""
    return "assigned" if satisfaction <= UNSATISFIED_MAX else "evaluated"


def display_level(level: str, status: str) -> str:
    """The colour a screen shows: a handled case is green (CONTRACT §3 levels)."""
    return "green" if status in DONE_STATUSES else level
