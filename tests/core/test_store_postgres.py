"""The same store code against a real PostgreSQL server (a throwaway cluster started here).

Skipped, with the reason, where PostgreSQL's server binaries are not installed; ./test.sh
installs them (Debian's postgresql package) when it runs as root, as CI does.
"""
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from app.core.rules import Thresholds
from app.core.store import open_database
from app.core.store.database import current_revision, head_revision
from app.core.store.repository import (
    ScoreRecord,
    record_score,
    register_model,
    save_thresholds,
    scored_paths,
    verdict_counts,
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
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
    subprocess.run(
        run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-w", "-l", str(root / "log"), "-o",
                  f"-p {port} -k {sock} -c listen_addresses=''", "start"],
        check=True, capture_output=True,
    )
    yield f"postgresql+psycopg://postgres@/postgres?host={sock}&port={port}"
    subprocess.run(run_as + [f"{bindir}/pg_ctl", "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


def test_the_store_works_unchanged_on_postgresql(postgres_url):
    db = open_database(postgres_url)
    assert current_revision(db.engine) == head_revision()
    mv = register_model(db, {"name": "m", "version": "1", "sha256": "b" * 64}, "/m.onnx")
    for i, s in enumerate([10.0, 50.0, 90.0]):
        record_score(db, mv, ScoreRecord(f"/p/{i}.jpg", "ok", s, [s, s, s]))
    record_score(db, mv, ScoreRecord("/p/0.jpg", "ok", 95.0, [95, 95, 95]))  # upsert, not a duplicate
    assert scored_paths(db, mv) == {"/p/0.jpg", "/p/1.jpg", "/p/2.jpg"}
    save_thresholds(db, mv, "strict", Thresholds(92, 60))
    assert verdict_counts(db, mv) == {"pass": 1, "review": 1, "fail": 1}  # 95, 90, 50
    db.close()
