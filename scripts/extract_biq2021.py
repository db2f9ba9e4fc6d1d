"""Bring BIQ2021's official training split out of a copy of its public repository
(``nisarahmedrana/BIQ2021``, a bare git directory or a checkout): its ratings file and the
10,000 photos it names, byte for byte (never re-encoded). The official test split's ratings and
photos are left where they are: they are reserved for an independent evaluation.

    .venv/bin/python scripts/extract_biq2021.py SOURCE DEST
    # then: python -m training joint --data biq2021 "DEST/Train (Images and MOS).csv" DEST ...
"""
from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from pathlib import Path

TRAIN = "Train (Images and MOS).csv"


def git_command(source: Path) -> list[str]:
    """``git`` aimed at a bare directory (its HEAD file at the top) or at a checkout."""
    return ["git", "--git-dir", str(source)] if (source / "HEAD").is_file() else ["git", "-C", str(source)]


def git(source: Path, *args: str) -> bytes:
    return subprocess.run([*git_command(source), *args], capture_output=True, check=True).stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="the repository: a bare git directory or a checkout")
    ap.add_argument("dest", type=Path)
    args = ap.parse_args()
    ratings = git(args.source, "show", f"HEAD:{TRAIN}")
    names = {row[0].strip().lower() for row in list(csv.reader(io.StringIO(ratings.decode("utf-8-sig"))))[1:]
             if row and row[0].strip()}
    listing = git(args.source, "ls-tree", "HEAD", "Images/").decode().splitlines()
    wanted = [(line.split()[2], line.split("\t", 1)[1]) for line in listing
              if line.split("\t", 1)[1].split("/", 1)[1].lower() in names]
    (args.dest / "Images").mkdir(parents=True, exist_ok=True)
    (args.dest / TRAIN).write_bytes(ratings)
    batch = subprocess.Popen([*git_command(args.source), "cat-file", "--batch"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
    for sha, path in wanted:
        batch.stdin.write(f"{sha}\n".encode())
        batch.stdin.flush()
        size = int(batch.stdout.readline().split()[2])
        (args.dest / path).write_bytes(batch.stdout.read(size))
        batch.stdout.read(1)
    batch.stdin.close()
    batch.wait()
    print(f"{len(wanted)} of the {len(names)} photos of the training split written to {args.dest / 'Images'}")
    return 0 if len(wanted) == len(names) else 1


if __name__ == "__main__":
    sys.exit(main())
