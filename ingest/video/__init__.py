"""ingest-video: RTSP cameras → people per zone, dwell, snapshots and camera health in Redis.

The modules follow the data, one camera's frames from left to right (docs/video.md has the whole design):

    capture.py (reader thread, reconnects) → gate.py (motion) → detectors/ (HOG, YOLO-ONNX)
    → tracker.py → zones.py (counts, dwell) → publish.py (Redis)

``analysis.py`` chains gate → detector → tracker → zones for one frame; ``pipeline.py`` runs one camera
(reader + analyser threads); ``health.py`` is the watchdog's verdict, ``probe.py`` explains failed opens;
``leases.py`` shares cameras between workers; ``worker.py`` is the process.
"""
