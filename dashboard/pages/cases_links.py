"""The case pages in the desks' navigation bar (issue #14).

``/grid`` and ``/cases`` are plain pages served by ``dashboard.cases_pages`` (no Dash bundle: the phone page
must open on a slow link). Registered here as well, so the shared navigation bar links to them for the roles
that may open them; a click inside Dash lands on this layout, which loads the real page.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.pages.base import Page, register


def _go(path: str, ident: str):
    def layout(_ctx) -> html.Div:
        return html.Div([dcc.Location(id=ident, href=path, refresh=True)])
    return layout


register(Page(path="/cases", title_key="nav.cases", order=25, layout=_go("/cases", "cases-link-desk")))
register(Page(path="/grid", title_key="nav.grid", order=26, layout=_go("/grid", "cases-link-grid")))
