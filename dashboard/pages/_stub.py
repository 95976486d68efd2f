"""Shared body of the pages that later issues will build, so the navigation already works end to end."""

from __future__ import annotations

from dash import dcc, html

from dashboard.components.shell import nav_bar
from dashboard.context import AppContext


def stub_layout(ctx: AppContext, path: str, title_key: str) -> html.Div:
    """A normal-size page: navigation, title and the "under construction" note."""
    t = ctx.t
    return html.Div(className="desk-page", children=[
        html.Header(className="desk-header", children=[
            html.Div(ctx.settings.dashboard.center_name, className="desk-brand"),
            nav_bar(ctx, path),
        ]),
        html.Main(className="desk-main", children=[
            html.H1(t(title_key), className="desk-title"),
            html.P(t("stub.status"), className="desk-stub-status"),
            html.P(t("stub.hint"), className="desk-stub-hint"),
            dcc.Link(t("stub.back"), href="/", className="desk-link"),
        ]),
    ])
