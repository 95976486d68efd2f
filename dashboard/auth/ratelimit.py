"""Wrong-password limits in Redis, per username and per client address (fixed windows).

A name or an address with too many failures in ``login_lockout_minutes`` is refused before the password is
even checked, until its window ends; a successful login clears the name's count (not the address's, so one
good account cannot reset an address that is guessing others).
"""

from __future__ import annotations

import hashlib

import redis

from onescreen import names
from onescreen.settings import DashboardSettings

PREFIX = f"{names.ROOT}:auth:fail"


def _key(kind: str, value: str) -> str:
    # hashed: usernames as typed may be anything, and keys should not carry them in clear
    return f"{PREFIX}:{kind}:{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:32]}"


class LoginLimiter:
    """``locked(user, ip)`` -> seconds to wait (0 = go ahead); ``failed``; ``succeeded``."""

    def __init__(self, client: redis.Redis, cfg: DashboardSettings):
        self.client = client
        self.window_s = cfg.login_lockout_minutes * 60
        self.limits = {"user": cfg.login_max_failures_user, "ip": cfg.login_max_failures_ip}

    def locked(self, username: str, ip: str) -> int:
        pipe = self.client.pipeline(transaction=False)
        keys = [(_key("user", username), self.limits["user"]), (_key("ip", ip), self.limits["ip"])]
        for key, _ in keys:
            pipe.get(key)
            pipe.ttl(key)
        values = pipe.execute()
        wait = 0
        for i, (_, limit) in enumerate(keys):
            count, ttl = values[2 * i], values[2 * i + 1]
            if count is not None and int(count) >= limit:
                wait = max(wait, int(ttl) if ttl and ttl > 0 else self.window_s)
        return wait

    def failed(self, username: str, ip: str) -> None:
        pipe = self.client.pipeline(transaction=False)
        for key in (_key("user", username), _key("ip", ip)):
            pipe.set(key, 0, ex=self.window_s, nx=True)  # the window starts at the first failure
            pipe.incr(key)
        pipe.execute()

    def succeeded(self, username: str) -> None:
        self.client.delete(_key("user", username))
