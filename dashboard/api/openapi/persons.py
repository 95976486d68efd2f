"""Key persons (CONTRACT §7): the scoped list, one person's file (一人一档), record a visit, re-grade.

Read by operator, supervisor, admin and a grid worker (its own persons); re-graded by supervisor and admin.
Every file read is audited. The levels and visit methods come from ``persons.cadence``.
"""

from __future__ import annotations

from dashboard.api.openapi.parts import (BOOL, STR, TIME, answer, array, errors, nullable, obj, op, path_param,
                                         query, ref)
from persons.cadence import LEVELS, METHODS
from persons.commands import NOTE_MAX, REASON_MAX, VISIT_PAST_DAYS

TAG = "persons"
PERSON_ID = path_param("person_id", "p-7f3a9c")
LEVEL = {"enum": list(LEVELS)}

SUMMARY_PROPS = {
    "person_id": STR, "level": LEVEL, "home_community_id": STR, "category": nullable(STR), "officer": nullable(STR),
    "grid_worker_id": nullable(STR), "plan": nullable(STR), "last_visit": nullable(TIME),
    "next_visit_due": nullable(TIME), "visit_overdue": BOOL,
}
VISIT = obj({"at": TIME, "method": {"enum": list(METHODS)}, "by": STR, "note": nullable(STR), "recorded_at": TIME})
FILE_PARTS = {
    "level_history": array(obj({"at": TIME, "from": nullable(STR), "to": LEVEL, "by": STR, "reason": nullable(STR)})),
    "sightings": array(obj({"at": TIME, "door_id": nullable(STR), "community_id": nullable(STR),
                            "cell_id": nullable(STR), "direction": nullable(STR), "result": nullable(STR)})),
    "alerts": array(obj({"alert_id": STR, "rule": STR, "level": STR, "status": STR, "opened_at": TIME,
                         "community_id": nullable(STR)})),
    "cases": array(obj({"case_id": STR, "category": STR, "level": STR, "status": STR, "reported_at": TIME,
                        "alert_id": STR, "community_id": nullable(STR)},
                       description="cases made of an alert about the person")),
    "visits": array(VISIT),
}
SUMMARY = obj(SUMMARY_PROPS, closed=True)
FILE = obj({**SUMMARY_PROPS, **FILE_PARTS}, closed=True,
           description="the summary plus level history (newest first), door sightings of the last days, alerts, "
                       "cases and visits (newest first)")

VISIT_INPUT = {"type": "object", "required": ["method"], "description": "other fields are ignored", "properties": {
    "method": {"enum": list(METHODS)},
    "at": {"type": ["string", "integer"], "description": f"when (default now): ISO 8601 with offset or epoch ms; "
           f"not in the future, at most {VISIT_PAST_DAYS} days ago"},
    "note": {**STR, "maxLength": NOTE_MAX}}}
GRADE_INPUT = {"type": "object", "required": ["level"], "description": "reason (or note) is required",
               "properties": {"level": LEVEL, "reason": {**STR, "maxLength": REASON_MAX},
                              "note": {**STR, "description": "taken as the reason when reason is absent"}}}

SCHEMAS = {"PersonSummary": SUMMARY, "PersonFile": FILE, "Visit": {**VISIT, "properties": {
    **VISIT["properties"], "person_id": STR}, "required": [*VISIT["required"], "person_id"]},
    "VisitInput": VISIT_INPUT, "GradeInput": GRADE_INPUT}

PATHS = {
    "/api/persons": {"get": op(TAG, "Key persons in the caller's area: overdue visits first, then by level", {
        "200": answer("list", array(ref("PersonSummary"))),
        **errors(400, 401, 403, e400="bad level or visit_overdue", e403="role may not read key persons")}, params=[
        query("level", LEVEL), query("community_id", STR), query("visit_overdue", {"enum": ["true", "false"]})])},
    "/api/persons/{person_id}": {"get": op(TAG, "One person's file (audited)", {
        "200": answer("the file", ref("PersonFile")), **errors(401, 403, 404)}, params=[PERSON_ID])},
    "/api/persons/{person_id}/visits": {"post": op(TAG, "Record a visit (走访)", {
        "201": answer("the visit", ref("Visit")), **errors(400, 401, 403, 404)},
        params=[PERSON_ID], body=ref("VisitInput"), body_required=True)},
    "/api/persons/{person_id}/grade": {"post": op(TAG, "Re-grade with a reason (supervisor, admin)", {
        "200": answer("the file after the change", ref("PersonFile")),
        **errors(400, 401, 403, 404, 409, e409="the person is already at that level")},
        params=[PERSON_ID], body=ref("GradeInput"), body_required=True)},
}
