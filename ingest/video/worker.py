"""The ingest-video process: video ingest (RTSP capture, detection, tracking, zone counts and dwell).

Foundation stage: the process exists with the common worker shape (run loop, graceful stop, heartbeat and
health record in Redis) so the demo, the CLI and /api/health treat it like every other process. Its real work
is issue #4; until then its health record says `implemented: false` rather than pretending.
"""

from __future__ import annotations

from typing import Any

from onescreen.worker import Worker


class VideoIngestWorker(Worker):
    kind = "ingest-video"

    def health(self) -> dict[str, Any]:
        return {"implemented": False, "issue": 4}
