"""Cases (CONTRACT §6): report, photos, list, detail with history, every lifecycle action; plus the extensions
the pages use (possible duplicates, the daily huddle CSV, merge, the grid worker's heartbeat).

The enums come from ``cases.lifecycle`` and the actions from ``cases.commands.ACTIONS``, so a new status or
action shows here (and in the test that compares the document with the routes) without a second list.
Categories are a string: CONTRACT §6 allows more by configuration (``cases.categories``).
"""

from __future__ import annotations

from cases import lifecycle
from cases.commands import ACTIONS, MAX_NOTE
from dashboard.api.openapi.parts import (BOOL, INT, LEVELS, LOCATION, NUM, OBJ, STR, TIME, answer, array, errors,
                                         nullable, obj, op, path_param, query, ref)

TAG = "cases"
CASE_ID = path_param("case_id", "E-20261205-000017")
GRADED = {"enum": list(lifecycle.LEVELS)}
NOTE = {**STR, "description": f"who/why; at most {MAX_NOTE} characters are kept"}
CATEGORY = {**STR, "maxLength": 32, "description": "dispute | hazard | public_order | environment | request | "
            "key_person | other, and those added by configuration", "examples": list(lifecycle.CATEGORIES)}
ASSIGNEE = obj({"kind": {"enum": list(lifecycle.ASSIGNEE_KINDS)}, "id": STR})

CASE_PROPS = {
    "case_id": STR, "source": {"enum": list(lifecycle.SOURCES)}, "category": STR, "level": {"enum": list(LEVELS)},
    "status": {"enum": list(lifecycle.STATUSES)}, "reported_at": TIME, "updated_at": TIME,
    "deadline": {**nullable(TIME), "description": "accept-by while reported, then handle-by"},
    "overdue": BOOL, "handling_level": {"enum": list(lifecycle.HANDLING_LEVELS)}, "location": LOCATION,
    "description": STR, "reporter": STR, "assignee": nullable(ASSIGNEE), "photos": {**INT, "minimum": 0},
    "alert_id": nullable(STR),
    "evaluation": nullable(obj({"satisfaction": {**INT, "minimum": 1, "maximum": 5}, "on_time": nullable(BOOL)})),
    # extensions (new optional fields)
    "display_level": {"enum": list(LEVELS), "description": "the level shown: green once handled"},
    "graded": BOOL, "reporters": array(STR), "outside_own_cells": BOOL, "merged_into": nullable(STR),
    "feedback": nullable(STR), "reminders": {**INT, "minimum": 0}, "accepted_at": nullable(TIME),
    "handled_at": nullable(TIME), "archived_at": nullable(TIME),
}
CONTRACT_FIELDS = ("case_id", "source", "category", "level", "status", "reported_at", "updated_at", "deadline",
                   "overdue", "handling_level", "location", "description", "reporter", "assignee", "photos",
                   "alert_id", "evaluation")
CASE = obj(CASE_PROPS, required=CONTRACT_FIELDS, closed=True)

STEP = obj({"at": TIME, "action": STR, "from": nullable(STR), "to": STR, "level": nullable(STR), "actor": STR,
            "role": nullable(STR), "note": nullable(STR), "detail": OBJ})
PHOTO = obj({"n": INT, "kind": STR, "camera_id": nullable(STR), "by": nullable(STR), "url": STR, "thumb": STR})
PLACE = obj({"district": STR, "community": STR, "cell": STR, "geometry": {"description": "the cell's polygon "
             "(GeoJSON geometry) or null"},
             "reporters": array(obj({"id": STR, "name": STR, "phone": {**STR, "description": "masked"}}))})
CASE_WITH_HISTORY = obj({**CASE_PROPS, "history": array(STEP)}, required=(*CONTRACT_FIELDS, "history"), closed=True)
CASE_DETAIL = obj({**CASE_PROPS, "history": array(STEP), "photo_list": array(PHOTO), "place": PLACE},
                  required=(*CONTRACT_FIELDS, "history", "photo_list", "place"), closed=True)

REPORT = {
    "type": "object", "required": ["category", "description"],
    "description": "lat and lon, or cell_id, place it in the grid (400 outside the city). A grid worker's report "
                   "is source grid; alert_id makes it source alert.",
    "anyOf": [{"required": ["lat", "lon"]}, {"required": ["cell_id"]}],
    "properties": {
        "category": CATEGORY, "description": {**STR, "minLength": 1},
        "lat": {**NUM, "minimum": -90, "maximum": 90}, "lon": {**NUM, "minimum": -180, "maximum": 180},
        "cell_id": STR, "level": {**GRADED, "default": "yellow", "description": "suggested; graded at acceptance"},
        "handled_on_site": {**BOOL, "default": False, "description": "就地解决: straight to handled, with feedback"},
        "feedback": STR, "alert_id": {**STR, "maxLength": 32},
        "source": {"enum": list(lifecycle.SOURCES), "default": "hotline"},
    }}

# per action: (summary, the fields it reads, the ones it requires)
ACTION_FIELDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "accept": ("受理: graded (level, default the suggested one), the deadline starts", ("note", "level"), ()),
    "grade": ("Re-grade with a reason (note)", ("note", "level"), ("level", "note")),
    "assign": ("转办: to the community, a department or a patrol unit", ("note", "assignee"), ("assignee",)),
    "return": ("The assignee says it is not theirs (note: why): back to accepted", ("note",), ("note",)),
    "start": ("The assignee is on it", ("note",), ()),
    "handle": ("处置反馈: done, with the feedback (note)", ("note", "feedback"), ("note",)),
    "evaluate": ("考核评价: satisfaction 1-5 (1-2 sends it back to assigned) and on time", ("note", "satisfaction",
                 "on_time"), ("satisfaction",)),
    "escalate": ("Push it to the level above (community → district → city); the deadline restarts", ("note",),
                 ("note",)),
    "archive": ("事件归档", ("note",), ()),
    "merge": ("Extension: the same matter reported again joins the open case `into`; answers that case",
              ("note", "into"), ("into",)),
}
FIELD = {"note": NOTE, "level": GRADED, "assignee": ASSIGNEE, "feedback": STR,
         "satisfaction": {**INT, "minimum": 1, "maximum": 5}, "on_time": BOOL, "into": {**STR, "maxLength": 32}}


def _action(name: str) -> dict:
    summary, reads, needs = ACTION_FIELDS[name]
    a = lifecycle.ACTIONS[name]
    body = {"type": "object", "required": list(needs), "properties": {f: FIELD[f] for f in reads},
            "description": "other fields are ignored"}
    return {"post": op(TAG, summary, {"200": answer("the updated case with its history", ref("CaseWithHistory")),
                                      **errors(400, 401, 403, 404, 409,
                                               e409=f"illegal transition (allowed from {', '.join(a.sources)})")},
                       params=[CASE_ID], body=body, description=f"Allowed from: {', '.join(a.sources)}.")}


LIST_PARAMS = [
    query("status", STR, "one status"), query("level", STR), query("category", STR), query("community_id", STR),
    query("overdue", {"enum": ["true", "false", "1", "0"]}, "true: only cases past their deadline"),
    query("open", {"enum": ["true", "false", "1", "0"]}, "extension: true: only cases not archived"),
    query("limit", {**INT, "default": 200}, "extension: at most this many (clamped to 1..1000)"),
]
PHOTO_UPLOAD = {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "photo": {"type": "string", "format": "binary"}}}}}

SCHEMAS = {"Case": CASE, "CaseWithHistory": CASE_WITH_HISTORY, "CaseDetail": CASE_DETAIL, "CaseReport": REPORT}

PATHS = {
    "/api/cases": {
        "post": op(TAG, "Report a case (grid worker, operator, supervisor, admin)", {
            "201": answer("the case with its history", ref("CaseWithHistory")),
            **errors(400, 401, 403, 404, e404="alert_id: no such alert")},
            body=ref("CaseReport"), body_required=True),
        "get": op(TAG, "Cases the caller may see, overdue first then newest", {
            "200": answer("list", array(ref("Case"))), **errors(400, 401, e400="bad overdue or limit")},
            params=LIST_PARAMS)},
    "/api/cases/{case_id}": {"get": op(TAG, "One case with its full history, photos and place names", {
        "200": answer("the case", ref("CaseDetail")), **errors(401, 404)}, params=[CASE_ID])},
    "/api/cases/{case_id}/duplicates": {"get": op(TAG, "Extension: open cases near it, reported shortly before "
                                                  "or after (possible duplicates)", {
        "200": answer("list", array(ref("Case"))), **errors(401, 404)}, params=[CASE_ID])},
    "/api/cases/{case_id}/photos": {"post": op(TAG, "Add a photo (JPEG or PNG, ≤ 5 MB, ≤ 9 per case): raw body or "
                                               "multipart field photo", {
        "201": answer("its number, URL and the case", obj({"n": INT, "url": STR, "case": ref("Case")})),
        **errors(400, 401, 403, 404, 409, e400="not a JPEG/PNG, too large, or too many photos",
                 e409="the case is archived")}, params=[CASE_ID], extra_body=PHOTO_UPLOAD, body_required=True)},
    "/api/cases/{case_id}/photos/{n}.jpg": {"get": op(TAG, "One photo (thumb=1: its thumbnail)", {
        "200": answer("JPEG", media="image/jpeg"), **errors(401, 404)},
        params=[CASE_ID, path_param("n", 1, {**INT, "minimum": 0}), query("thumb", {"enum": ["0", "1"]})])},
    **{f"/api/cases/{{case_id}}/{name}": _action(name) for name in ACTIONS},
    "/api/cases-huddle.csv": {"get": op(TAG, "Extension: the daily huddle (每日碰头) as CSV", {
        "200": answer("CSV with a BOM (Excel)", media="text/csv"), **errors(401)})},
    "/api/grid/heartbeat": {"post": op(TAG, "Extension: the /grid page says its grid worker is online", {
        "200": answer("the worker and how long it counts as online", obj({"worker_id": STR, "online_for_s": INT})),
        **errors(401, 403, e403="not a grid worker's account")})},
}
