"""Real services as child processes: Redis, Mosquitto, an RTSP server and a throwaway PostgreSQL.

The test suite and ``onescreen demo`` need the same parts the production system runs against, without
touching anything already running on the machine. Each class starts one service on a free port in a private
work directory, waits until it really accepts connections, and stops it cleanly; ``stop()`` then ``start()``
brings it back on the same port with the same data directory, which is how tests simulate an outage.
"""

from onescreen.services.base import Service, ServiceError, die_with_parent, find_binary, free_port, port_open
from onescreen.services.mosquitto import NO_DROP_SETTINGS, MosquittoServer
from onescreen.services.postgres import PostgresCluster
from onescreen.services.redis import RedisServer
from onescreen.services.redis_cluster import RedisClusterServer
from onescreen.services.rtsp import RtspServer

__all__ = ["NO_DROP_SETTINGS", "MosquittoServer", "PostgresCluster", "RedisClusterServer", "RedisServer", "RtspServer", "Service",
           "ServiceError", "die_with_parent", "find_binary", "free_port", "port_open"]
