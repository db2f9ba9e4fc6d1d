"""``ratings import`` on a shared PostgreSQL database: a file imported twice, or resumed after a stop
part-way, stores each vote once (the duplicate check was tried on SQLite only)."""
import pytest
from sqlalchemy import text

from app.__main__ import main
from app.core.ratings import csv_import, votes_file
from app.core.store import open_database

ROWS, CHUNK = 300, 100


def _votes_csv(path):
    with open(path, "w", encoding="utf-8") as f:
        f.write("rater,photo,vote,time\n")
        for i in range(ROWS):
            f.write(f"r{i % 7},p{i % 31}.jpg,{1 + i % 5},{1704067200 + i}\n")
    return path


def _stored(url) -> tuple[int, int]:
    db = open_database(url)
    try:
        with db.session() as s:
            return (s.execute(text("select count(*) from votes")).scalar(),
                    s.execute(text("select count(*) from (select distinct rater_id, image_id, value, created_at "
                                   "from votes) d")).scalar())
    finally:
        db.close()


def test_a_file_imported_twice_or_resumed_stores_each_vote_once_on_postgresql(postgres_cluster, tmp_path,
                                                                              monkeypatch, capsys):
    monkeypatch.setattr(csv_import, "CHUNK_ROWS", CHUNK)
    url = postgres_cluster.new_database("ratings_import")
    votes = _votes_csv(tmp_path / "v.csv")
    real, calls = votes_file.resolve_photo, [0]

    def stop_at_row(text_, base):  # Ctrl+C while the file's 2 * CHUNK + 17th photo is read
        calls[0] += 1
        if calls[0] == 2 * CHUNK + 17:
            raise KeyboardInterrupt
        return real(text_, base)

    with monkeypatch.context() as m:
        m.setattr(votes_file, "resolve_photo", stop_at_row)
        with pytest.raises(KeyboardInterrupt):
            main(["ratings", "--db", url, "import", str(votes)])
    assert _stored(url) == (2 * CHUNK, 2 * CHUNK)  # the chunks before the stop stand
    capsys.readouterr()
    assert main(["ratings", "--db", url, "import", str(votes)]) == 0  # the rerun finishes it
    assert f"{2 * CHUNK} already in the database" in capsys.readouterr().err.splitlines()[-1]
    assert _stored(url) == (ROWS, ROWS)
    assert main(["ratings", "--db", url, "import", str(votes)]) == 0  # the same file again: nothing new
    assert f"{ROWS} already in the database" in capsys.readouterr().err.splitlines()[-1]
    assert _stored(url) == (ROWS, ROWS)
