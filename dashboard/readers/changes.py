"""What the screens show, read from SQL once per change, not once per screen per second.

Every committed change a screen shows (an alert's status or level: ``alerts.notify.announce``; a silence:
``alerts.silences``; a case: ``cases.store.announce``) bumps one Redis counter, ``names.CHANGES_VERSION``, in the
same pipeline as its ``os:changes`` message and after the SQL commit. A dashboard process keeps one ``ChangeCache``
per kind of read (the wall's open alerts with the silences, the wall's case panel per user and drill-down node)
shared by every wall and session it serves; each refresh reads the counter (one GET of one key: slot-safe on
Redis Cluster) and re-reads SQL only when it moved. Why a counter and not a pub/sub subscriber: a missed message
(a reconnect, a cluster failover) would leave a subscriber's cache stale until the next change, a counter is
compared on every refresh and cannot be missed; and one key needs no per-node subscription on a cluster.

Besides, an entry older than ``SAFETY_S`` is re-read anyway (a writer that forgot to bump the counter, a counter
lost with a Redis restarted empty that happens to come back to the same value) and, while Redis cannot be read,
an entry older than ``UNKNOWN_S`` (the screens then behave as before: SQL every couple of seconds, per process).

The desks (``/alerts``, ``/duty``) poll every 3 s per session with per-user filters: ``poll`` gates each
session's SQL on the same counter, so a desk costs one GET a tick and its queries run once per change.

Single flight: a burst of refreshes from many sessions after one change makes ONE SQL read; the others wait
for it on the entry's lock and take its result. Scoping per user stays in memory (``WallReader.read``'s
``home``, the case panel's key).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import redis

from onescreen import names

SAFETY_S = 30.0   # an entry is re-read at least this often, change or not (a missed bump is caught here)
UNKNOWN_S = 2.0   # Redis unreadable: re-read at this pace (the counter cannot tell)
MAX_KEYS = 512    # distinct keys kept (users × drill-down nodes); more: start again


def version(client: Any) -> bytes | str | None:
    """The change counter (None when never bumped or Redis cannot be read: the caller ages entries instead)."""
    try:
        return client.get(names.CHANGES_VERSION) or b"0"
    except redis.RedisError:
        return None


def poll(client: Any, seen: list[Any] | None, *key: Any, safety_s: float = SAFETY_S) -> tuple[bool, list[Any]]:
    """For one screen's poll (a desk's tick): must it re-read SQL? ``seen`` is what the last re-read returned
    (kept in the page's ``dcc.Store``): the counter, when, and ``key`` (what else the screen's content depends
    on, e.g. the selected row). Yes when the counter or the key moved, after ``safety_s``, and while Redis
    cannot be read (the desks then poll SQL as before). Returns (re-read?, the new ``seen``)."""
    ver, now = version(client), time.time()
    v = ver.decode() if isinstance(ver, bytes) else ver
    if seen and v is not None and seen[0] == v and seen[2:] == list(key) and now - seen[1] < safety_s:
        return False, seen
    return True, [v, now, *key]


class _Entry:
    __slots__ = ("at", "lock", "value", "ver")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ver: Any = None
        self.at = float("-inf")
        self.value: Any = None


class ChangeCache:
    """Values by key, re-loaded when the change counter moved or the entry is too old; thread-safe."""

    def __init__(self, safety_s: float = SAFETY_S, unknown_s: float = UNKNOWN_S):
        self.safety_s, self.unknown_s = safety_s, unknown_s
        self._entries: dict[Hashable, _Entry] = {}
        self._lock = threading.Lock()
        self.loads = 0  # SQL reads made (tests and the bench read it)

    def _fresh(self, e: _Entry, ver: Any, now: float) -> bool:
        age = now - e.at
        if ver is None:
            return age < self.unknown_s
        return e.ver == ver and age < self.safety_s

    def get(self, key: Hashable, ver: Any, load: Callable[[], Any]) -> Any:
        """The value of ``key`` for counter value ``ver`` (``version()``); ``load`` runs at most once per change
        for all callers (it may raise: nothing is cached then and the caller handles the error)."""
        with self._lock:
            e = self._entries.get(key)
            if e is None:
                if len(self._entries) >= MAX_KEYS:
                    self._entries.clear()
                e = self._entries[key] = _Entry()
        if self._fresh(e, ver, time.monotonic()):
            return e.value
        with e.lock:  # single flight: the others wait here and take the one read's result
            if self._fresh(e, ver, time.monotonic()):
                return e.value
            value = load()
            self.loads += 1
            # ``ver`` was read before the load: a change committed meanwhile is in the value or bumps past ``ver``
            e.value, e.ver, e.at = value, ver, time.monotonic()
            return value
