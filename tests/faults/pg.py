"""A throwaway PostgreSQL cluster for the suite: started in a temp folder, one database per case,
restarted on demand (a fault case), stopped at the end.

As root the server runs as the ``postgres`` user (initdb refuses root). Where the server
binaries or psycopg are missing, ``PgCluster.find`` says why and the PostgreSQL cases are
listed as skipped, never silently passed.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class PgCluster:
    def __init__(self, bindir: str):
        self.bindir = bindir
        # Not under the run's private temp folder: the server user must be able to enter it.
        self.root = Path(tempfile.mkdtemp(prefix="fault-suite-pg-"))
        self.data, self.sock = self.root / "data", self.root / "sock"
        self.sock.mkdir()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (self.root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self._ctl(["initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust"])
        self.start()

    @staticmethod
    def find() -> tuple[str | None, str]:
        """(bindir, '') where a cluster can be started here, else (None, why not)."""
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            return None, "PostgreSQL server binaries not installed"
        try:
            import psycopg  # noqa: F401
        except ImportError:
            return None, "psycopg not installed"
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return None, "running as root and there is no postgres user to run the server as"
        return os.path.dirname(bins[-1]), ""

    def _ctl(self, args: list[str]) -> None:
        subprocess.run(self.run_as + [f"{self.bindir}/{args[0]}", *args[1:]], check=True, capture_output=True,
                       timeout=120)

    def _pg_ctl(self, action: str, mode: str = "fast") -> None:
        self._ctl(["pg_ctl", "-D", str(self.data), "-w", "-m", mode, "-l", str(self.root / "log"), "-o",
                   f"-p {self.port} -k {self.sock} -c listen_addresses='' -c max_connections=60", action])

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self, mode: str = "fast") -> None:
        self._pg_ctl("restart", mode)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@/{dbname}?host={self.sock}&port={self.port}"

    def _connect(self, dbname: str = "postgres"):
        import psycopg

        return psycopg.connect(host=str(self.sock), port=self.port, user="postgres", dbname=dbname, autocommit=True)

    def create_db(self, name: str) -> str:
        with self._connect() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def rows(self, dbname: str) -> list[tuple]:
        """Score rows like ``common.sqlite_rows``: (path, status, score, verdict, model, opinions)."""
        import psycopg

        try:
            with self._connect(dbname) as c:
                return c.execute(
                    "select i.path, s.status, s.score, s.verdict, m.name, s.opinions::text from scores s "
                    "join images i on i.id = s.image_id join model_versions m on m.id = s.model_version_id").fetchall()
        except psycopg.errors.UndefinedTable:
            return []

    def stop(self) -> None:
        try:
            self._pg_ctl("stop", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
