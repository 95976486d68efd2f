"""The frame of every desk page: header (brand, navigation, user), title, content; and the 403 page."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.components.shell import nav_bar
from dashboard.context import AppContext


def desk_page(ctx: AppContext, path: str, title_key: str, *children: Any, class_name: str = "") -> html.Div:
    """Header with navigation, the page title, then ``children`` in the main area."""
    return html.Div(className=f"desk-page {class_name}".strip(), children=[
        html.Header(className="desk-header", children=[
            html.Div(ctx.settings.dashboard.center_name, className="desk-brand"),
            nav_bar(ctx, path),
        ]),
        html.Main(className="desk-main", children=[html.H1(ctx.t(title_key), className="desk-title"), *children]),
    ])


def forbidden_layout(ctx: AppContext, path: str) -> html.Div:
    """What a role sees on a page it may not open (the server answers 403 to a direct request)."""
    return html.Div(className="desk-page", children=[
        html.Header(className="desk-header", children=[
            html.Div(ctx.settings.dashboard.center_name, className="desk-brand"), nav_bar(ctx, path),
        ]),
        html.Main(className="desk-main", children=[
            html.H1(ctx.t("auth.forbidden"), className="desk-title desk-forbidden"),
            html.P(path, className="desk-hint"),
            dcc.Link(ctx.t("auth.home"), href="/", className="desk-link"),
        ]),
    ])
