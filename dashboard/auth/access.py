"""Who may open what: the page matrix, the Dash-callback matrix and the same-origin rule (pure tables).

Pages: the wall is for every signed-in role; each desk belongs to its role, and ``admin`` may open all.
Dash callbacks are checked on the server too (``callback_allowed``): a callback whose outputs are components
of a desk (ids prefixed ``desk-<page>-``) is refused with 403 for a role that may not open that page, so a
duty account cannot drive the operator desk by POSTing to ``/_dash-update-component`` by hand.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

PAGE_ROLES: dict[str, frozenset[str]] = {
    "/": frozenset({"operator", "duty", "supervisor", "admin"}),
    "/alerts": frozenset({"operator", "supervisor", "admin"}),
    "/duty": frozenset({"duty", "admin"}),
    "/patrol": frozenset({"supervisor", "admin"}),
    "/admin": frozenset({"admin"}),
    "/assessment": frozenset({"supervisor", "admin"}),
    "/videopatrol": frozenset({"operator", "supervisor", "admin"}),
    # cases (issue #14): the grid worker's phone page and the dispatcher's desk (departments and patrol units
    # handle what is assigned to them there)
    "/grid": frozenset({"grid", "admin"}),
    "/cases": frozenset({"operator", "supervisor", "admin", "department", "duty"}),
}
HOME = {"operator": "/alerts", "duty": "/duty", "supervisor": "/patrol", "admin": "/admin", "grid": "/grid",
        "department": "/cases"}

# component-id prefix -> page whose roles apply
CALLBACK_PREFIXES = {"desk-alerts-": "/alerts", "desk-duty-": "/duty", "desk-patrol-": "/patrol",
                     "desk-admin-": "/admin", "desk-assessment-": "/assessment",
                     "desk-vp-": "/videopatrol"}

# Key persons (issue 15): operators read files and record visits; supervisors and admins also re-grade and
# unmask a person's id (persons.commands.ROLE_ACTIONS); duty units do not handle key persons on this desk.
PAGE_ROLES["/persons"] = frozenset({"operator", "supervisor", "admin"})
CALLBACK_PREFIXES["desk-persons-"] = "/persons"

# Served without a session: the login form, the health check (CONTRACT §3), Prometheus, static files.
PUBLIC_PREFIXES = ("/login", "/auth/session", "/api/health", "/api/openapi.json", "/metrics", "/assets/",
                   "/_dash-component-suites/", "/_favicon.ico", "/favicon.ico")


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES)


def may_open(role: str | None, path: str) -> bool:
    """True if ``role`` may open page ``path`` (unknown paths: any signed-in role, they show 'not found')."""
    if role is None:
        return False
    roles = PAGE_ROLES.get((path or "/").rstrip("/") or "/")
    return roles is None or role in roles


def home_of(role: str) -> str:
    return HOME.get(role, "/")


def _output_ids(body: Any) -> Iterable[str]:
    outputs = body.get("outputs") if isinstance(body, dict) else None
    for out in outputs if isinstance(outputs, list) else [outputs]:
        if isinstance(out, dict):
            ident = out.get("id")
            if isinstance(ident, dict):  # pattern-matching id: its "type" names the component family
                ident = ident.get("type")
            if isinstance(ident, str):
                yield ident
    output = body.get("output") if isinstance(body, dict) else None
    if isinstance(output, str):
        for part in output.strip(".").split("..."):
            yield part.split(".")[0]


def callback_allowed(role: str, body: Any) -> bool:
    """False if any output of this Dash callback request belongs to a page ``role`` may not open."""
    for ident in _output_ids(body):
        for prefix, page in CALLBACK_PREFIXES.items():
            if ident.startswith(prefix) and not may_open(role, page):
                return False
    return True


def same_origin(origin: str | None, referer: str | None, host_url: str) -> bool:
    """A state-changing browser request must come from a page of this server (Origin, else Referer)."""
    own = urlsplit(host_url)
    for source in (origin, referer):
        if source:
            parts = urlsplit(source)
            return (parts.scheme, parts.netloc) == (own.scheme, own.netloc)
    return False


def safe_next(target: str | None) -> str | None:
    """A local path to go to after login, or None (no open redirects: '//host', '/\\host', 'http:')."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target
