"""Whether the Python that runs fine-tunes has the training pipeline (torch, timm), and the one
command that installs it, Qt-free.

``./run.sh`` installs the runtime set only (no torch: the program stays small), so from such an
install the Training panel would offer a fine-tune that dies at once on ``No module named
'torch'``. The panel asks here first; when the pipeline is missing it says what a fine-tune
needs and offers the install command, which is the one the README names
(``scripts/bootstrap.sh training``, into the ``.venv`` that ``./run.sh`` uses), or plain pip into
a Python chosen elsewhere. A bundle installs nothing itself: it says how (``install_hint``).
"""
from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .finetune_job import source_root

# What ``python -m training finetune`` imports before it reads a photo.
PIPELINE_MODULES = ("torch", "timm")
_CHECK = ("import importlib.util as u, sys; missing = [m for m in sys.argv[1:] if u.find_spec(m) is None]; "
          "print(' '.join(missing)); sys.exit(0)")


def missing_modules(python: str) -> list[str]:
    """The pipeline's modules ``python`` cannot import (found, not imported: torch takes seconds).
    This interpreter is asked directly; another one in a short child process. A Python that cannot
    be run lacks everything."""
    if Path(python).resolve() == Path(sys.executable).resolve():
        importlib.invalidate_caches()  # an install a moment ago must be seen
        return [m for m in PIPELINE_MODULES if importlib.util.find_spec(m) is None]
    try:
        done = subprocess.run([python, "-c", _CHECK, *PIPELINE_MODULES], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return list(PIPELINE_MODULES)
    return done.stdout.split() if done.returncode == 0 else list(PIPELINE_MODULES)


def install_command(python: str | None) -> list[str] | None:
    """The one command that installs the pipeline for ``python``; None in a bundle (it has no
    requirements to install from, nor a Python of its own to install into)."""
    if python is None or getattr(sys, "frozen", False):
        return None
    root = source_root()
    bootstrap, venv_python = root / "scripts" / "bootstrap.sh", root / ".venv" / "bin" / "python"
    if bootstrap.exists() and venv_python.exists() and Path(python).resolve() == venv_python.resolve():
        return ["bash", str(bootstrap), "training"]  # the ./run.sh install: what the README says
    return [python, "-m", "pip", "install", "-r", str(root / "requirements" / "training.txt")]


def shown(command: list[str]) -> str:
    """The command as a person would type it in the program's folder."""
    root = str(source_root()) + "/"
    words = [w[len(root):] if w.startswith(root) else w for w in command]
    if words[:2] == ["bash", "scripts/bootstrap.sh"]:
        words = words[1:]
    return " ".join(words)


def run_command(command: list[str], on_line: Callable[[str], None],
                started: Callable[[subprocess.Popen], None] | None = None) -> tuple[int, str]:
    """Run ``command`` in the program's folder, handing each output line to ``on_line`` as it
    comes; (exit code, the last lines). Stdin is closed: nothing may wait for an answer.
    ``started`` gets the process, so a window that closes can stop it (an install of several GB
    would otherwise hold the closing window until it ends)."""
    tail: list[str] = []
    process = subprocess.Popen(command, cwd=source_root(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, errors="replace", bufsize=1)
    if started is not None:
        started(process)
    assert process.stdout is not None
    for line in process.stdout:
        line = line.rstrip("\n")
        tail = (tail + [line])[-40:]
        on_line(line)
    return process.wait(), "\n".join(tail)


def failure_reason(code: int, tail: str) -> str:
    """Why an install failed, in one line: pip's own ERROR line when it gave one (an offline PC
    reads "No matching distribution found" or a failed connection), else the last line said."""
    lines = [ln.strip() for ln in tail.splitlines() if ln.strip() and not ln.startswith((" ", "Traceback"))]
    errors = [ln for ln in lines if ln.startswith("ERROR:")]
    said = errors[-1][len("ERROR:"):].strip() if errors else (lines[-1] if lines else f"the command ended with code {code}")
    offline = any(w in tail for w in ("Failed to establish a new connection", "Temporary failure in name resolution",
                                      "No matching distribution found", "Could not find a version"))
    return said + (" (is this PC connected to the internet, or to the site's package mirror?)" if offline else "")
