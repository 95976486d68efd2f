"""A private Redis Cluster: three masters and three replicas on free ports, joined by ``redis-cli --cluster``.

The same parts production runs (``redis-server --cluster-enabled yes``), so tests and ``onescreen demo --cluster``
exercise slot routing, MOVED redirections and a real failover. Each node is a :class:`RedisServer` with cluster
options in its own directory (``nodes.conf`` survives a restart, so a killed master comes back as a replica of
the node that replaced it). ``cluster-node-timeout`` is short (1 s) so a kill -9 fails over in a few seconds,
and ``cluster-require-full-coverage no`` lets the other masters keep serving their slots meanwhile.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from onescreen.services.base import ServiceError, find_binary, free_port, port_open
from onescreen.services.redis import RedisServer

log = logging.getLogger(__name__)

NODE_TIMEOUT_MS = 1000


class ClusterNode(RedisServer):
    """One cluster-enabled redis-server (its slots and peers are kept in ``nodes.conf`` in its directory)."""

    name = "redis-node"

    def __init__(self, port: int | None = None, workdir: str | Path | None = None, bus_port: int | None = None):
        super().__init__(port, workdir)
        self.bus_port = bus_port or free_port()  # the default (port + 10000) may be over 65535 or taken


    def _command(self) -> list[str]:
        cmd = super()._command()
        cmd[cmd.index("--databases"):cmd.index("--databases") + 2] = []  # a cluster has only db 0
        return cmd + ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                      "--cluster-port", str(self.bus_port),
                      "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                      "--cluster-require-full-coverage", "no", "--cluster-allow-reads-when-down", "yes",
                      # a replica's first full sync starts at once, not after the default 5 s gathering delay
                      "--repl-diskless-sync-delay", "0"]


class RedisClusterServer:
    """Six nodes (3 masters + 3 replicas) as one service: ``start()``, ``healthy()``, ``close()``.

    ``url`` is a ``redis+cluster://host:port,host:port,…`` URL naming every node, which
    ``onescreen.redisconn.connect`` turns into a cluster client.
    """

    name = "redis-cluster"
    masters = 3
    replicas = 1

    def __init__(self, workdir: str | Path | None = None):
        self._own_workdir = workdir is None
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="onescreen-redis-cluster-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.cli = find_binary("redis-cli", "redis-tools")
        total = self.masters * (1 + self.replicas)
        ports = self._saved_ports(total)
        if ports is None:  # first start here, or the old ports are taken: a new cluster (nodes.conf names ports)
            for i in range(total):
                shutil.rmtree(self.workdir / f"n{i}", ignore_errors=True)
            ports = [(free_port(), free_port()) for _ in range(total)]
            (self.workdir / "ports.json").write_text(json.dumps(ports), encoding="utf-8")
        self.nodes = [ClusterNode(p, self.workdir / f"n{i}", bus_port=b) for i, (p, b) in enumerate(ports)]
        self.host = "127.0.0.1"

    def _saved_ports(self, total: int) -> list[tuple[int, int]] | None:
        """The ports of a cluster kept in this work directory (the demo's, across runs) if all are free."""
        try:
            ports = [tuple(p) for p in json.loads((self.workdir / "ports.json").read_text(encoding="utf-8"))]
        except (OSError, ValueError, TypeError):
            return None
        if len(ports) != total or any(port_open(p) or port_open(b) for p, b in ports):
            return None
        return ports

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{n.host}:{n.port}" for n in self.nodes)

    @property
    def port(self) -> int:
        """The first node's port (a startup node, for tools that want one address)."""
        return self.nodes[0].port

    @property
    def running(self) -> bool:
        return any(n.running for n in self.nodes)

    def start(self) -> RedisClusterServer:
        """Start every node; create the cluster on first start; wait until all slots are served."""
        for node in self.nodes:
            node.start()
        if self._info(self.nodes[0]).get("cluster_known_nodes", "1") == "1":
            self._create()
        self.wait_healthy()
        return self

    def _create(self) -> None:
        addrs = [f"{n.host}:{n.port}" for n in self.nodes]
        log.info("creating redis cluster over %s", " ".join(addrs))
        done = subprocess.run([self.cli, "--cluster", "create", *addrs, "--cluster-replicas", str(self.replicas),
                               "--cluster-yes"], capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise ServiceError(f"redis-cli --cluster create failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")

    @staticmethod
    def _client(node: ClusterNode) -> redis.Redis:
        return redis.Redis(node.host, node.port, socket_connect_timeout=0.5, socket_timeout=1)

    def _info(self, node: ClusterNode) -> dict[str, str]:
        try:
            with self._client(node) as r:
                text = r.execute_command("CLUSTER INFO")
        except redis.RedisError:
            return {}
        if isinstance(text, dict):  # redis-py parses the reply already
            return {str(k): str(v) for k, v in text.items()}
        text = text.decode() if isinstance(text, bytes) else text
        return dict(line.split(":", 1) for line in text.strip().splitlines() if ":" in line)

    def healthy(self, replicas: bool = True) -> bool:
        """Every running node says ``cluster_state:ok``, ``masters`` masters serve all slots and (``replicas``)
        each has its replicas in sync."""
        live = [n for n in self.nodes if n.running]
        if not live:
            return False
        for node in live:
            info = self._info(node)
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != "16384":
                return False
        masters = self.master_nodes()
        return len(masters) == self.masters and (not replicas or all(self._replicas_online(m) for m in masters))

    def _replicas_online(self, node: ClusterNode) -> bool:
        """The master's replicas (those running) have finished their sync, so WAIT can count them."""
        try:
            with self._client(node) as r:
                info = r.info("replication")
        except redis.RedisError:
            return False
        states = [v.get("state") for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        return sum(1 for s in states if s == "online") >= self.replicas

    def wait_healthy(self, timeout: float = 30.0, replicas: bool = True) -> None:
        """Block until :meth:`healthy`; ServiceError if not within ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy(replicas):
                return
            time.sleep(0.1)
        raise ServiceError(f"redis cluster not healthy after {timeout:.0f} s (logs under {self.workdir})")

    def master_nodes(self) -> list[ClusterNode]:
        """Running nodes that currently serve slots as masters."""
        by_port = {n.port: n for n in self.nodes if n.running}
        for node in by_port.values():
            try:
                with self._client(node) as r:
                    rows = r.execute_command("CLUSTER SLOTS")
            except redis.RedisError:
                continue
            ports = {int(row[2][1]) for row in rows}
            return [by_port[p] for p in sorted(ports) if p in by_port]
        return []

    def master_of(self, key: str) -> ClusterNode:
        """The node serving the slot of ``key`` as master now."""
        for node in self.nodes:
            if not node.running:
                continue
            try:
                with self._client(node) as r:
                    slot = r.execute_command("CLUSTER KEYSLOT", key)
                    rows = r.execute_command("CLUSTER SLOTS")
            except redis.RedisError:
                continue
            for row in rows:
                if row[0] <= slot <= row[1]:
                    port = int(row[2][1])
                    return next(n for n in self.nodes if n.port == port)
        raise ServiceError(f"no running node serves the slot of {key!r}")

    def kill_master_of(self, key: str) -> ClusterNode:
        """kill -9 the master of ``key``'s slot, as a crash would; returns the dead node (``node.start()`` revives it)."""
        node = self.master_of(key)
        log.info("killing redis master %s", node.port)
        node.kill()
        return node

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def close(self) -> None:
        """Stop every node and delete the work directory if this object created it."""
        for node in self.nodes:
            node.close()
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> RedisClusterServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<RedisClusterServer {self.url} {'running' if self.running else 'stopped'}>"
