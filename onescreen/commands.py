"""The shared vocabulary of commands: who acts (``Actor``) and how a command refuses (``CommandError``).

Every write a person can make (an alert action, a silence, a case step, a visit, a re-grading) is one plain
function over ``(session, actor, input, now)`` in its domain package (``alerts/commands.py``,
``cases/commands.py``, …). It checks role, scope and input, writes the change and its audit row, and queues the
announcement, so a rule about who may do what lives in one place. The HTTP API, the desks and the wall are thin
adapters: they build an ``Actor`` from the signed-in account, call the command and turn a ``CommandError`` into
an HTTP status (``status``) or a message in the screen's language (``key`` and ``values``, looked up in the
page's texts).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind a command, with the scope already resolved against the registry.

    ``communities`` is the set of community ids the actor may see and act on, None for the whole city (an
    empty set: nothing). ``cells`` narrows it further for roles bound to cells (a grid worker's own cells).
    """

    username: str
    role: str
    user_id: int | None = None
    scope_node_id: str | None = None
    communities: frozenset[str] | None = None
    cells: frozenset[str] | None = None
    unit_id: str | None = None  # duty: the patrol unit it rides with
    worker_id: str | None = None  # grid: the grid worker it is
    department_id: str | None = None  # department: the department it answers for
    remote_addr: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def sees_community(self, community_id: str | None) -> bool:
        """True if a record placed in ``community_id`` is within the actor's scope."""
        return self.communities is None or community_id in self.communities

    def sees_cell(self, cell_id: str | None, community_id: str | None) -> bool:
        """True if a record placed in ``cell_id`` (of ``community_id``) is within the actor's scope."""
        if self.cells is not None:
            return cell_id in self.cells
        return self.sees_community(community_id)


class CommandError(Exception):
    """A refused command. ``key`` names the message in the screens' texts (with ``values``); ``message`` is
    the English sentence the HTTP API returns; ``status`` the HTTP status an adapter answers with."""

    status = 400

    def __init__(self, key: str, message: str, **values: object):
        super().__init__(message)
        self.key, self.message, self.values = key, message, values

    def to_json(self) -> dict[str, object]:
        return {"error": self.message, "reason": self.key.rsplit(".", 1)[-1]}


class Invalid(CommandError):
    """The input is wrong (HTTP 400): a missing field, a bad value, an unknown unit or assignee."""

    status = 400


class Forbidden(CommandError):
    """The actor's role may not do this (HTTP 403)."""

    status = 403


class NotFound(CommandError):
    """No such record, or one outside the actor's scope: both look the same from outside (HTTP 404)."""

    status = 404


class Conflict(CommandError):
    """The record's state does not allow this step now (HTTP 409): an illegal transition."""

    status = 409
