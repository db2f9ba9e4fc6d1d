"""Archive scoring on a LocalCluster of two worker processes, into SQLite and PostgreSQL: every
photo one row, a rerun skips, a worker killed mid-run leaves no gap and no duplicate."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.core.model.trust import admit_model
from app.core.store import open_database
from app.core.store.schema import Image, Score

from .conftest import make_folder

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def score_archive(client, url, exported_student, roots, chunk_size=4, progress=None):
    from app.archive.run import install_plugin, run_chunks

    db = open_database(url)
    mv = admit_model(db, __import__("json").loads(exported_student[2].read_text()), str(exported_student[1]))
    install_plugin(client, db.url, mv, exported_student[2], threads=1)
    summary = run_chunks(client, db, mv, roots, chunk_size, progress=progress)
    return db, mv, summary


def rows_by_path(db, mv) -> dict[str, list[str]]:
    with db.session() as s:
        out: dict[str, list[str]] = {}
        for path, status in s.execute(select(Image.path, Score.status).join(Score).where(Score.model_version_id == mv)):
            out.setdefault(path, []).append(status)
        return out


def photo_files(root: Path) -> set[str]:
    return {os.path.realpath(p) for p in root.rglob("*") if p.is_file() and p.suffix in (".jpg", ".png")}


def assert_one_row_each(db, mv, root: Path) -> dict[str, list[str]]:
    rows = rows_by_path(db, mv)
    files = photo_files(root)
    assert set(rows) == files, f"missing {sorted(files - set(rows))[:3]}, extra {sorted(set(rows) - files)[:3]}"
    assert all(len(v) == 1 for v in rows.values())
    with db.session() as s:  # and no second image row for one file under another spelling
        assert s.scalar(select(func.count()).select_from(Image)) == len(files)
    return rows


def test_every_photo_gets_one_row_and_a_rerun_skips_what_is_unchanged(dask_client, db_url, exported_student, tmp_path):
    root = tmp_path / "archive"
    n = make_folder(root, 40)
    db, mv, first = score_archive(dask_client, db_url, exported_student, [root])
    rows = assert_one_row_each(db, mv, root)
    assert (first.scored, first.failed, first.skipped, first.stopped) == (40, 1, 0, None)
    assert first.total == n and len(first.workers) == 2  # both worker processes took chunks
    assert len([v for v in rows.values() if v != ["ok"]]) == 1  # the broken file, with its status
    assert first.walk.ignored == 1  # notes.txt

    changed = sorted(root.rglob("*.png"))[0]
    changed.write_bytes(sorted(root.rglob("*.png"))[1].read_bytes())  # same name, new content
    db2, _, again = score_archive(dask_client, db_url, exported_student, [root])
    assert (again.scored, again.failed, again.skipped) == (1, 1, 39)  # the failed one is tried again
    assert_one_row_each(db2, mv, root)
    db.close(), db2.close()


def test_a_worker_killed_mid_chunk_loses_nothing_and_duplicates_nothing(dask_client, db_url, exported_student,
                                                                       tmp_path):
    """The worker process dies on the 3rd photo of a chunk: the engine runs the chunk again on a
    worker (its nanny restarts the dead one), which skips the two photos already stored."""
    from app.archive.walk import chunked, walk_photos

    from ._dying import DieOnceAt

    root = tmp_path / "archive"
    make_folder(root, 60, bad=0)
    chunks = list(chunked(walk_photos([root]), 4))
    victim = chunks[len(chunks) // 2][2]
    dask_client.register_plugin(DieOnceAt(victim, str(tmp_path / "died")))
    try:
        db, mv, summary = score_archive(dask_client, db_url, exported_student, [root])
    finally:
        dask_client.unregister_worker_plugin(DieOnceAt.name)
    assert (tmp_path / "died").exists()
    assert summary.stopped is None and summary.rescheduled >= 1
    assert (summary.scored, summary.skipped, summary.failed) == (58, 2, 0)
    assert summary.stored == 60  # the two the dead worker stored are this run's too
    rows = assert_one_row_each(db, mv, root)
    assert all(v == ["ok"] for v in rows.values())
    dask_client.wait_for_workers(2, timeout=60)
    db.close()


def test_a_photo_that_kills_its_worker_every_time_is_isolated_and_stored_with_its_reason(dask_client, exported_student,
                                                                                         tmp_path):
    """Its chunk is halved until it is alone, then tried with nothing else running: only it gets
    the crash status; the photos that shared a worker with it when it died are scored."""
    from app.archive.walk import chunked, walk_photos

    from ._dying import DieAlwaysAt

    root = tmp_path / "archive"
    make_folder(root, 24, bad=0)
    victim = list(chunked(walk_photos([root]), 4))[2][1]
    allowed = dask_client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures)
    dask_client.run_on_scheduler(lambda dask_scheduler: setattr(dask_scheduler, "allowed_failures", 0))
    dask_client.register_plugin(DieAlwaysAt(victim, ""))
    try:
        db, mv, summary = score_archive(dask_client, f"sqlite:///{tmp_path / 'a.db'}", exported_student, [root])
    finally:
        dask_client.unregister_worker_plugin(DieAlwaysAt.name)
        dask_client.run_on_scheduler(lambda dask_scheduler, n=allowed: setattr(dask_scheduler, "allowed_failures", n))
    assert summary.stopped is None and summary.split >= 2
    assert (summary.scored + summary.skipped, summary.worker_crashes, summary.stored) == (23, 1, 24)
    rows = assert_one_row_each(db, mv, root)
    assert [p for p, v in rows.items() if v != ["ok"]] == [victim] and rows[victim] == ["corrupt"]
    with db.session() as s:
        error = s.scalar(select(Score.error).join(Image).where(Image.path == victim))
    assert "died on this photo" in error
    dask_client.wait_for_workers(2, timeout=60)
    db.close()


def test_a_worker_killed_at_a_random_point_leaves_no_gap_and_no_duplicate(dask_client, db_url, exported_student,
                                                                         tmp_path):
    import random
    import threading

    root = tmp_path / "archive"
    make_folder(root, 90, sizes=((480, 360), (400, 300)), bad=0)
    killed = []

    def kill_one() -> None:  # SIGKILL, as the OOM killer or a pulled plug would
        pids = dask_client.run(os.getpid)
        addr, pid = random.choice(sorted(pids.items()))
        os.kill(pid, signal.SIGKILL)
        killed.append(addr)

    def progress(summary, rate, elapsed, final=False):
        if not final and not killed and summary.done >= 8:
            killed.append(None)
            threading.Timer(random.uniform(0.05, 0.3), kill_one).start()

    db, mv, summary = score_archive(dask_client, db_url, exported_student, [root], chunk_size=8, progress=progress)
    assert len(killed) == 2
    assert summary.stopped is None
    rows = assert_one_row_each(db, mv, root)
    assert all(v == ["ok"] for v in rows.values())
    assert summary.scored + summary.skipped == 90  # a photo stored before the kill is skipped on the retry
    dask_client.wait_for_workers(2, timeout=60)  # its nanny brought the worker back
    db.close()


def test_a_stopped_run_counts_every_row_it_stored_including_those_of_a_dead_worker(dask_client, exported_student,
                                                                                  tmp_path, capsys):
    """Issue 21, 19: "N photos stored in this run" said 73 against 79 rows. It counted only the
    chunks whose answers came back: not the photos a worker stored before it died (the chunk run
    again skips them as unchanged), nor those of chunks still storing when the run stopped."""
    from app.__main__ import main
    from app.archive.walk import chunked, walk_photos

    from ._dying import DieOnceAt, StoreFailsAt

    root = tmp_path / "archive"
    make_folder(root, 48, bad=0)
    chunks = list(chunked(walk_photos([root]), 4))
    dying, failing = chunks[1][2], chunks[-2][1]  # two stored before the death; the disk fills late
    dask_client.register_plugin(DieOnceAt(dying, str(tmp_path / "died")))
    dask_client.register_plugin(StoreFailsAt(failing))
    path = tmp_path / "a.db"
    try:
        code = main(["archive", "score", str(root), "--db", str(path), "--cluster", dask_client.scheduler.address,
                     "--chunk", "4", "--trust-model", "--model", str(exported_student[2])]
                    + tls_options(dask_client, tmp_path))
    finally:
        dask_client.unregister_worker_plugin(DieOnceAt.name)
        dask_client.unregister_worker_plugin(StoreFailsAt.name)
    assert (tmp_path / "died").exists()
    db = open_database(path)
    try:
        rows = len(rows_by_path(db, 1))  # the one model version
        time.sleep(1.0)  # nothing of the run is still storing once it has said what it kept
        assert len(rows_by_path(db, 1)) == rows
    finally:
        db.close()
    err = capsys.readouterr().err
    [line] = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 3 and "database or disk is full" in line
    assert 0 < rows < 48 and line.endswith(f"; {rows} photos stored in this run are kept; run the same command "
                                           "again to resume"), line
    dask_client.wait_for_workers(2, timeout=60)


def tls_options(client, folder: Path) -> list[str]:
    """The --tls-* options for a cluster the test started: its certificates written to files, as
    a site's administrator hands them to each PC."""
    options = []
    for flag, pem in (("--tls-ca-file", client.security.tls_ca_file), ("--tls-cert", client.security.tls_client_cert),
                      ("--tls-key", client.security.tls_client_key)):
        path = folder / (flag.removeprefix("--") + ".pem")
        path.write_text(pem)
        path.chmod(0o600)
        options += [flag, str(path)]
    return options


def test_the_local_cluster_admits_no_client_without_its_certificates_and_shows_its_dashboard_locally(dask_client):
    from distributed import Client
    from distributed.security import Security

    address = dask_client.scheduler.address
    assert address.startswith("tls://127.0.0.1:")
    with pytest.raises(Exception):  # plain TCP: the TLS handshake fails
        Client(address.replace("tls://", "tcp://"), timeout="5s")
    with pytest.raises(Exception, match="(?i)certificate|TLS|closed"):  # certificates of another run
        Client(address, timeout="5s", security=Security.temporary())
    # The dashboard (and every other HTTP route of the scheduler) listens on this PC alone.
    bound = dask_client.run_on_scheduler(
        lambda dask_scheduler: {s.getsockname()[0] for s in dask_scheduler.http_server._sockets.values()})
    assert bound == {"127.0.0.1"}


def test_a_database_password_is_never_sent_to_an_unencrypted_cluster(exported_student, tmp_path, capsys, monkeypatch):
    from app.__main__ import main

    root = tmp_path / "archive"
    make_folder(root, 2)
    monkeypatch.setenv("MOBILEIQA_DB_URL", "postgresql://inspector:s3cret-pw@db.site.local/photos")
    code = main(["archive", "score", str(root), "--cluster", "tcp://10.0.0.5:8786", "--model", str(exported_student[2])])
    err = capsys.readouterr().err
    assert code == 2 and "refusing to send a database password to an unencrypted cluster" in err
    assert "s3cret-pw" not in err


def test_a_tls_cluster_without_its_certificates_is_refused_before_connecting(exported_student, tmp_path, capsys):
    from app.__main__ import main

    root = tmp_path / "archive"
    make_folder(root, 2)
    code = main(["archive", "score", str(root), "--cluster", "tls://10.0.0.5:8786", "--db", str(tmp_path / "a.db"),
                 "--model", str(exported_student[2])])
    assert code == 2 and "needs --tls-ca-file, --tls-cert, --tls-key" in capsys.readouterr().err


def test_the_cli_scores_on_an_existing_cluster_and_status_reads_the_database(dask_client, postgres_cluster,
                                                                          exported_student, tmp_path, capsys,
                                                                          monkeypatch):
    """Through the real entry point, on the running scheduler (--cluster), with the URL in the
    environment: its password never reaches the command line, the console or a worker's log."""
    from app.__main__ import main

    root = tmp_path / "archive"
    make_folder(root, 12)
    url = postgres_cluster.new_database("archive_cli").replace("postgres@", "postgres:s3cret-pw@")
    monkeypatch.setenv("MOBILEIQA_DB_URL", url)  # trust auth: the server ignores the password
    address = dask_client.scheduler.address
    assert main(["archive", "score", str(root), "--cluster", address, "--workers", "2", "--chunk", "4",
                 "--model", str(exported_student[2])] + tls_options(dask_client, tmp_path)) == 0
    err = capsys.readouterr().err
    assert "12 scored, 1 failed" in err and "13/13 photos" in err
    assert main(["archive", "status"]) == 0
    out = capsys.readouterr().out
    assert "photos stored: 13 (13 by archive runs), scored ok: 12" in out
    logs = "".join(str(x) for x in dask_client.get_worker_logs().values()) + str(dask_client.get_scheduler_logs())
    assert "s3cret-pw" not in err + out + logs


def test_the_password_never_shows_in_the_process_list(dask_client, postgres_cluster, exported_student, tmp_path):
    root = tmp_path / "archive"
    make_folder(root, 24, sizes=((480, 360),))
    url = postgres_cluster.new_database("archive_ps").replace("postgres@", "postgres:s3cret-pw@")
    env = dict(os.environ, MOBILEIQA_DB_URL=url, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "app", "archive", "score", str(root), "--cluster",
                             dask_client.scheduler.address, "--chunk", "2", "--trust-model",
                             "--model", str(exported_student[2])] + tls_options(dask_client, tmp_path),
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = 0
    while proc.poll() is None:
        for pid in os.listdir("/proc"):
            if pid.isdigit():
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    continue
                seen += 1
                assert b"s3cret-pw" not in cmdline
        time.sleep(0.2)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert seen and "s3cret-pw" not in out + err and "***" in err


def test_without_dask_the_archive_command_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    import importlib.util

    from app.archive import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "distributed" else real(name, *a))
    assert cli.score_command([tmp_path], Path("unused"), str(tmp_path / "x.db")) == 2
    assert "requirements/archive.txt" in capsys.readouterr().err
