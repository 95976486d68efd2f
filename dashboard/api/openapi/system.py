"""The rest of ``/api``: health (no auth, CONTRACT §3), this document, camera frames (CONTRACT §3), and the
supervision desk's downloads (the 1-3-5 report as CSV, a camera frame for a spot check; supervisor, admin).
"""

from __future__ import annotations

from dashboard.api.openapi.parts import (BOOL, INT, NUM, OBJ, STR, TIME, answer, array, errors, nullable, obj, op,
                                         path_param, query, ref)

TAG = "system"
CAMERA_ID = path_param("camera_id", "C-0101-01")
STATE = {"enum": ["ok", "degraded", "down"]}
COMPONENT = {"type": "object", "required": ["status"], "properties": {
    "status": {"enum": ["ok", "error", "degraded", "unknown"]}, "error": STR, "latency_ms": NUM}}
PROCESS = obj({"kind": STR, "instance": STR, "pid": nullable(INT), "started_at": nullable(TIME),
               "heartbeat_at": nullable(TIME), "age_s": nullable(NUM), "alive": nullable(BOOL),
               "detail": nullable(OBJ)},
              required=("kind", "instance", "alive"))
HEALTH = obj({"status": STATE, "checked_at": TIME,
              "components": obj({"redis": COMPONENT, "database": COMPONENT, "processes": COMPONENT}),
              "processes": array(PROCESS)}, closed=True)

SCHEMAS = {"Health": HEALTH}

PATHS = {
    "/api/health": {"get": op(TAG, "Component status; 200 while the dashboard answers (strict=1: 503 unless ok)", {
        "200": answer("the report", ref("Health")), "503": answer("strict=1 and not ok", ref("Health"))},
        params=[query("strict", {"enum": ["0", "1", "true", "false", "yes"]})], public=True)},
    "/api/openapi.json": {"get": op(TAG, "This description (OpenAPI 3.1)", {
        "200": answer("the document", OBJ)}, public=True)},
    "/api/cameras/{camera_id}/snapshot.jpg": {"get": op(TAG, "Latest frame of a camera (missing=204: 204 when "
                                                        "there is none yet)", {
        "200": answer("JPEG", media="image/jpeg"), "204": {"description": "no frame yet (missing=204)"},
        **errors(401, 404, e404="no such camera in the caller's area, or no recent frame"),
        "503": answer("the frame store (Redis) is unavailable", ref("Error"))},
        params=[CAMERA_ID, query("missing", {"enum": ["204"]})])},
    "/api/patrol/report.csv": {"get": op(TAG, "Desk: the 1-3-5 response report as CSV (supervisor, admin); audited", {
        "200": answer("CSV with a BOM (Excel)", media="text/csv"), **errors(400, 401, 403)}, params=[
        query("by", {"enum": ["unit", "district"], "default": "unit"}),
        query("days", {**NUM, "exclusiveMinimum": 0, "maximum": 366, "default": 7})])},
    "/api/patrol/cameras/{camera_id}/snapshot.jpg": {"get": op(
        TAG, "Desk: the latest frame for a spot check (supervisor, admin)", {
            "200": answer("JPEG", media="image/jpeg"), **errors(401, 403, 404, e404="no such camera, or no frame yet")},
        params=[CAMERA_ID])},
}
