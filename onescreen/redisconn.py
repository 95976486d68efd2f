"""Redis connections built from settings: ONE factory for a single Redis and for Redis Cluster.

``connect`` reads ``redis.url``: ``redis://`` / ``rediss://`` / ``unix://`` give a single-node client,
``redis+cluster://host:port,host:port,…`` (or ``rediss+cluster://``) a cluster client started from those nodes.
Everything else in OneScreen uses the returned client the same way; the few things a cluster client cannot do
as a single Redis does are made equal here, so no caller branches on the kind of Redis:

- a cluster pipeline refuses ``EVALSHA``/``EVAL``/``PUBLISH`` (redis-py blocks them); ours routes scripts by their
  first key (every script in OneScreen touches one hash-tagged slot) and PUBLISH to any node (cluster pub/sub is
  broadcast to every node);
- ``XREADGROUP`` over streams of several slots is one call per slot: ours groups the streams by slot, reads them in
  one pipeline and, when asked to block, polls briefly until something arrives or the block time is over;
- ``pipe.replicated(n, timeout_ms)`` (both kinds) asks for ``WAIT n timeout_ms`` after the pipeline's writes on every
  node they went to, on the same connection, and leaves the smallest acknowledgement count in ``pipe.replica_acks``.

Slot safety (the rule callers keep): a Lua script, a ``pipeline(transaction=True)`` and a multi-key command only
ever name keys of one hash tag (``onescreen.names``: ``{pNN}`` per partition, ``{camera}`` per camera, ``{unit}``
per unit); global keys (``os:changes``, small global hashes and sets, the outbox stream) are single-key accesses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.client import Pipeline
from redis.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.exceptions import RedisClusterException
from redis.commands.core import Script
from redis.retry import Retry

from onescreen.settings import RedisSettings

log = logging.getLogger(__name__)

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
POLL_S = 0.02  # a cluster XREADGROUP over several slots polls at this pace while blocking


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def cluster_nodes(url: str) -> list[tuple[str, int]]:
    """``redis+cluster://h1:p1,h2:p2/…`` -> [(h1, p1), (h2, p2)]; ValueError naming the bad part."""
    rest = url.split("://", 1)[1].split("/", 1)[0]
    rest = rest.rsplit("@", 1)[-1]  # no credentials in the URL (the password comes from the environment)
    nodes = []
    for part in filter(None, rest.split(",")):
        host, sep, port = part.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"cluster node {part!r} is not host:port")
        nodes.append((host.strip("[]"), int(port)))
    if not nodes:
        raise ValueError("a redis+cluster:// URL names at least one host:port")
    return nodes


def connect(cfg: RedisSettings, *, decode: bool = False) -> redis.Redis | RedisCluster:
    """A client that retries briefly on connection errors; callers handle longer outages themselves."""
    password = cfg.password.get_secret_value() if cfg.password else None
    common: dict[str, Any] = dict(
        password=password,
        decode_responses=decode,
        # Raw device bytes (a rejected payload, a cut multi-byte character) must not break a reader that decodes.
        encoding_errors="backslashreplace",
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
    )
    if is_cluster_url(cfg.url):
        return Cluster(
            startup_nodes=[ClusterNode(h, p) for h, p in cluster_nodes(cfg.url)],
            ssl=cfg.url.startswith("rediss+"),
            require_full_coverage=False,  # the other masters' slots stay usable while one fails over
            # A failover takes ~node timeout + an election (1-3 s): ride through it inside the call.
            retry=Retry(ExponentialWithJitterBackoff(base=0.1, cap=1.0), 6),
            **common,
        )
    return Single.from_url(
        cfg.url,
        retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), 3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        **common,
    )


# ---------------------------------------------------------------- single node
class SinglePipeline(Pipeline):
    """redis-py's pipeline plus ``replicated`` (same API as the cluster one)."""

    replica_acks: int | None = None
    _wait: tuple[int, int] | None = None

    def replicated(self, replicas: int, timeout_ms: int) -> SinglePipeline:
        """After the queued writes, wait until ``replicas`` replicas have them (or ``timeout_ms``)."""
        self._wait = (replicas, timeout_ms) if replicas > 0 else None
        return self

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        wait, self._wait = self._wait, None
        if wait is None or not self.command_stack:
            return super().execute(raise_on_error)
        self.execute_command("WAIT", *wait)
        out = super().execute(raise_on_error)
        self.replica_acks = out.pop()
        return out


class Single(redis.Redis):
    """A single-node client whose pipelines speak ``replicated`` like the cluster's."""

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> SinglePipeline:
        return SinglePipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)

    def pool_for(self, key: Any) -> redis.ConnectionPool:
        """The pool of the node serving ``key``: ours."""
        return self.connection_pool

    def refresh_slots(self) -> None:
        """Nothing to refresh on a single Redis."""


# ---------------------------------------------------------------- cluster
class ClusterPipe(ClusterPipeline):
    """A cluster pipeline that runs scripts and PUBLISH, and can wait for replicas per node."""

    replica_acks: int | None = None
    _wait: tuple[int, int] | None = None

    def evalsha(self, sha: str, numkeys: int, *keys_and_args: Any) -> Any:
        return self.execute_command("EVALSHA", sha, numkeys, *keys_and_args)

    def eval(self, script: str, numkeys: int, *keys_and_args: Any) -> Any:  # noqa: A003 - redis-py's name
        return self.execute_command("EVAL", script, numkeys, *keys_and_args)

    def publish(self, channel: Any, message: Any, **kwargs: Any) -> Any:
        return self.execute_command("PUBLISH", channel, message, target_nodes=self.get_random_node())

    def replicated(self, replicas: int, timeout_ms: int) -> ClusterPipe:
        """After the queued writes, ``WAIT`` on every node they go to (same connection as the writes)."""
        self._wait = (replicas, timeout_ms) if replicas > 0 else None
        return self

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        wait, self._wait = self._wait, None
        stack = self._execution_strategy.command_queue
        if wait is None or not stack:
            return self._run(raise_on_error)
        nodes = {}
        for cmd in stack:
            try:
                node = self.nodes_manager.get_node_from_slot(self.determine_slot(*cmd.args))
            except redis.RedisError:
                continue  # keyless (PUBLISH): nothing to make durable
            nodes[node.name] = node
        for node in nodes.values():
            self.execute_command("WAIT", *wait, target_nodes=node)
        out = self._run(raise_on_error)
        acks = out[len(out) - len(nodes):]
        del out[len(out) - len(nodes):]
        self.replica_acks = min(acks) if acks else None
        return out

    def _run(self, raise_on_error: bool) -> list[Any]:
        """Execute; redis-py's cluster-routing failures (a node gone mid-failover) surface as ConnectionError,
        the outage every caller already handles (retry the batch), not as a bare RedisClusterException."""
        try:
            return super().execute(raise_on_error)
        except RedisClusterException as exc:
            raise redis.ConnectionError(f"Redis Cluster: {exc}") from exc


class ClusterScript(Script):
    """In a cluster pipeline a script is sent whole (EVAL): a node that never saw it (a replica promoted by a
    failover, a node added later) runs it anyway, where EVALSHA would fail the batch with NOSCRIPT."""

    def __call__(self, keys: Any = None, args: Any = None, client: Any = None) -> Any:
        if isinstance(client, ClusterPipe):
            keys, args = list(keys or []), list(args or [])
            return client.eval(self.script, len(keys), *keys, *args)
        return super().__call__(keys, args, client)


class Cluster(RedisCluster):
    """redis-py's cluster client with OneScreen's pipeline and a multi-slot XREADGROUP.

    Built lazily if no node answers at construction (redis-py's client reads the slot table in its constructor):
    a process that starts while the cluster is down then gets ``redis.ConnectionError`` from its first commands,
    like a single-node client, and carries on once the cluster is up, instead of dying in its constructor.
    """

    _refreshed_at = 0.0

    def __init__(self, **kwargs: Any):
        self._kwargs, self._built = kwargs, False
        try:
            self._build()
        except redis.ConnectionError as exc:
            log.warning("Redis Cluster not reachable yet (%s): connecting on first use", exc)

    def _build(self) -> None:
        try:
            super().__init__(**self._kwargs)
        except (RedisClusterException, redis.RedisError) as exc:
            raise redis.ConnectionError(f"Redis Cluster unreachable: {exc}") from None
        self._built = True

    def __getattr__(self, name: str) -> Any:
        """A missing attribute before the first successful build is the slot table & co.: build now."""
        if name.startswith("__") or self.__dict__.get("_built", True):
            raise AttributeError(name)
        self._build()
        return getattr(self, name)

    def close(self) -> None:
        if self.__dict__.get("_built"):
            super().close()

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        """redis-py's routing failures (slots uncovered mid-failover) as ConnectionError: an outage to ride out."""
        try:
            return super().execute_command(*args, **kwargs)
        except RedisClusterException as exc:
            raise redis.ConnectionError(f"Redis Cluster: {exc}") from exc

    def register_script(self, script: str) -> ClusterScript:
        return ClusterScript(self, script)

    def pool_for(self, key: Any) -> redis.ConnectionPool:
        """The pool of the master serving ``key``'s slot, from the slot table as last seen."""
        return self.get_redis_connection(self.get_node_from_key(key)).connection_pool

    def refresh_slots(self) -> None:
        """Re-read the slot table (after a failover), at most once a second however many callers ask."""
        with self._lock:
            if time.monotonic() - self._refreshed_at < 1.0:
                return
            self._refreshed_at = time.monotonic()
        try:
            self.nodes_manager.initialize()
        except redis.RedisError:
            pass  # the cluster is still electing: the next error asks again

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> ClusterPipe:
        if shard_hint:
            raise redis.RedisError("shard_hint is not supported on a cluster")
        return ClusterPipe(
            nodes_manager=self.nodes_manager,
            commands_parser=self.commands_parser,
            startup_nodes=self.nodes_manager.startup_nodes,
            result_callbacks=self.result_callbacks,
            cluster_response_callbacks=self.cluster_response_callbacks,
            read_from_replicas=self.read_from_replicas,
            load_balancing_strategy=self.load_balancing_strategy,
            reinitialize_steps=self.reinitialize_steps,
            retry=self.retry,
            lock=self._lock,
            transaction=transaction,
            encoding=self.get_encoder().encoding,
            encoding_errors=self.get_encoder().encoding_errors,
            decode_responses=self.get_encoder().decode_responses,
        )

    def xreadgroup(self, groupname: str, consumername: str, streams: dict, count: int | None = None,
                   block: int | None = None, noack: bool = False) -> Any:
        """XREADGROUP over streams of any slots: one read per slot; ``count`` applies per slot."""
        by_slot: dict[int, dict] = {}
        for name, last_id in streams.items():
            by_slot.setdefault(self.keyslot(name), {})[name] = last_id
        if len(by_slot) <= 1:
            return super().xreadgroup(groupname, consumername, streams, count=count, block=block, noack=noack)
        deadline = None if block is None or block == 0 else time.monotonic() + block / 1000
        while True:
            pipe = self.pipeline(transaction=False)
            for group in by_slot.values():
                pipe.xreadgroup(groupname, consumername, group, count=count, noack=noack)
            out = _merge(pipe.execute())
            if out or block is None or (deadline is not None and time.monotonic() >= deadline):
                return out
            time.sleep(POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic())))


def _merge(replies: Iterable[Any]) -> list:
    """Per-slot XREADGROUP replies -> one list of [stream, entries], as one XREADGROUP returns (RESP2)."""
    return [item for reply in replies if reply for item in reply]


class OwnConnection:
    """A connection of its own (no pool check-out, no health poll) to the node serving a key: the hot path of a
    writer that sends a few commands a second from one thread. After an error it reconnects to the node the
    slot table names then (refreshed on error, so a failover moves it to the promoted replica)."""

    def __init__(self, client: Any, name: str):
        self.client, self.name = client, name
        self.conn: Any = None
        self._pool: Any = None

    def call(self, key: Any, *args: Any) -> Any:
        """Send one command whose key is ``key`` and read its reply."""
        # a plain redis.Redis (not from connect()) has one pool
        pool = self.client.pool_for(key) if hasattr(self.client, "pool_for") else self.client.connection_pool
        if self.conn is None or pool is not self._pool:
            self.close()
            self.conn = pool.connection_class(**{**pool.connection_kwargs, "client_name": self.name})
            self._pool = pool
        conn = self.conn
        try:
            conn.send_packed_command(conn.pack_command(*args), check_health=False)
            return conn.read_response()
        except Exception:
            self.close()  # an exchange cut half-way must not leave its reply for the next command
            if hasattr(self.client, "refresh_slots"):
                self.client.refresh_slots()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.disconnect()
        self.conn = self._pool = None
