"""The memory bound of one photo, whatever arrives: decode + score (the app's ``score_photo``)
of photos whose pixels are far larger than their files, each in its own child process (so the
peak RSS printed is that photo's own VmHWM). Prints a table.

    .venv/bin/python bench/decode_bound.py
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.peak_memory
from tests.peak_memory import peak_rss_mb  # noqa: E402

# (name, width, height, format): flat colour compresses to almost nothing, like a crafted bomb.
CASES = (
    ("48 MP JPEG", 8000, 6000, "JPEG"),
    ("64 MP PNG (at the bound)", 8000, 8000, "PNG"),
    ("100 MP JPEG", 10000, 10000, "JPEG"),
    ("196 MP PNG of 0.6 MB", 14000, 14000, "PNG"),
    ("196 MP JPEG", 14000, 14000, "JPEG"),
)


def make(folder: Path, w: int, h: int, fmt: str) -> Path:
    from PIL import Image

    path = folder / f"{w}x{h}.{fmt.lower()}"
    rng = np.random.default_rng(0)
    tile = Image.fromarray(rng.integers(90, 160, (h // 100 + 1, w // 100 + 1, 3), dtype=np.uint8))
    tile.resize((w, h), Image.NEAREST).save(path, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return path


def worker(path: str) -> dict:
    sys.path.insert(0, str(ROOT))
    from app.core.scoring.photo import score_photo
    from app.core.scoring.engine import Engine
    from app.core.model.loader import load_model
    from app.core.paths import default_model_dir

    engine = Engine(load_model(default_model_dir() / "mobileiqa-student.onnx"))
    start = time.perf_counter()
    outcome = score_photo(engine, Path(path))
    shape = outcome.rgb.shape[:2] if outcome.rgb is not None else None
    return {"status": outcome.record.status, "decoded": shape, "ms": (time.perf_counter() - start) * 1000,
            "error": outcome.record.error, "peak_mb": peak_rss_mb()}


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2])))
        return 0
    print("| photo | file (MB) | status | decoded at | decode + score (ms) | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, w, h, fmt in CASES:
            path = make(Path(tmp), w, h, fmt)
            done = subprocess.run([sys.executable, __file__, "--worker", str(path)], capture_output=True, text=True)
            if done.returncode != 0:
                print(f"| {name} | | crashed: {done.stderr.strip().splitlines()[-1]} | | | |")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            at = f"{r['decoded'][1]}×{r['decoded'][0]}" if r["decoded"] else "not decoded"
            print(f"| {name} | {path.stat().st_size / 1e6:.1f} | {r['status']} | {at} | {r['ms']:.0f} | {r['peak_mb']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
