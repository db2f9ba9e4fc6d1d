"""Parameters, GMACs and ONNX Runtime latency of the model configs; prints a markdown table.

    .venv/bin/python bench/model_stats.py [--sizes 500x500 1907x1231] [--repeats 5]

GMACs are counted by torch's FlopCounterMode (MACs = FLOPs / 2, convolutions and matmuls).
Latency: the config exported to ONNX, median of ``--repeats`` runs after one warm-up, on this
machine's CPU; compare numbers from one run only (shared machines are noisy).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models import count_parameters, create_model
from training.export import export_onnx


def gmacs(model, h: int, w: int) -> float:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, h, w))
    return counter.get_total_flops() / 2e9


def ort_latency_ms(onnx_path: Path, h: int, w: int, repeats: int) -> float:
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, 3, h, w)).astype(np.float32)
    session.run(None, {"image": x})
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        session.run(None, {"image": x})
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=["student", "teacher", "paper"])
    parser.add_argument("--sizes", nargs="+", default=["500x500", "1907x1231"])
    parser.add_argument("--latency", nargs="+", default=["student"], help="configs to time in ONNX Runtime")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x"))[::-1] for s in args.sizes]  # WxH -> (H, W)
    print(f"torch {torch.__version__}, onnxruntime {ort.__version__}, {torch.get_num_threads()} threads\n")
    header = ["config", "backbone", "params (M)"] + [f"GMACs {w}x{h}" for h, w in sizes] + [f"ORT ms {w}x{h}" for h, w in sizes]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in args.configs:
        model = create_model(name, weights=None).eval()
        row = [name, model.config.backbone, f"{count_parameters(model) / 1e6:.2f}"]
        row += [f"{gmacs(model, h, w):.2f}" for h, w in sizes]
        if name in args.latency:
            with tempfile.TemporaryDirectory() as tmp:
                onnx_path = Path(tmp) / f"{name}.onnx"
                export_onnx(model, onnx_path)
                row += [f"{ort_latency_ms(onnx_path, h, w, args.repeats):.0f}" for h, w in sizes]
        else:
            row += ["–"] * len(sizes)
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
