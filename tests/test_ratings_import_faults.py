"""``ratings import`` on files that are not what they claim: every broken field is a skipped row
with its reason or a refused file in one line, never a traceback; nothing it names is stored as a
photo unless it can be one; and a file with a gigantic line is refused without reading it whole."""
import os
import sqlite3

import pytest

from app.__main__ import main


def _import(tmp_path, text: str, capsys, name="votes.csv"):
    path = tmp_path / name
    path.write_text(text)
    code = main(["ratings", "--db", str(tmp_path / "r.db"), "import", str(path), "--root", str(tmp_path)])
    return code, capsys.readouterr().err


def _photos(tmp_path):
    if not (tmp_path / "r.db").exists():
        return []
    with sqlite3.connect(tmp_path / "r.db") as c:
        return [r[0] for r in c.execute("select path from images")]


HEADER = "rater,photo,vote,time,response_ms\n"
GOOD = "anna,p1.jpg,4,2026-12-01T10:00:00Z,900\n"


@pytest.mark.parametrize("row, reason", [
    ("bob,p2.jpg,3,inf,", "out of range"),
    ("bob,p2.jpg,3,1e20,", "out of range"),
    ("bob,p2.jpg,3,0001-01-01T00:00:00+05:00,", "out of range"),
    ("bob,p2.jpg,3,9999-12-31T23:59:59-05:00,", "out of range"),
    ("bob,p2.jpg,3,1200-01-01T00:00:00,", "outside the years"),
    ("bob,p2.jpg,3,2026-12-01T10:00:00Z,inf", "response_ms"),
    ("bob,p2.jpg,3,2026-12-01T10:00:00Z,1e30", "response_ms"),
    ("bob,p2.jpg,3,2026-12-01T10:00:00Z,nan", "response_ms"),
    ("bob,../../etc/passwd.jpg,3,2026-12-01T10:00:00Z,", "outside the folder"),
    ("bob,/etc/shadow,3,2026-12-01T10:00:00Z,", "not the name of a photo"),
    ("bob,/dev/zero,3,2026-12-01T10:00:00Z,", "not the name of a photo"),
    ("bob,r.db,3,2026-12-01T10:00:00Z,", "not the name of a photo"),
    ("bob,folder.jpg,3,2026-12-01T10:00:00Z,", "not a regular file"),
])
def test_a_broken_row_is_skipped_with_its_reason_and_the_good_ones_stored(tmp_path, capsys, row, reason):
    (tmp_path / "folder.jpg").mkdir()
    code, err = _import(tmp_path, HEADER + GOOD + row + "\n", capsys)
    assert code == 0 and "Traceback" not in err
    assert reason in err
    assert [os.path.basename(p) for p in _photos(tmp_path)] == ["p1.jpg"]


def test_a_field_over_the_csv_limit_refuses_the_file_in_one_line(tmp_path, capsys):
    code, err = _import(tmp_path, HEADER + GOOD + "bob," + "x" * 200_000 + ".jpg,3,2026-12-01T10:00:00Z,\n", capsys)
    assert code not in (0, 1) and "Traceback" not in err and "field larger than field limit" in err
    assert _photos(tmp_path) == []  # all or nothing per file


def test_a_gigantic_line_is_refused_without_reading_it_whole(tmp_path, capsys):
    path = tmp_path / "huge.csv"
    with open(path, "w") as f:
        f.write(HEADER + GOOD + "bob,")
        chunk = "y" * (1 << 20)
        for _ in range(40):  # 40 MB on one line (a 2 GB one behaves alike, only slower to write)
            f.write(chunk)
    code = main(["ratings", "--db", str(tmp_path / "r.db"), "import", str(path), "--root", str(tmp_path)])
    err = capsys.readouterr().err
    assert code not in (0, 1) and "longer than 1 MB" in err


def test_a_folder_given_as_the_ratings_file_is_one_line(tmp_path, capsys):
    (tmp_path / "votes.csv").mkdir()
    code = main(["ratings", "--db", str(tmp_path / "r.db"), "import", str(tmp_path / "votes.csv")])
    err = capsys.readouterr().err
    assert code not in (0, 1) and "Traceback" not in err and "not a regular file" in err


def _mutants(seed: int, n: int):
    """Ratings files of every layout with bytes flipped, cut, duplicated or replaced by odd tokens."""
    import random

    bases = [
        (HEADER + GOOD + "bob,p2.png,2,1733047200,1200\n").encode(),
        b"user_ID,stimuli_file,rating_type,rating,timestamp\n3,a.jpg,acr,4,2026-12-01 10:00:00 000000\n",
        b"HITId,workerid,assignment_id,file,vote,condition_name\nH,W1,A1,https://h/c/p.jpg,5,c0\n",
    ]
    tokens = [b"inf", b"nan", b"1e308", b"-1", b"\x00", b"\xff\xfe", b'"', b"\r", b"9999-12-31T23:59:59+14:00", b"../",
              b"/dev/zero", b",,,,", b";", b"\t", b"=cmd|x", "é".encode(), b"0001-01-01T00:00:00-12:00"]
    rng = random.Random(seed)
    for _ in range(n):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 6)):
            op, at = rng.randrange(4), rng.randrange(len(data) + 1)
            if op == 0 and data:
                data[min(at, len(data) - 1)] = rng.randrange(256)
            elif op == 1:
                data[at:at] = rng.choice(tokens)
            elif op == 2:
                del data[at:at + rng.randint(1, 8)]
            else:
                data[at:at] = data[: rng.randint(0, len(data))]
        yield bytes(data)


def test_fuzzed_ratings_files_give_votes_or_one_refusal_never_anything_else(tmp_path):
    from app.core.ratings.votes_file import RatingsFileError, read_votes_csv

    path = tmp_path / "fuzz.csv"
    outcomes = {"read": 0, "refused": 0}
    for data in _mutants(seed=0, n=600):
        path.write_bytes(data)
        try:
            result = read_votes_csv(path, tmp_path)
        except RatingsFileError:
            outcomes["refused"] += 1
            continue
        outcomes["read"] += 1
        for vote in result.votes:  # what is read is storable: a photo path, an ACR level, a sane time
            assert 1 <= vote.value <= 5 and vote.photo.startswith("/")
            assert vote.time is None or 1970 <= vote.time.year <= 2200
            assert vote.response_ms is None or 0 <= vote.response_ms <= 86_400_000
    assert outcomes["read"] and outcomes["refused"]


def test_a_rater_id_longer_than_the_database_keeps_is_a_skipped_row(tmp_path, capsys):
    code, err = _import(tmp_path, HEADER + GOOD + "r" * 300 + ",p2.jpg,3,2026-12-01T10:00:00Z,\n", capsys)
    assert code == 0 and "rater id longer than 255" in err
