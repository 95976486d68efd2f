"""The navigation shared by every page (the wall's header and the desk pages)."""

from __future__ import annotations

from dash import dcc, html

from dashboard.context import AppContext
from dashboard.pages.base import PAGES


def nav_bar(ctx: AppContext, active_path: str, class_name: str = "nav") -> html.Nav:
    """Links to every registered page, the current one marked ``active``."""
    return html.Nav(className=class_name, children=[
        dcc.Link(ctx.t(p.title_key), href=p.path,
                 className="nav-link active" if p.path == active_path else "nav-link")
        for p in PAGES
    ])
