"""The case pages: ``/grid`` (the grid worker's phone, 390×844) and ``/cases`` (the dispatcher's desk).

Plain server-rendered shells with one small local script each (no CDN, no Dash bundle: ``/grid`` must open
on a slow mobile link), driving the cases HTTP API (``dashboard/api/cases.py``) with the session cookie. The
page gate (``dashboard.auth``) has already checked the session and the role (``access.PAGE_ROLES``); the
script gets its texts (``cases.*`` in the screen's language), the actor's cells or desk choices as JSON.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson
from flask import Blueprint, Response
from sqlalchemy.orm import Session

from cases import lifecycle
from cases.places import places_for
from cases.scope import actor_of
from dashboard.auth.sessions import csrf_token, current_user
from dashboard.context import app_context
from onescreen.db.models import PatrolUnit, User
from persons.cadence import METHODS

STATIC = Path(__file__).with_name("cases_static")
bp = Blueprint("case_pages", __name__, static_folder=str(STATIC), static_url_path="/cases-static")

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{title}</title><link rel="stylesheet" href="/cases-static/cases.css"></head>
<body class="cases-page {body_class}">
<header class="cases-head"><span class="cases-brand">{center}</span><h1>{title}</h1><nav class="cases-nav">{nav}</nav>
<form action="/logout" method="POST" class="cases-user"><span>{user}</span>
<input type="hidden" name="csrf_token" value="{csrf}"><button id="logout-button" type="submit">{logout}</button></form>
</header>
<main id="{main_id}" class="cases-main"></main>
<script type="application/json" id="cases-data">{data}</script>
<script src="/cases-static/common.js"></script><script src="/cases-static/{script}"></script>
</body></html>"""


def _texts() -> dict[str, str]:
    t = app_context().t
    from dashboard.i18n import TEXTS

    return {k: t(k) for k in TEXTS["zh"] if k.startswith(("cases.", "persons.err."))}


def _render(title_key: str, main_id: str, script: str, body_class: str, data: dict[str, Any]) -> Response:
    ctx = app_context()
    user = current_user()
    from dashboard.auth.access import may_open
    from dashboard.pages import load_pages

    nav = "".join(f'<a href="{p.path}" class="nav-link">{html.escape(ctx.t(p.title_key))}</a>'
                  for p in load_pages() if user is not None and may_open(user.role, p.path))
    page = PAGE.format(lang=ctx.t.locale, nav=nav, title=html.escape(ctx.t(title_key)),
                       center=html.escape(ctx.settings.dashboard.center_name),
                       user=html.escape(user.username if user else ""), csrf=html.escape(csrf_token()),
                       logout=html.escape(ctx.t("auth.logout")), main_id=main_id, script=script,
                       body_class=body_class,
                       data=orjson.dumps({**data, "texts": _texts()}).decode().replace("</", "<\\/"))
    return Response(page, mimetype="text/html", headers={"Cache-Control": "no-store"})


def _account() -> tuple[User, Any]:
    ctx = app_context()
    places = places_for(ctx.engine)
    with Session(ctx.engine) as s:
        user = s.get(User, current_user().id)
        s.expunge(user)
    return user, places


@bp.get("/grid")
def grid_page() -> Response:
    """The grid worker's phone page: report, my reports, my cells' open cases, my key persons (record a visit
    through ``POST /api/persons/{id}/visits``), heartbeat."""
    user, places = _account()
    worker = places.workers.get(user.worker_id or "")
    cells = []
    for cid in (worker[1] if worker else []):
        node = places.reg.node(cid)
        if node is not None:
            cells.append({"id": cid, "name": node.name, "community": places.name(places.reg.community_of(cid)),
                          "geometry": node.geometry, "lat": node.lat, "lon": node.lon})
    from cases.places import mask_phone

    data = {"worker": user.worker_id, "worker_name": worker[0] if worker else user.username, "cells": cells,
            "phone": mask_phone(worker[2]) if worker else "",
            "categories": list(lifecycle.CATEGORIES + tuple(app_context().settings.cases.extra_categories)),
            "suggest": {"dispute": "orange", "hazard": "orange", "public_order": "orange", "key_person": "orange"},
            "max_photos": app_context().settings.cases.max_photos, "heartbeat_s": 30,
            "visit_methods": list(METHODS)}
    return _render("cases.title.grid", "grid-app", "grid.js", "phone", data)


@bp.get("/cases")
def desk_page() -> Response:
    """The dispatcher's desk: queue, detail, every action, hotline intake, the daily huddle."""
    user, places = _account()
    actor = actor_of(user, places)
    ctx = app_context()
    with Session(ctx.engine) as s:
        units = [u for (u,) in s.query(PatrolUnit.id).order_by(PatrolUnit.id)]
    comms = [c for c in places.reg.nodes_at("community") if actor.sees_community(c)]
    data = {"role": user.role, "username": user.username,
            "actions": {a.name: list(a.sources) for a in lifecycle.ACTIONS.values()},
            "role_actions": sorted(lifecycle.ROLE_ACTIONS.get(user.role, ())),
            "categories": list(lifecycle.CATEGORIES + tuple(ctx.settings.cases.extra_categories)),
            "departments": [{"id": k, "name": v} for k, v in sorted(places.departments.items())],
            "units": units, "communities": [{"id": c, "name": places.name(c)} for c in comms],
            "cells": {c: places.name(c) for c in places.cell_ids if actor.sees_community(places.reg.community_of(c))},
            "names": {n: places.name(n) for n in (*comms, *places.reg.nodes_at("district"))}}
    return _render("cases.title.desk", "desk-app", "desk.js", "desk", data)
