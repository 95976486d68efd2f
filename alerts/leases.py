"""Which engine owns which partition: leases in Redis, renewed while alive, taken over when they lapse.

One partition's rule state must live in one engine (DESIGN: "one rule's state lives on one consumer"), so a
partition is processed only by the holder of its lease (``SET NX PX``; renew and release only if still ours,
by a compare-and-set script). Engines share partitions fairly: each aims for ceil(P / live engines) and gives
away extras when a new engine appears. A dead engine's leases expire after ``lease_s`` and the survivors
take its partitions, its pending entries (XAUTOCLAIM) and its state (it is all in Redis).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import redis

from onescreen import names
from onescreen.leases import LeaseKeys, live_members


class Leases:
    def __init__(
        self, client: redis.Redis, instance: str, partitions: int, lease_s: float, kind: str = "alerts",
        key_of: Callable[[int], str] = names.partition_lease,
    ):
        self.redis, self.instance, self.partitions = client, instance, partitions
        self.lease_ms = int(lease_s * 1000)
        self.kind = kind
        self.keys = LeaseKeys(client, instance, lease_s, key_of)

    def live_engines(self) -> int:
        """Engines with a fresh heartbeat (the Worker's process index), ourselves included."""
        return live_members(self.redis, self.kind, self.instance, max(10.0, self.lease_ms / 1000))

    def renew(self, partition: int) -> bool:
        return bool(self.keys.renew([partition]))

    def acquire(self, partition: int) -> bool:
        return bool(self.keys.acquire([partition]))

    def release(self, partition: int) -> None:
        self.keys.release([partition])

    def balance(self, owned: set[int]) -> tuple[set[int], set[int], set[int]]:
        """Renew, then move towards the fair share: (kept, gained, to_give_away)."""
        kept = self.keys.renew(owned)
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
