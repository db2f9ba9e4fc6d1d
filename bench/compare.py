"""Side by side, one run: the shipped student (ONNX Runtime), the teacher and the paper's
configuration (torch), and OpenCV's BRISQUE, at 500x500, 1907x1231 and 4032x3024; then folder
throughput (decode + score + store) against pure inference. Prints markdown tables.

    .venv/bin/python bench/compare.py [--repeats 3] [--throughput-n 40]

Each method runs in its own child process, so its peak memory is that process's maximum RSS
(VmHWM) with the model loaded and run at every size. BRISQUE needs OpenCV's contrib build
and its two model files: with ``--setup`` the script makes a small venv for it
(bench/.venv-brisque, the opencv-contrib-python-headless wheel matching the app's OpenCV) and
installs Debian's opencv-data when missing (as root); without it nothing is installed and a
missing piece leaves BRISQUE out with the reason. The paper
configuration is timed in torch only: its fixed-grid pooling exports to ONNX only through the
dynamo exporter, which did not finish in minutes here.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.peak_memory
from common import median_ms
from tests.peak_memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
SIZES = ((500, 500), (1231, 1907), (3024, 4032))  # (H, W)
BRISQUE_VENV = ROOT / "bench" / ".venv-brisque"
BRISQUE_FILES = ("brisque_model_live.yml", "brisque_range_live.yml")
BRISQUE_DIRS = (Path("/usr/share/opencv4/quality"), Path("/usr/share/opencv/quality"))


def _photo(h: int, w: int) -> np.ndarray:
    """A photo-like test image (smooth content + texture): BRISQUE's statistics need structure."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 128 + 60 * np.sin(xx / 37.0) * np.cos(yy / 53.0)
    img = base[..., None] * np.array([1.0, 0.9, 0.8], np.float32) + rng.normal(0, 6, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


# --- workers (each in its own process) -------------------------------------------------------------
def work_student(repeats: int) -> dict:
    sys.path.insert(0, str(ROOT))
    from app.core.scoring.engine import Engine
    from app.core.model.loader import load_model
    from app.core.paths import default_model_dir

    engine = Engine(load_model(default_model_dir() / "mobileiqa-student.onnx"))
    return {"ms": [median_ms(lambda p=_photo(h, w): engine.score(p), repeats) for h, w in SIZES]}


def _torch_worker(config: str, repeats: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import torch

    from models import create_model

    model = create_model(config, weights=None).eval()
    ms = []
    for h, w in SIZES:
        x = torch.from_numpy(_photo(h, w)).permute(2, 0, 1)[None].float().div(127.5).sub(1)
        with torch.no_grad():
            ms.append(median_ms(lambda x=x: model(x), repeats))
    return {"ms": ms}


def work_teacher(repeats: int) -> dict:
    return _torch_worker("teacher", repeats)


def work_paper(repeats: int) -> dict:
    return _torch_worker("paper", repeats)


def work_brisque(repeats: int, model_dir: str) -> dict:
    import cv2

    files = [str(Path(model_dir) / f) for f in BRISQUE_FILES]
    return {"ms": [median_ms(lambda p=_photo(h, w): cv2.quality.QualityBRISQUE_compute(p, *files), repeats) for h, w in SIZES]}


def work_gmacs(_repeats: int) -> dict:
    sys.path.insert(0, str(ROOT))
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from models import count_parameters, create_model

    out = {}
    for config in ("student", "teacher", "paper"):
        model = create_model(config, weights=None).eval()
        macs = []
        for h, w in SIZES:
            counter = FlopCounterMode(display=False)
            with counter, torch.no_grad():
                model(torch.zeros(1, 3, h, w))
            macs.append(counter.get_total_flops() / 2e9)
        out[config] = {"params": count_parameters(model), "gmacs": macs}
    return out


# --- the parent: set-up, one child per method, tables ---------------------------------------------
def brisque_setup(install: bool = False) -> tuple[str, str] | str:
    """(python, model folder) for BRISQUE, or the reason it cannot run here. Nothing is installed
    unless ``install`` (the scripts' explicit ``--setup``): a measurement never changes the machine
    by itself."""
    model_dir = next((d for d in BRISQUE_DIRS if all((d / f).exists() for f in BRISQUE_FILES)), None)
    if model_dir is None and install and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "opencv-data"], capture_output=True)
        model_dir = next((d for d in BRISQUE_DIRS if all((d / f).exists() for f in BRISQUE_FILES)), None)
    if model_dir is None:
        return "BRISQUE model files not found: install Debian's opencv-data (or run with --setup as root)"
    python = BRISQUE_VENV / "bin" / "python"
    if not python.exists() and not install:
        return f"no BRISQUE environment at {BRISQUE_VENV}: run once with --setup to make it"
    if not python.exists():
        import cv2

        subprocess.run([sys.executable, "-m", "venv", str(BRISQUE_VENV)], check=True)
        done = subprocess.run([str(python), "-m", "pip", "install", "-q", "numpy",
                               f"opencv-contrib-python-headless=={cv2_wheel_version(cv2.__version__)}"], capture_output=True, text=True)
        if done.returncode != 0:
            shutil.rmtree(BRISQUE_VENV, ignore_errors=True)
            return f"could not install opencv-contrib-python-headless: {done.stderr.strip().splitlines()[-1:]}"
    return str(python), str(model_dir)


def cv2_wheel_version(version: str) -> str:
    """The installed OpenCV wheel's own version (cv2 reports 5.0.0; the wheel is 5.0.0.93)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    for dist in ("opencv-python-headless", "opencv-contrib-python-headless", "opencv-python"):
        try:
            return dist_version(dist)
        except PackageNotFoundError:
            continue
    return version


def run_child(method: str, repeats: int, python: str = sys.executable, extra: list[str] = ()) -> dict:
    cmd = [python, __file__, "--worker", method, "--repeats", str(repeats), *extra]
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"OMP_NUM_THREADS": str(os.cpu_count())})
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per size (median), after one warm-up")
    ap.add_argument("--throughput-n", type=int, default=40, help="photos for the folder throughput table (0: skip)")
    ap.add_argument("--setup", action="store_true",
                    help="install what BRISQUE needs (opencv-data, a small venv with opencv-contrib) if missing")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--model-dir", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        work = globals()[f"work_{args.worker}"]
        result = work(args.repeats, args.model_dir) if args.worker == "brisque" else work(args.repeats)
        result["peak_mb"] = peak_rss_mb()
        print(json.dumps(result))
        return 0

    print(f"{os.cpu_count()} CPU cores; median of {args.repeats} runs after a warm-up; one child process per method\n")
    stats = run_child("gmacs", 1)
    brisque = brisque_setup(install=args.setup)
    rows = [
        ("student v0.2 (ONNX Runtime, the app's engine)", "student", run_child("student", args.repeats)),
        ("teacher (torch)", "teacher", run_child("teacher", args.repeats)),
        ("paper configuration (torch; ONNX not exported)", "paper", run_child("paper", args.repeats)),
        ("OpenCV BRISQUE", None, run_child("brisque", args.repeats, brisque[0], ["--model-dir", brisque[1]])
         if isinstance(brisque, tuple) else {"error": brisque}),
    ]
    sizes = [f"{w}×{h}" for h, w in SIZES]
    header = ["method", "params (M)"] + [f"GMACs {s}" for s in sizes] + [f"ms {s}" for s in sizes] + ["peak RSS (MB)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, config, result in rows:
        info = stats.get(config, {}) if config else {}
        cells = [label, f"{info['params'] / 1e6:.2f}" if info else "–"]
        cells += [f"{g:.1f}" for g in info["gmacs"]] if info else ["–"] * len(SIZES)
        if "error" in result:
            cells += ["failed"] * len(SIZES) + [result["error"][:60]]
        else:
            cells += [f"{ms:.0f}" for ms in result["ms"]] + [f"{result['peak_mb']:.0f}"]
        print("| " + " | ".join(cells) + " |", flush=True)
    if args.throughput_n:
        print(f"\nFolder throughput ({args.throughput_n} generated 1920×1080 JPEGs, the shipped student):\n", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "throughput.py"), "--n", str(args.throughput_n)], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
