"""The notes the alert engine writes into an alert's history as ``system``, in one place: they are stored
(English, the audit trail's language) and the desks show them in the screen's language by matching these
templates (``dashboard.desk.widgets``)."""

RAISED = "{rule} raised"
CLEARED = "condition no longer holds"
LEVEL = "level {level}"
AUTO_ON_SCENE = "unit {unit} within {dist} m (automatic)"
ESCALATED = "unacknowledged: escalated to supervisor"
REMINDER = "reminder {n}: still unacknowledged"
