"""Instants as the CONTRACT wants them: in ISO 8601 with an offset or epoch milliseconds, out ISO 8601 with offset."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo


class BadTime(ValueError):
    """A timestamp that is neither ISO 8601 with an offset nor epoch milliseconds."""


def parse_ts(value: object) -> datetime:
    """Parse a CONTRACT timestamp into an aware UTC datetime; naive ISO strings are refused (no guessing)."""
    if isinstance(value, bool):
        raise BadTime("boolean is not a timestamp")
    if isinstance(value, int):
        if not -62_135_596_800_000 < value < 253_402_300_799_000:
            raise BadTime("epoch milliseconds out of range")
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            raise BadTime("not ISO 8601") from None
        if dt.tzinfo is None:
            raise BadTime("ISO 8601 timestamp without offset")
        try:
            return dt.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00: a valid ISO string whose UTC instant is before year 1
            raise BadTime("ISO 8601 timestamp out of range") from None
    raise BadTime(f"{type(value).__name__} is not a timestamp")


def epoch_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def iso(dt: datetime, tz: str = "Asia/Shanghai") -> str:
    """ISO 8601 with offset, in the display timezone, millisecond precision."""
    return dt.astimezone(_zone(tz)).isoformat(timespec="milliseconds")


def now_utc() -> datetime:
    return datetime.now(UTC)


def local_time(ts: float, tz: str) -> datetime:
    """Epoch seconds as an aware datetime in the display timezone."""
    return datetime.fromtimestamp(ts, tz=_zone(tz))


def on_shift(shift_start: str, shift_end: str, local: datetime) -> bool:
    """Whether a local time is inside a post's "HH:MM" shift [start, end); end before start is overnight,
    equal is all day. One definition for the off_post rule, the screens and the simulator."""
    start, end = _minutes(shift_start), _minutes(shift_end)
    now = local.hour * 60 + local.minute
    if start == end:
        return True
    if start < end:
        return start <= now < end
    return now >= start or now < end


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
