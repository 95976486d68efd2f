"""The ingest-mqtt process: MQTT ingest (validate, enrich, dedup, store in Redis streams without loss).

Foundation stage: the process exists with the common worker shape (run loop, graceful stop, heartbeat and
health record in Redis) so the demo, the CLI and /api/health treat it like every other process. Its real work
is issue #3; until then its health record says `implemented: false` rather than pretending.
"""

from __future__ import annotations

from typing import Any

from onescreen.worker import Worker


class MqttIngestWorker(Worker):
    kind = "ingest-mqtt"

    def health(self) -> dict[str, Any]:
        return {"implemented": False, "issue": 3}
