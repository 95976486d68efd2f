"""Dead letters: an entry that fails on its own, again and again, must not stop its partition.

The engine commits a batch as a whole (SQL, then one Redis pipeline with the XACKs), so one event that
makes a rule raise would fail its batch on every retry and, with it, every event of its partition. After a
failed batch the engine therefore re-reads its pending entries and runs them through ``bisect``: the whole
set, then each failing half, down to single entries; every good entry is processed once, in time order, in
batches as large as the failures allow. An entry that fails alone ``alerts.max_attempts`` times is moved to
its partition's dead-letter stream with the reason, and acknowledged, so the partition moves on
(``DeadLetters``). A rule's timer that raises is dead-lettered at once with its subject's state, which is
dropped (``DeadLetters.timer``): a timer has no entry to acknowledge and would fire again at every step.
An outage (``is_outage``: Redis or the database unreachable) is never the entry's fault: it is not counted
and keeps the engine's ordinary retry, so a database that is down for a while dead-letters nothing.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, TypeVar

import redis
from sqlalchemy import exc as sa_exc

from onescreen import names
from onescreen.events import StreamRecord
from onescreen.log import redact_url

log = logging.getLogger(__name__)

Entry = tuple[int, str, bytes, Any]  # (partition, stream, entry id, decoded event) as the engine reads them
MAXLEN = 10_000  # per partition (approximate trim); the counts hash keeps the totals
MESSAGE_MAX = 1000

OUTAGES: tuple[type[BaseException], ...] = (
    redis.RedisError,
    OSError,
    sa_exc.OperationalError,  # connection refused or lost, server shutting down, "database is locked", …
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,  # no pooled connection in time
)

T = TypeVar("T")


def is_outage(exc: BaseException) -> bool:
    """Redis or the database unavailable (retry as before, never dead-letter), not a failure of the entry."""
    if isinstance(exc, OUTAGES):
        return True
    return isinstance(exc, sa_exc.DBAPIError) and bool(exc.connection_invalidated)


def bisect(
    entries: list[T], run: Callable[[list[T]], None], failed_alone: Callable[[T, Exception], None]
) -> None:
    """Run ``entries`` as one batch; if it fails, each half the same way, down to single entries.

    ``run`` must leave no trace when it raises (the engine's batch: rules in memory, commit at the end).
    About 2·k·log2(n) runs for k failing entries among n. A lone failing entry goes to ``failed_alone``; an
    outage propagates at once, with nothing counted.
    """
    if not entries:
        return
    try:
        run(entries)
    except Exception as exc:  # any failure of the entries is what we are looking for
        if is_outage(exc):
            raise
        if len(entries) == 1:
            failed_alone(entries[0], exc)
            return
        mid = len(entries) // 2
        bisect(entries[:mid], run, failed_alone)
        bisect(entries[mid:], run, failed_alone)


def event_time(doc: Any) -> float:
    """Sort key of a decoded entry that tolerates the malformed ones (they sort first)."""
    ts = doc.get("ts") if isinstance(doc, dict) else None
    return float(ts) if isinstance(ts, (int, float)) else 0.0


def _text(value: Any) -> str:
    # the dashboard reads with decode_responses: every field must be valid UTF-8
    return value.decode("utf-8", "backslashreplace") if isinstance(value, bytes) else str(value)


def describe(exc: BaseException) -> tuple[str, str, str]:
    """(error type, message without URL credentials, where raised: ``rules/lingering.py:43 _access``)."""
    where = ""
    frames = traceback.extract_tb(exc.__traceback__)
    if frames:
        where = f"{'/'.join(PurePath(frames[-1].filename).parts[-2:])}:{frames[-1].lineno} {frames[-1].name}"
    message = " ".join(redact_url(str(exc)).split())[:MESSAGE_MAX]
    return type(exc).__name__, message, where


def record(
    stream: str, entry_id: bytes | str, fields: dict, exc: BaseException, attempts: int, at_s: float,
    instance: str,
) -> dict[str, str]:
    """The dead-letter entry: the source entry's fields as they were (normally a StreamRecord), origin and reason."""
    error, message, where = describe(exc)
    out = {_text(k): _text(v) for k, v in fields.items()}
    out.update(
        stream=stream,
        id=_text(entry_id),
        error=error,
        message=message,
        where=where,
        attempts=str(attempts),
        at=str(int(at_s * 1000)),
        instance=instance,
    )
    return out


class DeadLetters:
    """One engine's failure counts of entries run alone, and the move of the hopeless ones."""

    def __init__(self, client: redis.Redis, max_attempts: int, instance: str):
        self.client = client
        self.max_attempts = max_attempts
        self.instance = instance
        self.failures: dict[tuple[str, bytes], int] = {}  # (stream, entry id) -> failed runs on its own
        self.moved = 0

    def reset(self) -> None:
        """The failed batch is behind us (every entry acknowledged or moved): forget the counts."""
        self.failures.clear()

    def failed(self, entry: Entry, exc: Exception) -> None:
        """An entry failed on its own: count it, and move it at ``max_attempts``."""
        key = (entry[1], entry[2])
        self.failures[key] = n = self.failures.get(key, 0) + 1
        if n >= self.max_attempts:
            self.move(entry, exc, n)
            return
        error, message, where = describe(exc)
        log.warning("entry %s of %s failed alone (attempt %d of %d): %s: %s at %s",
                    _text(entry[2]), entry[1], n, self.max_attempts, error, message, where)

    def move(self, entry: Entry, exc: BaseException, attempts: int, fields: dict | None = None) -> None:
        """XADD the entry to its partition's dead letters and XACK it in one MULTI (one slot); count; log."""
        p, stream, entry_id, doc = entry
        if fields is None:  # the raw entry as its writer left it
            got = self.client.xrange(stream, entry_id, entry_id)
            fields = got[0][1] if got else StreamRecord.encode(doc)
        rec = record(stream, entry_id, fields, exc, attempts, time.time(), self.instance)
        pipe = self.client.pipeline(transaction=True)
        pipe.xadd(names.dead_letters(p), rec, maxlen=MAXLEN, approximate=True)
        pipe.xack(stream, names.ALERT_GROUP, entry_id)
        pipe.execute()
        self.client.hincrby(names.ALERT_DEAD_LETTER_COUNTS, rec["error"], 1)
        self.failures.pop((stream, entry_id), None)
        self.moved += 1
        event_id = doc.get("event_id") if isinstance(doc, dict) else None
        log.error("dead-lettered entry %s of %s (event %s) after %d attempts: %s: %s at %s; kept in %s",
                  rec["id"], stream, event_id, attempts, rec["error"], rec["message"], rec["where"],
                  names.dead_letters(p))

    def timer(self, partition: int, rule: str, key: str, subject_state: Any, exc: BaseException) -> None:
        """A rule's timer raised. It would raise again at every step and fail every batch of its partition with
        it, so it is not retried: the subject's state goes to the dead letters (id ``rule|key``, stream the
        partition's timers) and the engine drops it; the partition moves on."""
        rec = record(names.rule_timers(partition), f"{rule}|{key}", StreamRecord.encode(subject_state), exc, 1,
                     time.time(), self.instance)
        self.client.xadd(names.dead_letters(partition), rec, maxlen=MAXLEN, approximate=True)
        self.client.hincrby(names.ALERT_DEAD_LETTER_COUNTS, rec["error"], 1)
        self.moved += 1
        log.error("dead-lettered a %s timer of rule %s (partition %d): %s: %s at %s; its state dropped, kept in %s",
                  key.partition(":")[0], rule, partition, rec["error"], rec["message"], rec["where"],
                  names.dead_letters(partition))  # the key itself can hold a person id: not in the log
