"""Structured logs: one JSON object per line for machines, or aligned text for a terminal.

Every line carries the process kind and instance so logs of many processes can be merged.
Credentials never reach a log line: ``redact_url`` strips user:password from any URL before it is logged.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime

import orjson

_CONTEXT: dict[str, str] = {}
_URL_CREDS = re.compile(r"(?P<scheme>(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//)[^/@\s]*@")


def redact_url(url: str | None) -> str:
    """``rtsp://user:pw@host/x`` (or scheme-less ``//user:pw@host``) → ``…//***@host/x``; else unchanged."""
    return _URL_CREDS.sub(r"\g<scheme>***@", url or "")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            **_CONTEXT,
        }
        extra = getattr(record, "fields", None)
        if extra:
            doc.update(extra)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = getattr(record, "fields", None)
        return f"{line} {extra}" if extra else line


def setup_logging(level: str = "INFO", fmt: str = "json", **context: str) -> None:
    """Configure the root logger once per process; ``context`` (kind, instance) goes on every line."""
    _CONTEXT.update(context)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("waitress.queue", "werkzeug", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
