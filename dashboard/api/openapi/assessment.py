"""Assessment (CONTRACT §8): the per-row figures as JSON, and the same rows as CSV.

The figure columns come from ``assessment.figures`` (counts are integers, rates percentages 0-100, the mean
satisfaction 1-5; null when there is nothing to measure or the source is not installed), the periods and
groupings from ``assessment.periods`` and ``assessment.groupings``. Supervisor and admin only.
"""

from __future__ import annotations

from assessment.figures import FIGURES
from assessment.groupings import GROUPINGS
from assessment.periods import KINDS
from dashboard.api.openapi.parts import STR, answer, array, errors, nullable, obj, op, query, ref

TAG = "assessment"
KIND_SCHEMA = {"count": {"type": "integer", "minimum": 0}, "rate": {"type": "number", "minimum": 0, "maximum": 100},
               "mean": {"type": "number", "minimum": 1, "maximum": 5}}
FIGURE_PROPS = {name: nullable(KIND_SCHEMA[kind]) for name, kind in FIGURES}

ROW = obj({
    "by": {"enum": list(GROUPINGS)}, "key": STR, "name": STR, "parent": nullable(STR),
    "period": {**STR, "description": "the period's label, e.g. 2026-12-05, 2026-W49, 2026-12"},
    "from": {**STR, "format": "date-time"}, "to": {**STR, "format": "date-time", "description": "to date"},
    **FIGURE_PROPS,
    "previous": obj({"period": STR, **FIGURE_PROPS}, closed=True,
                    description="the same figures for the whole previous period"),
}, closed=True)

PARAMS = [
    query("period", {"enum": list(KINDS)}, "day | week | month (400 otherwise)", required=True),
    query("by", {"enum": list(GROUPINGS)}, "the grouping of the rows (400 otherwise)", required=True),
    query("sort", {"enum": [name for name, _ in FIGURES]}, "extension: best first by this figure"),
    query("within", STR, "extension: drill-down, the rows inside this district or community (400 if unknown)"),
    query("date", {**STR, "format": "date"},
          "extension: the period containing this local date (1970-01-01 to today; 400 otherwise)"),
]
ERRORS = errors(400, 401, 403, e400="bad period, grouping, sort, within or date",
                e403="only supervisors and admins read the assessment")

SCHEMAS = {"AssessmentRow": ROW}

PATHS = {
    "/api/assessment": {"get": op(TAG, "Assessment rows (考核评价), cut to the caller's area", {
        "200": answer("rows", array(ref("AssessmentRow"))), **ERRORS}, params=PARAMS)},
    "/api/assessment.csv": {"get": op(TAG, "The same rows as CSV (previous.<figure> columns); audited", {
        "200": answer("CSV with a BOM (Excel)", media="text/csv"), **ERRORS}, params=PARAMS)},
}
