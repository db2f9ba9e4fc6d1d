"""What every part of the fault suite shares: the counts a case produces, running the real CLI
with a deadline, the worker client, and reading a database back.

What counts as what (the table's columns):
- crash: a traceback, an exception escaping the API, exit code 1 (Python's for an uncaught
  error), or death by a signal the suite did not send;
- hang: the deadline passed;
- wrong: the program ran but gave a result the case forbids (a damaged file scored as whole,
  a stale row after the file changed, exit 0 for a mistyped folder, an unusable database...);
- lost: rows committed before a fault that are gone after it, or photos with no row at all;
- dup: more than one row for the same photo and model.
"""
from __future__ import annotations

import json
import os
import re
import select
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.peak_memory import peak_rss_mb

REPO = Path(__file__).resolve().parents[2]
TRACEBACK = "Traceback (most recent call last)"


@dataclass
class Outcome:
    """One case's result. ``cases`` > 1 for an aggregate (a fuzz pass, a series of kills)."""

    name: str
    group: str
    cases: int = 1
    crashes: int = 0
    hangs: int = 0
    wrong: int = 0
    lost: int = 0
    dup: int = 0
    skipped: str = ""  # why it could not run here (not counted)
    info: str = ""  # what it saw, for the log (e.g. the statuses a fuzz pass produced)
    details: list[str] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return self.crashes + self.hangs + self.wrong + self.lost + self.dup

    def note(self, kind: str, text: str, n: int = 1) -> Outcome:
        setattr(self, kind, getattr(self, kind) + n)
        if len(self.details) < 8:  # enough to reproduce; a fuzz pass can find thousands
            self.details.append(f"{kind}: {text}")
        return self


COLUMNS = ("cases", "crashes", "hangs", "wrong", "lost", "dup")


def table(outcomes: list[Outcome]) -> str:
    """Rows per group in first-seen order, then the total; skipped cases listed apart."""
    groups: dict[str, list[int]] = {}
    # The classes (named "N ...") first, in order; the other parts as they ran.
    order = {o.group: (0, o.group) if o.group[:1].isdigit() else (1, i) for i, o in reversed(list(enumerate(outcomes)))}
    outcomes = sorted(outcomes, key=lambda o: order[o.group])
    for o in outcomes:
        if o.skipped:
            continue
        row = groups.setdefault(o.group, [0] * len(COLUMNS))
        for i, c in enumerate(COLUMNS):
            row[i] += getattr(o, c)
    width = max([len(g) for g in groups] + [5])
    lines = [f"{'class / part':<{width}}  " + "  ".join(f"{c:>7}" for c in COLUMNS)]
    lines.append("-" * len(lines[0]))
    total = [0] * len(COLUMNS)
    for g, row in groups.items():
        lines.append(f"{g:<{width}}  " + "  ".join(f"{v:>7}" for v in row))
        total = [a + b for a, b in zip(total, row)]
    lines.append("-" * len(lines[0]))
    lines.append(f"{'TOTAL':<{width}}  " + "  ".join(f"{v:>7}" for v in total))
    return "\n".join(lines)


def failures(outcomes: list[Outcome]) -> str:
    lines = []
    for o in outcomes:
        if o.bad:
            lines.append(f"[{o.group}] {o.name}")
            lines += [f"    {d}" for d in o.details]
    skipped = [f"  {o.name}: {o.skipped}" for o in outcomes if o.skipped]
    if skipped:
        lines += ["skipped:"] + skipped
    return "\n".join(lines)


@dataclass
class Context:
    """Where a run keeps its files and which app it drives."""

    root: Path  # a private temp folder for this run
    tiny: dict[str, Path]  # tiny model variant -> card path
    bundled: Path  # the shipped model's folder
    quick: bool = False
    python: str = sys.executable
    timeout: float = 120.0  # per CLI run
    # The app under test: this checkout, or another tree (e.g. an older commit unpacked with
    # git archive) to see which cases it fails; the suite's own code always comes from REPO.
    app_root: Path = REPO
    pg_why: str = ""  # why PostgreSQL cases cannot run here (then they are listed as skipped)
    _trust_flag: list | None = field(default=None, init=False, repr=False)
    _pg: object = field(default=None, init=False, repr=False)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        paths = [str(self.app_root), str(REPO), env.get("PYTHONPATH", "")]
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        env.setdefault("OMP_NUM_THREADS", "1")  # the suite runs many processes on few cores
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.update(extra)
        return env

    def pg(self):
        """The run's PostgreSQL cluster, started on first use; None where it cannot be (see pg_why)."""
        if self._pg is None and not self.pg_why:
            from .pg import PgCluster

            bindir, self.pg_why = PgCluster.find()
            if bindir:
                try:
                    self._pg = PgCluster(bindir)
                except (OSError, subprocess.SubprocessError) as exc:
                    self.pg_why = f"cluster did not start: {exc}"
        return self._pg

    def close(self) -> None:
        if self._pg is not None:
            self._pg.stop()
            self._pg = None

    def trust_flag(self) -> list[str]:
        """``--trust-model`` where the app under test has it (a station approves a model it did not
        ship before running it; the suite's tiny models are such models), else nothing."""
        if self._trust_flag is None:
            done = subprocess.run([self.python, "-m", "app", "score", "--help"], cwd=self.app_root, env=self.env(),
                                  capture_output=True, text=True, timeout=120)
            self._trust_flag = ["--trust-model"] if "--trust-model" in done.stdout else []
        return self._trust_flag

    def folder(self, name: str) -> Path:
        p = self.root / name
        p.mkdir(parents=True, exist_ok=True)
        return p


@dataclass
class CliRun:
    rc: int | None
    out: str
    err: str
    hung: bool
    seconds: float
    max_rss_mb: float = 0.0

    @property
    def crashed(self) -> bool:
        return not self.hung and (self.rc == 1 or (self.rc is not None and self.rc < 0) or TRACEBACK in self.err)

    def why(self) -> str:
        if self.hung:
            return f"no exit within {self.seconds:.0f} s"
        return f"exit {self.rc}: {error_line(self.err)}"


def spawn(ctx: Context, args: list, keep_stderr: bool = True, preexec=None) -> subprocess.Popen:
    """Start a command of the app under test in its own process group (so a kill reaches its
    children), nothing on stdin; its stderr kept for ``finish`` (``keep_stderr``) or dropped."""
    return subprocess.Popen(args, cwd=ctx.app_root, env=ctx.env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if keep_stderr else subprocess.DEVNULL,
                            text=True, start_new_session=True, preexec_fn=preexec)


def finish(proc: subprocess.Popen, timeout: float) -> CliRun:
    """A started process waited for to its end or ``timeout`` (then its process group is killed
    and it counts as hung), as a CliRun the suite's one ``judge`` reads like any other run."""
    start = time.monotonic()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return CliRun(None, out or "", err or "", True, timeout)
    return CliRun(proc.returncode, out or "", err or "", False, time.monotonic() - start)


def error_line(err: str) -> str:
    """The line of stderr that says what went wrong: the exception's own line (not SQLAlchemy's
    "(Background on this error...)" link, nor the SQL it echoes), else the last line."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip() and not ln.startswith("(Background")]
    errors = [ln for ln in lines if re.match(r"^([\w.]*(Error|Exception)\b|error:)", ln)]
    return (errors[-1:] or lines[-1:] or [""])[0][:200]


def cli_args(ctx: Context, paths: list, db: str, model: Path | None = None, extra: list[str] | None = None,
             approve: bool = True) -> list:
    """``python -m app --model M score PATHS --db DB``, approving the model (``approve``) where
    the app asks a person to approve a model it does not ship."""
    model = model or ctx.tiny["ok"]
    trust = ctx.trust_flag() if approve else []
    return [ctx.python, "-m", "app", "--model", str(model), "score", *map(os.fsdecode, paths), "--db", str(db),
            *trust, *(extra or [])]


def run_cli(ctx: Context, args: list, timeout: float | None = None, cwd: Path | None = None,
            preexec=None, env: dict | None = None) -> CliRun:
    """Run a command to its end or its deadline (then kill -9 its process group); its peak RSS
    is sampled from /proc while it runs (the high-water mark only grows)."""
    timeout = timeout or ctx.timeout
    start = time.monotonic()
    deadline = start + timeout
    proc = subprocess.Popen(args, cwd=cwd or ctx.app_root, env=env or ctx.env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True,
                            preexec_fn=preexec)
    out, err, peak = _drain(proc, deadline)
    reaped = None
    while reaped is None and time.monotonic() < deadline:  # reaped here, not by Popen: wait4 has the RSS
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            reaped = (status, usage)
        else:
            time.sleep(0.01)
    hung = reaped is None
    if hung:
        os.killpg(proc.pid, signal.SIGKILL)
        _, status, usage = os.wait4(proc.pid, 0)
        reaped = (status, usage)
    proc.returncode = os.waitstatus_to_exitcode(reaped[0])
    return CliRun(None if hung else proc.returncode, out, err, hung, time.monotonic() - start, peak)


def _drain(proc: subprocess.Popen, deadline: float) -> tuple[str, str, float]:
    """Read both pipes until they close or the deadline passes (no thread, no full-pipe stall),
    sampling the child's peak RSS meanwhile."""
    bufs = {proc.stdout.fileno(): bytearray(), proc.stderr.fileno(): bytearray()}
    open_fds = set(bufs)
    peak = 0.0
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        peak = max(peak, peak_rss_mb(proc.pid))
        ready, _, _ = select.select(list(open_fds), [], [], min(left, 0.02))
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                bufs[fd] += chunk
            else:
                open_fds.discard(fd)
    proc.stdout.close()
    proc.stderr.close()
    out, err = (bytes(b).decode("utf-8", "replace") for b in bufs.values())
    return out, err, peak


class WorkerClient:
    """Drives ``tests.faults.worker``: one job at a time, each with a deadline; a worker that hangs
    or dies is replaced and the job in flight is reported as a hang or a crash."""

    def __init__(self, ctx: Context, card: Path, name: str = "worker"):
        self.ctx, self.card = ctx, card
        self.scratch = ctx.folder(f"{name}-scratch")
        self.stderr_path = ctx.root / f"{name}.stderr"
        self.proc: subprocess.Popen | None = None
        self._buf = bytearray()
        self.restarts = 0

    def _start(self) -> None:
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            [self.ctx.python, "-m", "tests.faults.worker", str(self.card), str(self.scratch)],
            cwd=self.ctx.app_root, env=self.ctx.env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._stderr, start_new_session=True)
        self._buf.clear()
        ready = self._read_line(120)
        if not (ready and ready.get("ready")):
            raise RuntimeError(f"fault worker did not start; see {self.stderr_path}")

    def _read_line(self, timeout: float) -> dict | None:
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return {"died": True}
            self._buf += chunk
        line, _, rest = bytes(self._buf).partition(b"\n")
        self._buf[:] = rest
        return json.loads(line)

    def ask(self, job: dict, timeout: float) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        try:
            self.proc.stdin.write((json.dumps(job) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            answer = {"died": True}
        else:
            answer = self._read_line(timeout)
        if answer is None:
            self._kill()
            return {"hang": True}
        if answer.get("died"):
            rc = self._kill()
            tail = self.stderr_path.read_text(errors="replace").strip().splitlines()[-1:] or [""]
            return {"died": True, "rc": rc, "stderr": tail[0][:200]}
        return answer

    def _kill(self) -> int | None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        rc = self.proc.wait()
        self.restarts += 1
        self._stderr.close()
        self.proc = None
        return rc

    def restart(self) -> None:
        if self.proc is not None:
            self._kill()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.proc.stdin.write(b'{"op": "quit"}\n')
                self.proc.stdin.close()
                self.proc.wait(10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self._stderr.close()
        self.proc = None


# --- photos and databases ------------------------------------------------------------------

def photo(h: int = 96, w: int = 128, seed: int = 0) -> np.ndarray:
    """A photo-like RGB picture (smooth shapes plus noise): every codec treats it as a photo."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([128 + 80 * np.sin(xx / (9 + seed % 5)), 40 + 160 * yy / h, 180 - 120 * xx / w], -1)
    base[h // 4: h // 2, w // 3: 2 * w // 3] = (230, 40 + 10 * (seed % 10), 40)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def write_photos(folder: Path, n: int, size: tuple[int, int] = (96, 128), fmt: str = "png") -> list[Path]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        p = folder / f"photo_{i:04d}.{fmt}"
        Image.fromarray(photo(*size, seed=i)).save(p)
        paths.append(p)
    return paths


def sqlite_rows(db: Path, timeout: float = 30) -> list[tuple]:
    """(path, status, score, verdict, model name, opinions) of every score row; [] if none yet."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=timeout) as c:
            return c.execute(
                "select i.path, s.status, s.score, s.verdict, m.name, s.opinions from scores s "
                "join images i on i.id = s.image_id join model_versions m on m.id = s.model_version_id").fetchall()
    except sqlite3.OperationalError:
        return []


def sqlite_check(db: Path) -> str | None:
    """None when the file is a sound database, else what is wrong."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
            result = c.execute("PRAGMA integrity_check").fetchone()[0]
            half = c.execute("select count(*) from scores where status = 'ok' and "
                             "(score is null or opinions is null or verdict is null)").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return f"sqlite: {exc}"
    if result != "ok":
        return f"integrity_check: {result}"
    return f"{half} half-written ok rows" if half else None


def _photo(row: tuple) -> str:
    """A row's photo: its resolved path, so the same file reached by two spellings is one photo."""
    return os.path.realpath(row[0]) if row[0].startswith("/") else row[0]


def duplicates(rows: list[tuple]) -> int:
    """Rows beyond one per (photo, model)."""
    seen: dict[tuple, int] = {}
    for r in rows:
        key = (_photo(r), r[4])
        seen[key] = seen.get(key, 0) + 1
    return sum(n - 1 for n in seen.values())


def one_row_each(o: Outcome, rows: list[tuple], n_photos: int, what: str) -> None:
    """Judge score rows (as ``sqlite_rows`` gives them) that must hold ``n_photos`` photos, one
    row each: a photo without a row is lost, a row beyond one per photo and model a duplicate."""
    missing = n_photos - len({_photo(r) for r in rows})
    if missing > 0:
        o.note("lost", f"{what}: {missing} of {n_photos} photos have no row", missing)
    extra = duplicates(rows)
    if extra:
        o.note("dup", f"{what}: {extra} rows beyond one per photo", extra)


def open_check_code(url: str) -> str:
    """Python code that opens ``url`` the app's way and prints its revision against head."""
    return (
        "from app.core.store import open_database\n"
        "from app.core.store.database import current_revision, head_revision\n"
        f"db = open_database({url!r})\n"
        "print(current_revision(db.engine), head_revision())\n"
        "db.close()\n"
    )


def db_opens(ctx: Context, url: str, timeout: float = 60) -> str | None:
    """None when the app can open the database (migrating it if need be) and it is at head."""
    run = run_cli(ctx, [ctx.python, "-c", open_check_code(url)], timeout=timeout)
    if run.hung or run.rc != 0:
        return "the app cannot open it: " + run.why()
    words = run.out.split()
    if len(words) != 2 or words[0] != words[1]:
        return f"revision after open: {run.out.strip()!r}"
    return None
