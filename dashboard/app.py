"""``create_app(settings)``: the Dash app of the wall screen, the desk pages and the HTTP API.

Read as a list of steps: build the shared context (connections, registry snapshot, texts), create Dash
with every asset served locally (closed networks: no CDN, ever), mount the API blueprints, lay out the
shell, register each page's callbacks, route paths to pages. The app is a plain WSGI app on
``app.server``; ``dashboard.server.DashboardWorker`` serves it with waitress.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from dash import Dash, Input, Output, State, dcc, html

from dashboard import ids, outage
from dashboard.api import metrics, register_api
from dashboard.auth import access, init_auth
from dashboard.auth.sessions import current_user
from dashboard.components.shell import nav_bar
from dashboard.context import AppContext, attach
from dashboard.i18n import LOCALES, Translator
from dashboard.pages import load_pages
from dashboard.readers.snapshot import Registry, RegistrySnapshot
from onescreen.db.session import make_engine
from onescreen.redisconn import connect
from onescreen.settings import Settings

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("assets")

# Dash's default page with the document language set, so the browser picks the CJK font variant (SC).
INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="__LANG__">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        <footer>
            {%config%}
            {%scripts%}
            {%renderer%}
        </footer>
    </body>
</html>"""


def build_context(settings: Settings) -> AppContext:
    """Connections and the registry snapshot (re-read after an import: dashboard.readers.snapshot)."""
    engine = make_engine(settings.database.url, echo=settings.database.echo)
    registry = RegistrySnapshot(engine, settings.city.name, on_load=_registry_metrics)
    return AppContext(settings=settings, t=Translator(settings.dashboard.language),
                      redis=connect(settings.redis, decode=True), engine=engine, registry=registry)


def _registry_metrics(reg: Registry) -> None:
    metrics.STREAMED_CAMERAS.set(len(reg.view.streamed))
    for level in ("city", "district", "community", "cell"):
        metrics.REGISTRY_NODES.labels(level).set(reg.view.count(level))


def _shell(ctx: AppContext) -> html.Div:
    pages = load_pages()
    titles = {p.path: f"{ctx.t(p.title_key)} · {ctx.settings.dashboard.center_name}" for p in pages}
    return html.Div(className=f"app lang-{ctx.settings.dashboard.language}", children=[
        dcc.Location(id=ids.LOCATION, refresh=False),
        dcc.Store(id=ids.PAGE_TITLES, data=titles),
        dcc.Store(id=ids.PAGE_TITLE),
        html.Div(id=ids.PAGE_CONTENT, className="page-content"),
    ])


def _not_found(ctx: AppContext, path: str) -> html.Div:
    return html.Div(className="desk-page", children=[
        html.Header(className="desk-header", children=[
            html.Div(ctx.settings.dashboard.center_name, className="desk-brand"), nav_bar(ctx, path),
        ]),
        html.Main(className="desk-main", children=[html.H1(ctx.t("notfound.title"), className="desk-title"),
                                                   html.P(path, className="desk-hint")]),
    ])


def _register_router(app: Dash, ctx: AppContext) -> None:
    by_path = {p.path: p for p in load_pages()}

    @app.callback(Output(ids.PAGE_CONTENT, "children"), Input(ids.LOCATION, "pathname"))
    def route(pathname: str | None) -> Any:
        """Render the page registered on this path (trailing slash ignored)."""
        path = (pathname or "/").rstrip("/") or "/"
        page = by_path.get(path)
        if page is None:
            return _not_found(ctx, path)
        user = current_user()  # the gate let this request in; a client-side link may still lead anywhere
        if not access.may_open(user.role if user else None, path):
            from dashboard.desk.layout import forbidden_layout

            return forbidden_layout(ctx, path)
        return page.layout(ctx)

    app.clientside_callback(
        "function(path, titles) { var t = titles && titles[(path || '/').replace(/(.)\\/$/, '$1')];"
        " if (t) { document.title = t; } return t || null; }",
        Output(ids.PAGE_TITLE, "data"), Input(ids.LOCATION, "pathname"), State(ids.PAGE_TITLES, "data"),
    )


def create_app(settings: Settings) -> Dash:
    """The dashboard app for these settings; its Flask server is ``app.server``."""
    ctx = build_context(settings)
    app = Dash(
        __name__,
        serve_locally=True,            # every JS/CSS bundle from this server (closed networks)
        assets_folder=str(ASSETS),
        title=f"{ctx.t('app.title')} · {settings.dashboard.center_name}",
        update_title=None,             # no "Updating..." flicker in the kiosk's title
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        suppress_callback_exceptions=False,
    )
    app.index_string = INDEX_TEMPLATE.replace("__LANG__", LOCALES[settings.dashboard.language])
    attach(app.server, ctx)
    outage.install(app.server, ctx)  # a Redis/database outage: 503s and one log line, not a traceback each
    init_auth(app.server, ctx)  # sessions, CSRF, role gate (dashboard/auth)
    register_api(app.server)
    app.layout = _shell(ctx)
    pages = load_pages()
    for page in pages:
        if page.register_callbacks is not None:
            page.register_callbacks(app, ctx)
    _register_router(app, ctx)
    # Every page's components, so Dash can check callback ids that are not in the initial shell.
    app.validation_layout = html.Div([_shell(ctx), *[page.layout(ctx) for page in pages]])
    log.info("dashboard app created: %d pages, language %s", len(pages), settings.dashboard.language)
    return app
