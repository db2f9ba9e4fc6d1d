"""A throwaway PostgreSQL cluster for the store's tests, started once per test session.

Skipped, with the reason, where PostgreSQL's server binaries are not installed; ./test.sh
installs them (Debian's postgresql package) when it runs as root, as CI does.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresCluster:
    url: str  # of the ``postgres`` database
    bindir: str
    data: Path
    port: int
    sock: Path
    run_as: list[str]

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            self.run_as + [f"{self.bindir}/pg_ctl", "-D", str(self.data), "-w", "-l", str(self.data.parent / "log"),
                           "-o", f"-p {self.port} -k {self.sock} -c listen_addresses=''", *args],
            check=True, capture_output=True,
        )

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self.pg_ctl("start")

    def new_database(self, name: str) -> str:
        """The URL of a brand-new, empty database of this cluster."""
        from sqlalchemy import create_engine, make_url, text

        admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()  # no connection left open: tests fork after this
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_cluster():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not bins:
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    pytest.importorskip("psycopg")
    bindir = os.path.dirname(bins[-1])
    # Not under pytest's tmp folders: those are private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="mobileiqa-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    run_as = []
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("no postgres system user to run the server as")
        for p in (root, sock):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run(run_as + [f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust"], check=True, capture_output=True)
    cluster = PostgresCluster(f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}", bindir, data, port, sock, run_as)
    cluster.start()
    yield cluster
    subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_cluster):
    return postgres_cluster.url


@pytest.fixture
def station(exported_student, tmp_path):
    """A station's Workspace on a fresh SQLite database, the tiny exported student loaded."""
    from app.core.workspace import Workspace

    ws = Workspace(tmp_path / "station.db")
    ws.load_model(exported_student[1])
    yield ws
    ws.close()


@pytest.fixture
def db(tmp_path):
    """A fresh SQLite database, migrated to head, closed after the test."""
    from app.core.store import open_database

    database = open_database(tmp_path / "inspector.db")
    yield database
    database.close()
