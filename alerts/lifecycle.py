"""The alert lifecycle and who may move it: pure tables, shared by the HTTP API, the engine and the docs.

``open → acknowledged → dispatched → on_scene → resolved → closed``
(吹哨 → 转办 → 处置反馈 → 考核评价 → 归档).
Shortcuts a real desk needs: an acknowledged or dispatched alert may be resolved directly (false alarm, solved
by phone), and a dispatched alert may be re-dispatched to another unit. Anything else is illegal (HTTP 409).
"""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("open", "acknowledged", "dispatched", "on_scene", "resolved", "closed")


@dataclass(frozen=True, slots=True)
class Action:
    name: str  # URL verb: POST /api/alerts/{id}/<name>
    to: str  # status after
    sources: tuple[str, ...]  # statuses it may start from
    clock: str | None  # Alert column stamped the first time (response clocks "1-3-5")


ACTIONS: dict[str, Action] = {
    a.name: a
    for a in (
        Action("ack", "acknowledged", ("open",), "acknowledged_at"),
        Action("dispatch", "dispatched", ("acknowledged", "dispatched"), "dispatched_at"),
        Action("on_scene", "on_scene", ("dispatched",), "on_scene_at"),
        Action("resolve", "resolved", ("acknowledged", "dispatched", "on_scene"), "resolved_at"),
        Action("close", "closed", ("resolved",), "closed_at"),
    )
}

# Role matrix: which actions each role may take. "duty" is further limited to alerts dispatched to its unit
# (ROLE_OWN_UNIT_ONLY). Reading alerts is open to every role.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"ack", "dispatch", "on_scene", "resolve"}),
    "duty": frozenset({"ack", "on_scene", "resolve"}),
    "supervisor": frozenset(ACTIONS),
    "admin": frozenset(ACTIONS),
}
ROLE_OWN_UNIT_ONLY = frozenset({"duty"})
SILENCE_ROLES = frozenset({"supervisor", "admin"})


class IllegalTransition(Exception):
    """The alert's status does not allow this action (HTTP 409)."""


class Forbidden(Exception):
    """The user's role does not allow this action on this alert (HTTP 403)."""


def check_transition(action: str, status: str) -> Action:
    """The Action if ``action`` may start from ``status``; IllegalTransition otherwise."""
    a = ACTIONS.get(action)
    if a is None:
        raise IllegalTransition(f"unknown action {action!r}")
    if status not in a.sources:
        raise IllegalTransition(
            f"cannot {action} an alert that is {status} (allowed from: {', '.join(a.sources)})"
        )
    return a


def check_role(role: str, action: str, user_unit: str | None, assignee: str | None) -> None:
    """Forbidden unless ``role`` may take ``action`` on an alert assigned to ``assignee``."""
    if action not in ROLE_ACTIONS.get(role, frozenset()):
        raise Forbidden(f"role {role} may not {action}")
    if role in ROLE_OWN_UNIT_ONLY and (user_unit is None or user_unit != assignee):
        raise Forbidden(f"role {role} may only {action} alerts dispatched to its own unit")
