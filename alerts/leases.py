"""Which engine owns which partition: leases in Redis, renewed while alive, taken over when they lapse.

One partition's rule state must live in one engine (DESIGN: "one rule's state lives on one consumer"), so a
partition is processed only by the holder of its lease (``SET NX PX``; renew and release only if still ours,
by a compare-and-set script). Engines share partitions fairly: each aims for ceil(P / live engines) and gives
away extras when a new engine appears. A dead engine's leases expire after ``lease_s`` and the survivors
take its partitions, its pending entries (XAUTOCLAIM) and its state (it is all in Redis).
"""

from __future__ import annotations

import math
import time

import redis

from onescreen import names

RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Leases:
    def __init__(
        self, client: redis.Redis, instance: str, partitions: int, lease_s: float, kind: str = "alerts"
    ):
        self.redis, self.instance, self.partitions = client, instance, partitions
        self.lease_ms = int(lease_s * 1000)
        self.kind = kind
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)

    def live_engines(self) -> int:
        """Engines with a fresh heartbeat (the Worker's process index), ourselves included."""
        cutoff = time.time() - max(10.0, self.lease_ms / 1000)
        members = self.redis.zrangebyscore(names.PROCESSES, cutoff, "+inf")
        alive = {m.decode() if isinstance(m, bytes) else m for m in members}
        alive.add(f"{self.kind}:{self.instance}")
        return sum(1 for m in alive if m.startswith(f"{self.kind}:"))

    def renew(self, partition: int) -> bool:
        return bool(self._renew(keys=[names.partition_lease(partition)], args=[self.instance, self.lease_ms]))

    def acquire(self, partition: int) -> bool:
        return bool(
            self.redis.set(names.partition_lease(partition), self.instance, nx=True, px=self.lease_ms)
        )

    def release(self, partition: int) -> None:
        self._release(keys=[names.partition_lease(partition)], args=[self.instance])

    def balance(self, owned: set[int]) -> tuple[set[int], set[int], set[int]]:
        """Renew, then move towards the fair share: (kept, gained, to_give_away)."""
        kept = {p for p in owned if self.renew(p)}
        share = math.ceil(self.partitions / self.live_engines())
        gained: set[int] = set()
        if len(kept) < share:
            for p in range(self.partitions):
                if p in kept:
                    continue
                if self.acquire(p):
                    gained.add(p)
                    if len(kept) + len(gained) >= share:
                        break
        extra = len(kept) + len(gained) - share
        give = set(sorted(kept, reverse=True)[:extra]) if extra > 0 else set()
        return kept - give, gained, give
