"""``@both_redis``: run an end-to-end test on a single Redis and on the local Redis Cluster.

It parametrises the ``redis_target`` fixture of ``tests/conftest.py`` (indirectly), which ``redis_client``,
``settings`` and the modules' settings fixtures build on; nothing else in a test changes.
"""

import pytest

both_redis = pytest.mark.parametrize("redis_target", ["single", "cluster"], indirect=True)
