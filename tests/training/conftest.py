import csv

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session")
def tiny_mos_set(tmp_path_factory):
    """24 generated photos whose MOS follows how blurred/noisy they are: (csv, root)."""
    root = tmp_path_factory.mktemp("mos")
    (root / "img").mkdir()
    rng = np.random.default_rng(0)
    rows = []
    yy, xx = np.mgrid[0:72, 0:88]
    for i in range(24):
        level = i % 6  # 0 = clean ... 5 = very noisy
        base = (np.sin(xx / (3 + i % 4)) * np.cos(yy / 5) * 60 + 128)[..., None] * np.array([1.0, 0.8, 0.6])
        noisy = base + rng.normal(0, 12 * level, base.shape)
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(root / "img" / f"{i:02d}.png")
        rows.append({"image": f"img/{i:02d}.png", "mos": 90 - 14 * level + rng.normal(0, 2), "std": 5})
    with open(root / "meta.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["image", "mos", "std"])
        writer.writeheader()
        writer.writerows(rows)
    return root / "meta.csv", root
