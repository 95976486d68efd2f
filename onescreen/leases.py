"""Leases in Redis: who owns a partition (alert engines) or a camera (video workers). One implementation.

A lease is one key whose value is the holder's instance name and whose TTL is the lease time:
acquire is ``SET key instance NX PX lease_ms``; renew and release are compare-and-set Lua scripts that act only
if the key still holds our name, so a holder never extends or deletes a lease someone else took after ours
lapsed. Each script names exactly one key, so each is legal on Redis Cluster whatever slot the key is in; many
leases go in one pipeline (one round trip; a cluster pipeline splits it by node). The policies (fair share of
partitions, rendezvous hashing of cameras) live with their users: ``alerts/leases.py``, ``ingest/video/leases.py``.

After a Redis failover a lease written just before the crash may be lost (replication is asynchronous): the
holder's next renew then fails, it stops the work, and whoever acquires the key next owns it; the lease time
bounds how long two holders could overlap, and the consumers' idempotence (dedup keys, alert identities)
covers that window.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from onescreen import names

RENEW = """if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0"""
RELEASE = """if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0"""


class LeaseKeys:
    """Acquire, renew and release leases named by ``key_of(subject)`` for one holder; batched per call."""

    def __init__(self, client: Any, instance: str, lease_s: float, key_of: Callable[[Any], str]):
        self.redis, self.instance, self.key_of = client, instance, key_of
        self.lease_ms = int(lease_s * 1000)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    def acquire(self, subjects: Iterable[Any]) -> set:
        """The subjects whose lease we got now (free keys only)."""
        subjects = list(subjects)
        if not subjects:
            return set()
        pipe = self.redis.pipeline(transaction=False)
        for s in subjects:
            pipe.set(self.key_of(s), self.instance, nx=True, px=self.lease_ms)
        return {s for s, ok in zip(subjects, pipe.execute()) if ok}

    def renew(self, subjects: Iterable[Any]) -> set:
        """The subjects whose lease is still ours (now extended); the others were lost."""
        return self._each(self._renew, subjects, [self.instance, self.lease_ms])

    def release(self, subjects: Iterable[Any]) -> set:
        """Give leases back (only those still ours); returns the ones deleted."""
        return self._each(self._release, subjects, [self.instance])

    def _each(self, script: Any, subjects: Iterable[Any], args: list) -> set:
        subjects = sorted(subjects)
        if not subjects:
            return set()
        pipe = self.redis.pipeline(transaction=False)
        for s in subjects:
            script(keys=[self.key_of(s)], args=args, client=pipe)
        return {s for s, ok in zip(subjects, pipe.execute()) if ok}


def live_members(client: Any, kind: str, instance: str, stale_s: float) -> int:
    """Processes of one kind with a heartbeat newer than ``stale_s`` in ``names.PROCESSES`` (ourselves included)."""
    members = client.zrangebyscore(names.PROCESSES, time.time() - stale_s, "+inf")
    prefix = names.process_member_prefix(kind)
    alive = {m.decode() if isinstance(m, bytes) else m for m in members} | {f"{prefix}{instance}"}
    return sum(1 for m in alive if m.startswith(prefix))
