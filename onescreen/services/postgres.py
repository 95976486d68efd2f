"""A throwaway PostgreSQL cluster (initdb) on a free port."""

from __future__ import annotations

import glob
import logging
import os
import pwd
import signal
import stat
import subprocess
from pathlib import Path

from onescreen.services.base import Service, ServiceError, _tail, find_binary

log = logging.getLogger(__name__)

def _unprivileged_user() -> pwd.struct_passwd:
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise ServiceError("running as root and neither user 'postgres' nor 'nobody' exists to run PostgreSQL")


class PostgresCluster(Service):
    """A throwaway PostgreSQL cluster (trust auth, fsync off) with a database ``onescreen``.

    PostgreSQL refuses to run as root. When we are root, initdb and the postmaster run as the ``postgres``
    user (``nobody`` if there is none) through Popen's ``user=``/``group=`` (setuid in the child, no
    su/runuser session in between), so the postmaster stays our direct child and dies with us. That user
    must be able to reach the work directory: the default one (mkdtemp under /tmp) is chowned to it; a
    caller-supplied directory must sit under world-traversable parents (pytest's tmp_path does not).
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # the postmaster's "fast" shutdown, i.e. what `pg_ctl stop -m fast` sends
    start_timeout_s = 60.0

    def __init__(self, port: int | None = None, workdir: str | Path | None = None):
        super().__init__(port, workdir)
        bin_dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name),
                          reverse=True)
        self.initdb = find_binary("initdb", "postgresql", extra_dirs=bin_dirs)
        self.postgres = str(Path(self.initdb).with_name("postgres"))
        if not Path(self.postgres).is_file():
            self.postgres = find_binary("postgres", "postgresql", extra_dirs=bin_dirs)
        self.datadir = self.workdir / "data"
        self._user = _unprivileged_user() if os.geteuid() == 0 else None
        self._db_created = False

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/onescreen"

    def _popen_kwargs(self) -> dict:
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": [],
                "env": {**os.environ, "HOME": str(self.workdir), "USER": self._user.pw_name}}

    def _prepare(self) -> None:
        if self._user is not None:
            for parent in self.workdir.resolve().parents:
                if not parent.stat().st_mode & stat.S_IXOTH:
                    raise ServiceError(f"PostgreSQL runs as user {self._user.pw_name}, who cannot reach "
                                       f"{self.workdir} ({parent} is not world-searchable): use a work "
                                       "directory under /tmp, or leave workdir unset")
            for path in [self.workdir, *self.workdir.rglob("*")]:
                os.chown(path, self._user.pw_uid, self._user.pw_gid)
        if (self.datadir / "PG_VERSION").is_file():
            return
        with open(self.log_path, "ab") as logf:
            done = subprocess.run([self.initdb, "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                                   "--encoding=UTF8", "--locale=C", "--no-sync"],
                                  stdout=logf, stderr=subprocess.STDOUT, cwd=self.workdir,
                                  **self._popen_kwargs())
        if done.returncode != 0:
            raise ServiceError(f"initdb failed (log {self.log_path}):\n{_tail(self.log_path)}")

    def _command(self) -> list[str]:
        # Run the postmaster itself rather than `pg_ctl start` (which daemonises it) so it is our child.
        # fsync and friends are off: this cluster is thrown away, and tests want speed, not durability.
        return [self.postgres, "-D", str(self.datadir), "-p", str(self.port), "-k", str(self.workdir),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=200"]

    def _ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres",
                                 connect_timeout=2, autocommit=True) as conn:
                if not self._db_created:
                    exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = 'onescreen'").fetchone()
                    if not exists:
                        conn.execute("CREATE DATABASE onescreen")
                    self._db_created = True
            return True
        except psycopg.OperationalError:
            return False
