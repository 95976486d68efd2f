"""Alerts (CONTRACT §3): list, detail with history, lifecycle actions, evidence frame, silences (extension).

Roles: operator ack/dispatch/on_scene/resolve; duty ack/on_scene/resolve on alerts dispatched to its unit;
supervisor and admin everything, close and silences included. The actions are read from
``alerts.lifecycle.ACTIONS`` so a new one cannot be left out here.
"""

from __future__ import annotations

from alerts.lifecycle import ACTIONS
from dashboard.api.openapi.parts import (BOOL, INT, LEVELS, LOCATION, NUM, OBJ, STR, TIME, answer, array, errors,
                                         nullable, obj, op, path_param, query, ref)

TAG = "alerts"
RULES = ["gathering", "lingering", "key_person_gathering", "key_person_missing", "off_post", "device_offline",
         "entrance_surge", "key_person_hiding"]
STATUSES = ["open", "acknowledged", "dispatched", "on_scene", "resolved", "closed"]
ALERT_ID = path_param("alert_id", "A-20261122-000042")

TRANSITION = obj({"at": TIME, "action": STR, "from": nullable(STR), "to": STR, "level": nullable(STR),
                  "actor": nullable(STR), "remote_addr": nullable(STR), "unit_id": nullable(STR),
                  "note": nullable(STR)}, required=("at", "action", "to"))

CLOCKS = obj({"ack_s": nullable(NUM), "dispatch_s": nullable(NUM), "on_scene_s": nullable(NUM),
              **{f"{s}_at": nullable(TIME) for s in ("acknowledged", "dispatched", "on_scene", "resolved", "closed")}},
             description="1-3-5 response clocks: seconds from opened to ack, dispatch, on scene, and the times")

ALERT = obj({
    "alert_id": STR, "rule": {"enum": RULES}, "level": {"enum": list(LEVELS)}, "status": {"enum": STATUSES},
    "opened_at": TIME, "updated_at": TIME, "location": LOCATION,
    "subject": obj({"kind": STR, "id": STR}),
    "evidence": {**OBJ, "description": "per rule; snapshot_url for video rules"},
    "assignee": nullable(STR),
    "condition": {"enum": ["active", "cleared", None]}, "route_unit": nullable(STR), "escalated_at": nullable(TIME),
    "clocks": CLOCKS,
    "silenced": {**BOOL, "description": "an active silence covers it now: shown (静默中), neither pushed on MQTT "
                 "nor escalated"},
    "history": {**array(TRANSITION), "description": "every transition, oldest first (detail and actions only)"},
}, required=("alert_id", "rule", "level", "status", "opened_at", "updated_at", "location", "subject", "evidence",
             "assignee"), closed=True)

ACTION_BODY = {"type": "object", "properties": {
    "note": {**STR, "description": "at most 2000 characters; required (the feedback) for resolve"},
    "unit_id": {**STR, "description": "dispatch: the patrol unit (default: the cell's responsible unit)"}},
    "description": "other fields are ignored (CONTRACT clients may send more)"}

MATCHERS = ("rule", "subject_id", "district_id", "community_id", "cell_id")
SILENCE = obj({
    "id": INT, "matchers": obj({m: nullable(STR) for m in MATCHERS}),
    "scope": {**nullable(array(STR)), "description": "community ids it may reach (the creator's area); null: the "
              "whole city"},
    "reason": nullable(STR), "starts_at": TIME, "until": TIME, "created_by": STR, "created_at": nullable(TIME),
    "lifted_at": nullable(TIME), "lifted_by": nullable(STR),
    "state": {"enum": ["pending", "active", "lifted", "expired"]},
}, closed=True)

SILENCE_INPUT = {
    "type": "object", "additionalProperties": False, "required": ["reason"],
    "description": "Matchers left out match anything, but never beyond the creator's area (an empty silence = the "
                   "creator's whole scope). A matcher outside it: 403; a node the registry does not hold: 400.",
    "properties": {
        "reason": {**STR, "minLength": 1, "maxLength": 2000},
        "rule": {**STR, "enum": RULES, "description": "a rule of CONTRACT §3; one the engine does not run yet is "
                 "refused (400)"},
        "subject_id": {**STR, "maxLength": 300},
        **{k: {**STR, "maxLength": 64} for k in ("district_id", "community_id", "cell_id")},
        "minutes": {**NUM, "exclusiveMinimum": 0, "maximum": 10080, "default": 60,
                    "description": "length from the start (when until is absent)"},
        "starts_at": {**TIME, "description": "default now; ISO 8601 with offset or epoch ms"},
        "until": {**TIME, "description": "end (instead of minutes), at most 7 days on"},
    }}

SCHEMAS = {"Alert": ALERT, "ActionBody": ACTION_BODY, "Silence": SILENCE, "SilenceInput": SILENCE_INPUT}


def _action(name: str) -> dict:
    a = ACTIONS[name]
    return {"post": op(TAG, f"{name}: → {a.to} (from {', '.join(a.sources)})",
                       {"200": answer("the updated alert with its history", ref("Alert")),
                        **errors(400, 401, 403, 404, 409, e400="body not a JSON object, bad value or unknown unit "
                                 "(named)", e409="illegal transition")},
                       params=[ALERT_ID], body=ref("ActionBody"))}


PATHS = {
    "/api/alerts": {"get": op(TAG, "Alerts, newest first", {
        "200": answer("list", array(ref("Alert"))), **errors(400, 401, e400="bad limit")}, params=[
        query("status", STR, "status, or comma-separated statuses"),
        query("level", STR, "red|orange|yellow, or comma-separated"),
        query("community_id", STR),
        query("limit", {**INT, "default": 200, "minimum": 1, "maximum": 1000})])},
    "/api/alerts/{alert_id}": {"get": op(TAG, "One alert with its full transition history", {
        "200": answer("the alert and history", ref("Alert")), **errors(401, 404)}, params=[ALERT_ID])},
    "/api/alerts/{alert_id}/snapshot.jpg": {"get": op(TAG, "Evidence frame kept when the alert fired", {
        "200": answer("JPEG", media="image/jpeg"), **errors(401, 404, e404="unknown alert, or no frame")},
        params=[ALERT_ID])},
    **{f"/api/alerts/{{alert_id}}/{name}": _action(name) for name in ACTIONS},
    "/api/silences": {
        "post": op(TAG, "Silence matching alerts within the creator's area (supervisor, admin); audited", {
            "201": answer("the silence", ref("Silence")),
            **errors(400, 401, 403, e403="role may not silence, or a matcher outside the creator's area")},
            body=ref("SilenceInput"), body_required=True),
        "get": op(TAG, "Silences that can touch the caller's area: current ones, or with all=1 the latest of all", {
            "200": answer("list", array(ref("Silence"))), **errors(401)},
            params=[query("all", {"enum": ["0", "1", "true", "false"]})])},
    "/api/silences/{silence_id}": {"delete": op(
        TAG, "Lift a silence now (supervisor, admin, over a silence wholly in their area); audited", {
            "200": answer("the lifted silence", ref("Silence")),
            **errors(401, 403, 404, 409, e403="role may not lift, or the silence reaches beyond the caller's area",
                     e404="no such silence in the caller's area", e409="already ended")},
        params=[path_param("silence_id", 1, INT)])},
}
