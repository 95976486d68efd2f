"""Redis connections built from settings, with the timeouts and retries every worker wants."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from onescreen.settings import RedisSettings


def connect(cfg: RedisSettings, *, decode: bool = False) -> redis.Redis:
    """A client that retries briefly on connection errors; callers handle longer outages themselves."""
    password = cfg.password.get_secret_value() if cfg.password else None
    return redis.Redis.from_url(
        cfg.url,
        password=password,
        decode_responses=decode,
        # Raw device bytes (a rejected payload, a cut multi-byte character) must not break a reader that decodes.
        encoding_errors="backslashreplace",
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )
