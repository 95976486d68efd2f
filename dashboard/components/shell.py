"""The navigation shared by every page (the wall's header and the desk pages)."""

from __future__ import annotations

from dash import dcc, html

from dashboard.context import AppContext
from dashboard.pages.base import PAGES


def nav_bar(ctx: AppContext, active_path: str, class_name: str = "nav") -> html.Nav:
    """Links to the registered pages the signed-in user may open (the current one marked ``active``), then
    the user's name and role and a logout button (``dashboard.auth``; none outside a request)."""
    from dashboard.auth.access import may_open
    from dashboard.auth.sessions import current_user

    user = current_user()
    links = [
        dcc.Link(ctx.t(p.title_key), href=p.path,
                 className="nav-link active" if p.path == active_path else "nav-link")
        for p in PAGES if user is None or may_open(user.role, p.path)
    ]
    return html.Nav(className=class_name, children=links + ([user_box(ctx, user)] if user else []))


def user_box(ctx: AppContext, user) -> html.Form:
    """Who is signed in, and the logout form (a POST with the session's CSRF token)."""
    from dashboard.auth.sessions import csrf_token

    return html.Form(action="/logout", method="POST", className="nav-user", children=[
        html.Span(f"{user.username} · {ctx.t('role.' + user.role)}", className="nav-user-name"),
        dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
        html.Button(ctx.t("auth.logout"), id="logout-button", type="submit", className="nav-logout"),
    ])
