"""One fine-tune as a separate process: the one owner of its QProcess, from start to end.

It starts the job's command (app.core.site.finetune_job says what it is and where it writes),
reports progress from the process's output and the run's curves as each epoch ends (the run's
small history file is read then, not on a timer), cancels politely then for good, and says once
how the run ended: done with its report, cancelled, or failed with a reason a supervisor can read
(never a traceback; the run's train.log keeps it).
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, QTimer, Signal

from ..core.site.finetune_job import FinetuneJob, install_hint, parse_progress, source_root

TAIL = 4000  # characters of the process's output kept for a failure's reason
KILL_AFTER_MS = 5000  # a cancelled process that has not ended by then is killed


@dataclass(frozen=True)
class FinetuneOutcome:
    kind: str  # "done", "cancelled" or "failed"
    report: dict | None = None  # the job's report (done)
    reason: str = ""  # why it failed, in a supervisor's words

    @property
    def registered(self) -> bool:
        return self.kind == "done" and bool((self.report or {}).get("registered"))


def failure_reason(output: str, code: int) -> str:
    """What went wrong, from the tail of the process's output: its last ``error:`` line, else its
    last line that is not part of a traceback or a progress bar."""
    lines = [ln for ln in output.replace("\r", "\n").splitlines() if ln.strip() and "it/s" not in ln]
    said = [ln[len("error: "):] for ln in lines if ln.startswith("error: ")]
    if said:
        return said[-1]
    return next((ln for ln in reversed(lines) if not ln.startswith((" ", "Traceback"))),
                f"the process ended with code {code}")


class FinetuneProcess(QObject):
    progressed = Signal(int, int, float)  # epoch, epochs, fraction of the run done
    history = Signal(list)  # the run's epochs so far (each a dict of its logged figures)
    ended = Signal(object)  # FinetuneOutcome, once per run

    def __init__(self, parent=None):
        super().__init__(parent)
        self.job: FinetuneJob | None = None
        self._process: QProcess | None = None
        self._tail = ""
        self._cancelled = False
        self._epoch = 0  # the epoch the process's output last said it is in

    def is_running(self) -> bool:
        return self._process is not None

    def start(self, job: FinetuneJob) -> None:
        if self._process is not None:
            return
        self.job = job
        job.out_dir.mkdir(parents=True, exist_ok=True)
        process = QProcess(self)
        process.setWorkingDirectory(str(source_root()))
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        for key, value in job.environment().items():  # the database URL travels here, not in the command
            env.insert(key, value)
        process.setProcessEnvironment(env)
        process.readyReadStandardError.connect(self._read_stderr)
        process.readyReadStandardOutput.connect(self._read_stdout)
        process.finished.connect(self._finished)
        process.errorOccurred.connect(self._failed_to_start)
        self._process, self._tail, self._cancelled, self._epoch = process, "", False, 0
        cmd = job.command()
        process.start(cmd[0], cmd[1:])

    def cancel(self) -> None:
        """Stop the run: politely first, then for good."""
        if self._process is None:
            return
        self._cancelled = True
        self._process.terminate()
        QTimer.singleShot(KILL_AFTER_MS, self._kill_if_running)

    def stop_and_wait(self, ms: int = 6000) -> None:
        """Cancel and wait for the process to end (the window is closing)."""
        if self._process is not None:
            process = self._process
            self.cancel()
            process.waitForFinished(ms)

    def _kill_if_running(self) -> None:
        if self._process is not None and self._process.state() != QProcess.NotRunning:
            self._process.kill()

    def _keep(self, text: str) -> None:
        self._tail = (self._tail + text)[-TAIL:]

    def _read_stderr(self) -> None:
        text = bytes(self._process.readAllStandardError()).decode("utf-8", "replace")
        self._keep(text)
        progress = parse_progress(text)
        if progress:
            self.progressed.emit(*progress)
            if progress[0] > self._epoch:  # a new epoch began: the one before it is in the history
                self._epoch = progress[0]
                self._emit_history()

    def _read_stdout(self) -> None:
        self._keep(bytes(self._process.readAllStandardOutput()).decode("utf-8", "replace"))

    def _emit_history(self) -> None:
        if self.job is not None:
            self.history.emit(self.job.history())

    def _failed_to_start(self, error) -> None:
        if error == QProcess.FailedToStart:
            self._end(FinetuneOutcome("failed", reason=f"could not start {self.job.python if self.job else '?'}: "
                                                       f"{self._process.errorString()}\n{install_hint()}"))

    def _finished(self, code: int, _status=None) -> None:
        report = self.job.report() if self.job else None
        if self._cancelled:
            self._end(FinetuneOutcome("cancelled"))
        elif code == 0 and report:
            self._end(FinetuneOutcome("done", report))
        else:
            self._end(FinetuneOutcome("failed", reason=failure_reason(self._tail, code)))

    def _end(self, outcome: FinetuneOutcome) -> None:
        if self._process is None:  # said already (a process that failed to start may also report finishing)
            return
        self._emit_history()
        self._process.deleteLater()
        self._process = None
        self.ended.emit(outcome)
