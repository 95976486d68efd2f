"""One strict, typed configuration for every OneScreen process.

Sources, later wins: built-in defaults < YAML file (``--config`` or ``ONESCREEN_CONFIG``) < ``ONESCREEN_*``
environment variables. Environment names are ``ONESCREEN_<GROUP>_<FIELD>`` (``ONESCREEN_MQTT_PREFIX``,
``ONESCREEN_REDIS_URL``, ``ONESCREEN_MQTT_SHARED_GROUP``): every top-level key is a one-word group so the
first underscore after the group name is the only split. Unknown keys and bad values are rejected at start
with a message that names the key. Secrets (passwords, session keys) are accepted from the environment only,
never from the YAML file, so a config file can be committed and shared without leaking them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

SECRET_KEYS = {("mqtt", "password"), ("dashboard", "secret_key"), ("redis", "password")}


class ConfigError(Exception):
    """A configuration problem, with a message an operator can act on."""


class Group(BaseModel):
    """Base of every config group: unknown keys are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class RedisSettings(Group):
    url: str = Field("redis://127.0.0.1:6379/0",
                     description="Redis URL: redis://, rediss:// or unix:// for one Redis; "
                                 "redis+cluster://host:port,host:port (rediss+cluster:// with TLS) for Redis Cluster, "
                                 "naming some or all nodes as startup nodes; no password here")
    password: SecretStr | None = Field(None, description="Redis password (environment only)")
    partitions: int = Field(8, ge=1, le=1024, description="Event-stream partitions (by community hash)")
    stream_maxlen: int = Field(1_000_000, ge=1000, description="Approximate max length of each event stream")
    ack_replicas: int = Field(0, ge=0, le=5,
                              description="ingest-mqtt acknowledges a batch to the broker only after this many "
                                          "replicas have it (WAIT); 0 = do not wait (single Redis without replicas)")
    ack_replicas_timeout_ms: int = Field(200, ge=1, le=10_000,
                                         description="Longest wait for ack_replicas; on timeout the batch is "
                                                     "acknowledged anyway and counted (replica down)")

    @field_validator("url")
    @classmethod
    def _scheme(cls, v: str) -> str:
        if not v.startswith(("redis://", "rediss://", "unix://", "redis+cluster://", "rediss+cluster://")):
            raise ValueError("must start with redis://, rediss://, unix://, redis+cluster:// or rediss+cluster://")
        if v.startswith(("redis+cluster://", "rediss+cluster://")):
            from onescreen.redisconn import cluster_nodes  # one parser for the factory and the check

            cluster_nodes(v)
        return v


class MqttSettings(Group):
    host: str = Field("127.0.0.1", description="Broker host")
    port: int = Field(1883, ge=1, le=65535, description="Broker port")
    prefix: str = Field("city", pattern=r"^[A-Za-z0-9_\-/]+$", description="Topic prefix of the CONTRACT topics")
    username: str | None = Field(None, description="Broker user name")
    password: SecretStr | None = Field(None, description="Broker password (environment only)")
    tls: bool = Field(False, description="Connect with TLS")
    ca_file: Path | None = Field(None, description="CA bundle for TLS")
    client_id: str = Field("onescreen", description="Client id stem; the process appends its instance")
    shared_group: str = Field("onescreen", description="Shared-subscription group of the ingestors")
    keepalive_s: int = Field(30, ge=5, le=3600, description="MQTT keepalive")
    session_expiry_s: int = Field(7 * 86_400, ge=0, description="Broker keeps an ingestor's queue this long offline")
    receive_maximum: int = Field(2000, ge=10, le=65_535,
                                 description="Unacknowledged messages the broker may send us: the in-memory bound")
    batch_size: int = Field(500, ge=1, le=10_000, description="Messages written to Redis per pipeline")
    dedup_window_s: int = Field(90_000, ge=60, description="A repeated event_id within this window is a duplicate")
    metrics_port: int = Field(9101, ge=0, le=65535, description="Prometheus port of ingest-mqtt (0 = off)")


class DatabaseSettings(Group):
    url: str = Field("sqlite:///var/onescreen.db", description="SQLAlchemy URL (SQLite file or postgresql+psycopg://)")
    echo: bool = Field(False, description="Log every SQL statement")


class DashboardSettings(Group):
    host: str = Field("127.0.0.1", description="Bind address")
    port: int = Field(8050, ge=1, le=65535, description="Bind port")
    language: Literal["zh", "en"] = Field("zh", description="Screen language")
    center_name: str = Field("延平区综治中心", description="Name shown in the wall header")
    tile_url: str | None = Field(None, description="Optional intranet map-tile URL template; none = polygons only")
    camera_page_size: int = Field(
        4, description="Tiles per page of the wall's camera wall, 4 or 9 (pages cycle every 8 s): 4 = a 1×4 strip "
                       "under the map; 9 = a 3×3 block that takes about half of the map's column, for a wall that "
                       "is mostly video")
    entrance_sites: dict[str, int] = Field(
        default_factory=dict,
        description="Communities whose every entrance has a counting line (issue 18), id -> people inside at local "
                    "midnight (0 for a site empty at night: a market, a school). The wall's entrances panel shows "
                    "for them an estimate of the people inside: that base + in - out since midnight")
    secret_key: SecretStr | None = Field(None, description="Session signing key (environment only)")
    threads: int = Field(8, ge=1, le=64, description="HTTP worker threads")
    connection_limit: int = Field(1000, ge=10, le=100_000,
                                  description="Open HTTP connections accepted at once (waitress refuses more; its "
                                              "own default, 100, is reached by 20 walls: a browser keeps up to 6 "
                                              "connections to the server, for the refreshes and camera frames)")
    session_idle_minutes: int = Field(60, ge=1, le=24 * 60,
                                      description="A session unused this long expires (the wall's polling keeps "
                                                  "a kiosk's session alive)")
    session_max_hours: float = Field(12.0, gt=0, le=24 * 30,
                                     description="A session expires this long after login, used or not")
    login_max_failures_user: int = Field(5, ge=1, le=1000,
                                         description="Wrong passwords per username before it is locked out")
    login_max_failures_ip: int = Field(20, ge=1, le=100000,
                                       description="Wrong passwords per client address before it is locked out")
    login_lockout_minutes: int = Field(15, ge=1, le=24 * 60,
                                       description="Window of the failure counts, and the lockout length")

    @field_validator("camera_page_size")
    @classmethod
    def _page_size(cls, v: int) -> int:
        # an int with a check rather than Literal[4, 9]: pydantic does not coerce the environment's "9" to a literal
        if v not in (4, 9):
            raise ValueError("must be 4 or 9")
        return v


class VideoSettings(Group):
    analysis_fps: float = Field(5.0, gt=0, le=30, description="Analysis rate per camera, independent of stream fps")
    capacity: int = Field(16, ge=1, le=1000, description="Cameras one video worker claims at most")
    detector: Literal["ssd", "hog", "onnx"] = Field(
        "ssd", description="Person detector: ssd (SSD MobileNet v2 COCO, installed by make deps), hog (OpenCV's "
                           "built-in, no model, people >= 100 px tall), onnx (your own YOLO model)")
    onnx_model: Path | None = Field(None, description="YOLO-format ONNX model file (detector=onnx)")
    lease_s: int = Field(15, ge=3, le=300, description="Camera lease time; a dead worker's cameras move after it")
    # capture (ingest/video/capture.py)
    rtsp_transport: Literal["tcp", "udp"] = Field("tcp", description="RTSP transport (CONTRACT default: tcp)")
    ffmpeg_options: str = Field(
        "fpsprobesize;0", pattern=r"^([A-Za-z0-9_]+;[^|;]*(\|[A-Za-z0-9_]+;[^|;]*)*)?$",
        description="More FFmpeg demuxer options, 'key;value|key;value' (default: no frame-rate probing, which "
                    "would read ~27 frames before the first one is returned)")
    open_timeout_s: float = Field(5.0, gt=0, le=120, description="Give up opening a stream after this")
    read_timeout_s: float = Field(5.0, gt=0, le=120, description="A read waiting longer fails and reconnects")
    decode_threads: int = Field(1, ge=0, le=16,
                                description="FFmpeg decode threads per camera (0 = FFmpeg's choice); cameras "
                                            "already run in parallel")
    reconnect_min_s: float = Field(0.5, gt=0, le=60, description="First reconnect delay (doubles, with jitter)")
    reconnect_max_s: float = Field(30.0, gt=0, le=600, description="Longest reconnect delay")
    stall_s: float = Field(5.0, gt=0, le=600, description="Connected but no frame this long: state stalled")
    hang_s: float = Field(20.0, gt=0, le=600,
                          description="A read stuck this long is abandoned and a fresh reader takes over")
    degraded_ratio: float = Field(0.5, gt=0, le=1,
                                  description="Measured fps below this share of the nominal fps: degraded")
    # analysis (ingest/video/analysis.py, detectors/, tracker.py, zones.py)
    cv_threads: int = Field(1, ge=0, le=64,
                            description="OpenCV threads per call (0 = OpenCV's choice); cameras run in parallel")
    detect_concurrency: int = Field(
        0, ge=0, le=256, description="Detections running at once in one worker (0 = cores - 1, at least 1): bounds "
                                     "its CPU; when busy cameras need more, their analysis rate drops")
    detect_width: int = Field(1280, ge=0, le=7680,
                              description="Frames wider are scaled down to this before detection (0 = never)")
    motion_width: int = Field(160, ge=32, le=1920, description="Width of the motion gate's downscaled frame")
    motion_min_area: float = Field(0.005, ge=0, le=1,
                                   description="Moving share of the frame that opens the gate to the detector")
    motion_still_every: int = Field(
        2, ge=1, le=25, description="While nothing has moved for motion_tail_s, the motion gate looks at every "
                                    "n-th analysed frame only (new motion is noticed up to n-1 frames later)")
    motion_still_diff: int = Field(
        10, ge=0, le=255,
        description="While nothing has moved for motion_tail_s, a frame differing from the one MOG2 last saw by "
                    "more than this many grey levels on less than a quarter of motion_min_area is still without "
                    "running MOG2 (0 = MOG2 on every frame the gate looks at)")
    motion_tail_s: float = Field(2.0, ge=0, le=60, description="Keep detecting this long after motion stops")
    idle_detect_s: float = Field(2.0, gt=0, le=600,
                                 description="With people in view, detect at least this often even without motion")
    empty_detect_s: float = Field(30.0, gt=0, le=3600,
                                  description="With nobody in view and no motion, detect anyway this often")
    idle_after_s: float = Field(
        5.0, ge=0, le=3600,
        description="A camera whose view has been still this long, with nobody tracked, no open zone visit and no "
                    "entrance line, goes idle: it is analysed at idle_fps (FFmpeg drops the other frames "
                    "before writing them); the first frame with motion brings it back to analysis_fps (0 = never idle)")
    idle_fps: float = Field(
        1.0, ge=0.5, le=30,
        description="Analysis rate of an idle camera: new motion in its view is seen up to 1/idle_fps s later "
                    "(idle mode is off when this is not below analysis_fps; at least 0.5, so that an idle "
                    "camera's frames come well within stall_s)")
    image_dark_level: float = Field(30.0, ge=0, le=255,
                                    description="Mean grey level (0-255) under which the picture is 'dark'")
    image_covered_std: float = Field(6.0, ge=0, le=128,
                                     description="Grey standard deviation under which the picture has no detail: "
                                                 "'covered' (lens covered, sprayed, turned to a wall)")
    image_frozen_s: float = Field(60.0, gt=0, le=86_400,
                                  description="Identical consecutive frames this long: the picture is 'frozen'")
    image_hold_s: float = Field(10.0, ge=0, le=3600,
                                description="A 'dark' or 'covered' verdict must hold this long to be reported")
    hog_stride: int = Field(8, ge=4, le=32, description="HOG window stride in pixels (larger = faster, coarser)")
    hog_scale: float = Field(1.05, gt=1, le=2, description="HOG pyramid scale step")
    hog_threshold: float = Field(0.0, ge=-5, le=10, description="HOG SVM hit threshold (higher = fewer, surer)")
    ssd_model: Path | None = Field(
        None, description="TFLite SSD model (detector=ssd); none = the pinned model in the project's model cache "
                          "(~/.cache/onescreen/models, installed by make models)")
    ssd_score: float = Field(0.5, gt=0, lt=1, description="Minimum person score of the ssd detector")
    ssd_tile_px: int = Field(
        960, ge=0, le=7680, description="Frames with a side longer than this are also analysed in about square "
                                        "tiles (that side cut into ceil(side / this)), for people too small once "
                                        "the whole frame is scaled to the model's 300x300 input (0 = never tile)")
    ssd_tile_overlap: float = Field(0.3, ge=0, lt=0.9,
                                    description="Overlap of neighbouring tiles, as a share of a tile")
    ssd_whole_frame: bool = Field(True, description="With tiles, also run one pass on the whole frame "
                                                    "(finds people larger than a tile)")
    ssd_nms_iou: float = Field(0.4, gt=0, lt=1, description="Boxes from different tiles and passes overlapping "
                                                             "more than this are one person")
    ssd_threads: int = Field(1, ge=0, le=64, description="TFLite threads per camera (0 = its choice)")
    onnx_format: Literal["yolov8", "yolov5"] = Field(
        "yolov8", description="Output layout: yolov8 (1, 4+classes, N) or yolov5 (1, N, 5+classes)")
    onnx_input: int = Field(640, ge=32, le=4096, description="Input size when the model's is dynamic")
    onnx_person_class: int = Field(0, ge=0, description="Class index of 'person' in the model")
    onnx_confidence: float = Field(0.35, gt=0, lt=1, description="Minimum person score")
    onnx_nms_iou: float = Field(0.45, gt=0, lt=1, description="Overlap above which the weaker box is dropped")
    onnx_threads: int = Field(1, ge=0, le=64, description="onnxruntime intra-op threads (0 = its choice)")
    track_iou: float = Field(0.2, gt=0, lt=1, description="Least box overlap that continues a track")
    track_gap_s: float = Field(3.0, gt=0, le=60,
                               description="Occlusion tolerance: a lost track, a zone visit, re-association window")
    track_hold_s: float = Field(1.0, ge=0, le=10,
                                description="A track missed by the detector still counts this long (flicker)")
    track_reassoc: float = Field(1.0, gt=0, le=10,
                                 description="Re-associate a new box with a lost track within this many body heights")
    # outputs (ingest/video/publish.py)
    snapshot_interval_s: float = Field(1.0, gt=0, le=60, description="Latest-JPEG refresh period")
    snapshot_ttl_s: int = Field(30, ge=2, le=3600, description="A snapshot not refreshed disappears after this")
    snapshot_still_s: float = Field(
        5.0, ge=0, le=3600,
        description="While the motion gate sees nothing move, the snapshot JPEG is reused (its expiry "
                    "refreshed) and encoded again only this often (0 = every time)")
    snapshot_annotate: bool = Field(True, description="Draw the zones, each tracked person's box and dwell, and "
                                                      "mark the lingering, on the snapshot (alert evidence)")
    mark_dwell_s: float = Field(120.0, gt=0, le=86_400,
                                description="Snapshots mark in red who stayed this long in a zone (keep it at "
                                            "the lingering rule's dwell_s)")
    snapshot_width: int = Field(640, ge=0, le=7680, description="Snapshots wider are scaled down (0 = never)")
    jpeg_quality: int = Field(75, ge=10, le=100, description="Snapshot JPEG quality")
    publish_every_frame: bool = Field(
        False, description="Publish the zone state on every analysed frame (the design before on-change "
                           "publishing: for comparison only, it multiplies the video stream's entries ~25x)")
    publish_heartbeat_s: float = Field(
        5.0, gt=0, le=30,
        description="A camera whose zone state has not changed publishes it again this often (the alert engine "
                    "sees the camera alive and its counts fresh: keep it well under device_offline's "
                    "camera_silent_s and gathering's stale_s)")
    publish_dwell_step_s: float = Field(
        10.0, gt=0, le=3600,
        description="A visit's dwell crossing a multiple of this (or mark_dwell_s) is published: a lingering "
                    "dwell_s that is a multiple of it, or equal to mark_dwell_s, raises on the exact frame")
    health_interval_s: float = Field(1.0, gt=0, le=60, description="Camera health records are written this often")
    registry_refresh_s: float = Field(30.0, gt=0, le=3600, description="Check the registry for changes this often")
    # entrance lines (ingest/video/crossing.py, issue #18)
    line_band: float = Field(0.04, gt=0, le=0.2,
                             description="Half-width of the band around an entrance line (normalised image units) "
                                         "in which a person has no side yet: standing on the line never counts. "
                                         "Above the detector's foot-point jitter (ssd: up to 0.035 on the "
                                         "generated scene, docs/video.md)")
    entrance_days_kept: int = Field(8, ge=1, le=400,
                                    description="Hourly entrance in/out counts stay in Redis this many days")


class AlertSettings(Group):
    rules_file: Path | None = Field(None, description="Rules YAML; none = built-in CONTRACT defaults")
    escalate_after_s: int = Field(60, ge=1, description="Unacknowledged alerts go to the supervisor after this")
    remind_every_s: int = Field(60, ge=1, description="Reminder period of an escalated, still unacknowledged alert")
    lease_s: float = Field(10.0, ge=1, le=300, description="Partition lease; a dead engine's partitions move after it")
    batch_size: int = Field(500, ge=1, le=10_000, description="Events read per XREADGROUP")
    late_window_s: int = Field(300, ge=0, description="Out-of-order events older than the newest by up to this "
                                                     "still count; older ones are archived but do not move state")
    on_scene_radius_m: float = Field(100.0, gt=0, description="Dispatched unit this close to the alert = on scene")
    archive: bool = Field(True, description="The archiver (`onescreen archiver`, its own consumer group) copies "
                                            "every event into the SQL event_archive table; the engine never does")
    archive_batch_size: int = Field(2000, ge=1, le=50_000, description="Events the archiver reads and inserts "
                                                                     "per batch (one commit, then XACK)")
    archive_lag_warn: float = Field(0.5, gt=0, le=1, description="The archiver warns (log, health) when a stream's "
                                                                "unarchived entries exceed this share of "
                                                                "redis.stream_maxlen: trimming would lose them next")
    archive_retention_days: int = Field(30, ge=1, description="Archived events older than this are deleted")
    rules_reload_s: float = Field(5.0, gt=0, description="How often the rules file is checked for changes")
    max_attempts: int = Field(3, ge=1, le=100, description="A failed batch is retried in halves down to "
                                                           "single entries; one that fails alone this many "
                                                           "times goes to its partition's dead-letter stream")


class CitySettings(Group):
    name: str = Field("南平市延平区", description="City shown at the root of the grid tree")
    timezone: str = Field("Asia/Shanghai", description="Display timezone (IANA name)")
    late_limit_s: int = Field(86_400, ge=60, description="Events older than this are rejected (clock_skew)")
    future_limit_s: int = Field(300, ge=0, description="Events further in the future are rejected (clock_skew)")

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (KeyError, ValueError):
            raise ValueError(f"unknown timezone {v!r}") from None
        return v


class LogSettings(Group):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level")
    format: Literal["json", "text"] = Field("json", description="json for machines, text for a terminal")


class SimSettings(Group):
    seed: int = Field(7, description="Random seed of the generated city")
    rate: float = Field(20.0, ge=0, description="Door events per second at the busiest hour")
    rtsp_port: int = Field(8554, ge=1, le=65535, description="Port of the simulator's RTSP server")
    rtsp_host: str = Field("127.0.0.1", description="Host in the streamed cameras' URLs (mediamtx in compose)")
    streamed_cameras: int = Field(4, ge=0, le=64, description="Cameras actually served over RTSP")
    case_rate: float = Field(50.0, ge=0, description="Grid workers' reports as a multiple of Yanping's rate "
                                                   "(0.08 a worker a day); 0 = none")


class CaseSettings(Group):
    """Cases (事件, CONTRACT §6): deadlines by level, photos, reminders (督办), duplicates."""

    accept_within_min: int = Field(30, ge=1, description="A reported case must be accepted within this")
    deadline_red_h: float = Field(24.0, gt=0, description="Red case: handled within this many hours of acceptance")
    deadline_orange_h: float = Field(72.0, gt=0, description="Orange case: handled within this many hours")
    deadline_yellow_h: float = Field(168.0, gt=0, description="Yellow case: handled within this many hours")
    remind_every_min: float = Field(60.0, gt=0, description="An overdue case is reminded (督办) this often")
    check_every_s: float = Field(10.0, gt=0, description="How often the case worker looks for overdue cases")
    extra_categories: list[str] = Field(default_factory=list,
                                        description="Categories beyond the CONTRACT's (ids: letters, digits, _)")
    max_photo_bytes: int = Field(5 * 1024 * 1024, ge=1024, description="Largest photo accepted (bytes)")
    max_photos: int = Field(9, ge=1, le=50, description="Photos per case (report and feedback together)")
    photo_max_side: int = Field(1600, ge=320, description="Photos are stored re-encoded, at most this many pixels")
    merge_radius_m: float = Field(200.0, gt=0, description="A report this close to an open case of its category "
                                                         "is offered as the same matter")
    merge_window_h: float = Field(24.0, gt=0, description="… if that case was reported within this many hours")
    camera_radius_m: float = Field(150.0, gt=0, description="Cameras this close to a report give evidence frames")
    camera_frames: int = Field(2, ge=0, le=9, description="Frames of the nearest cameras kept with a report")
    online_ttl_s: int = Field(90, ge=10, description="A grid worker is online this long after the page's heartbeat")


class AssessmentSettings(Group):
    sample_every_s: int = Field(300, ge=10, le=3600, description="Cadence of the camera-health sampler "
                                "(assessment worker): each sample is added to its hour's aggregates")
    retention_days: int = Field(800, ge=31, description="Hourly camera-health aggregates older than this are "
                                "deleted (two years of monthly reviews and their previous months)")
class PersonsSettings(Group):
    """Key persons (重点人员, issue 15): visit cadence by level and the categories a person is filed under."""

    visit_red_days: int = Field(7, ge=0, le=366, description="A red person is due a visit this often (0 = never)")
    visit_orange_days: int = Field(14, ge=0, le=366, description="An orange person is due a visit this often")
    visit_yellow_days: int = Field(30, ge=0, le=366, description="A yellow person is due a visit this often")
    visit_green_days: int = Field(0, ge=0, le=366, description="A green person is due a visit this often "
                                                              "(0 = no visits due)")
    categories: list[str] = Field(
        ["criminal_record", "extremism", "mental_health", "petition", "group_interest", "crisis",
         "community_correction", "drug", "released_prisoner", "other"],
        min_length=1, description="Category codes a person may be filed under (labels in dashboard texts)")
    in_control_hours: float = Field(24.0, gt=0, le=24 * 30, description="在控率: a red/orange person seen by a "
                                                                        "device or visited within this long")


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the YAML file and refuses secrets in it."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:  # pragma: no cover - unused
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None:
            return {}
        try:
            data = yaml.safe_load(self.path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"config file {self.path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"config file {self.path}: top level must be a mapping")
        for group, key in SECRET_KEYS:
            if isinstance(data.get(group), dict) and key in data[group]:
                env = f"ONESCREEN_{group.upper()}_{key.upper()}"
                raise ConfigError(f"config file {self.path}: {group}.{key} is a secret; set it in {env} instead")
        return data


class Settings(BaseSettings):
    """Everything a OneScreen process can be told; docs/configuration.md is the generated reference."""

    model_config = SettingsConfigDict(
        env_prefix="ONESCREEN_", env_nested_delimiter="_", env_nested_max_split=1, extra="forbid",
        validate_default=True,
    )

    redis: RedisSettings = Field(default_factory=RedisSettings, description="Redis (hot path)")
    mqtt: MqttSettings = Field(default_factory=MqttSettings, description="MQTT broker")
    database: DatabaseSettings = Field(default_factory=DatabaseSettings, description="System of record")
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings, description="Web server")
    video: VideoSettings = Field(default_factory=VideoSettings, description="Video ingest")
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert engine")
    city: CitySettings = Field(default_factory=CitySettings, description="City-wide facts")
    log: LogSettings = Field(default_factory=LogSettings, description="Logging")
    sim: SimSettings = Field(default_factory=SimSettings, description="Simulated city")
    assessment: AssessmentSettings = Field(default_factory=AssessmentSettings, description="Assessment (考核评价)")
    persons: PersonsSettings = Field(default_factory=PersonsSettings, description="Key persons (重点人员)")
    cases: CaseSettings = Field(default_factory=CaseSettings, description="Cases reported by people")

    _yaml_path: Path | None = None

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings, _YamlSource(settings_cls, _CURRENT_YAML.get("path")))


_CURRENT_YAML: dict[str, Path | None] = {}
_KNOWN_ENV = {"ONESCREEN_CONFIG"}


def _check_env_names() -> None:
    """Reject ``ONESCREEN_*`` variables that name no setting (a typo would otherwise be ignored)."""
    groups = Settings.model_fields
    for name in os.environ:
        if not name.startswith("ONESCREEN_") or name in _KNOWN_ENV:
            continue
        rest = name[len("ONESCREEN_"):].lower()
        group, _, key = rest.partition("_")
        model = groups.get(group)
        sub = model.annotation.model_fields if model is not None else {}
        if key not in sub:
            raise ConfigError(f"environment variable {name}: no such setting (expected ONESCREEN_<GROUP>_<FIELD>)")


def reference_markdown() -> str:
    """Every setting with its environment variable, default and description (docs/configuration.md)."""
    lines = ["# Configuration reference", "",
             "Generated by `onescreen config --reference` from `onescreen/settings.py`; a test keeps it current.",
             "Set a value in the YAML file (`group: {field: value}`) or in the environment variable shown.",
             "Secrets (marked) are accepted from the environment only.", ""]
    for group, gfield in Settings.model_fields.items():
        lines += [f"## `{group}`: {gfield.description}", "", "| field | environment | default | description |",
                  "|---|---|---|---|"]
        for name, field in gfield.annotation.model_fields.items():
            default = field.get_default(call_default_factory=True)
            shown = "" if default is None else f"`{default}`"
            secret = " **(secret: environment only)**" if (group, name) in SECRET_KEYS else ""
            lines.append(f"| `{name}` | `ONESCREEN_{group.upper()}_{name.upper()}` | {shown} | "
                         f"{(field.description or '').replace('|', '/')}{secret} |")
        lines.append("")
    return "\n".join(lines)


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Load and validate the settings; raise ConfigError naming the offending key."""
    path = path or os.environ.get("ONESCREEN_CONFIG")
    yaml_path = Path(path) if path else None
    if yaml_path is not None and not yaml_path.is_file():
        raise ConfigError(f"config file {yaml_path}: not found")
    _check_env_names()
    _CURRENT_YAML["path"] = yaml_path
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            lines.append(f"{key}: {err['msg']}")
        where = f" (file {yaml_path})" if yaml_path else ""
        raise ConfigError(f"invalid configuration{where}:\n  " + "\n  ".join(lines)) from None
    finally:
        _CURRENT_YAML.pop("path", None)
