"""The shipped model, as an inspector uses it: damage visible only at 100 % in part of a large
photo lights the viewer's plain native map there, and not the clean rest."""
from pathlib import Path

import cv2
import numpy as np

from app.core.scoring.engine import Engine
from app.core.model.loader import load_model
from app.core.scoring.native_maps import native_maps
from training.evaluate_synthetic import auroc

SHIPPED = Path(__file__).resolve().parents[2] / "resources" / "models" / "mobileiqa-student.onnx"


def _photo_with_a_noisy_patch(h: int = 1100, w: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """A smooth, lightly textured scene; Gaussian noise (sigma 18) inside an ellipse only."""
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    scene = np.stack([110 + 60 * np.sin(xx / 90) * np.cos(yy / 140), 120 + 40 * np.cos(xx / 60 + yy / 200),
                      100 + 50 * np.sin(yy / 75)], -1)
    scene += cv2.GaussianBlur(rng.normal(0, 6, (h, w, 3)).astype(np.float32), (0, 0), 1.5)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 3, h // 2), (260, 200), 0, 0, 360, 1, -1)
    noisy = scene + rng.normal(0, 18, scene.shape) * mask[..., None]
    return np.clip(noisy, 0, 255).astype(np.uint8), mask


def test_the_shipped_plain_native_map_finds_noise_in_part_of_a_large_photo():
    engine = Engine(load_model(SHIPPED))
    assert "damage" in engine.outputs("detail"), "the shipped detail network has a damage head"
    rgb, mask = _photo_with_a_noisy_patch()
    maps = native_maps(engine, rgb, engine.score(rgb))
    cells = cv2.resize(mask.astype(np.float32), maps.tiles.shape[::-1], interpolation=cv2.INTER_AREA) > 0.5
    assert auroc(maps.tiles.ravel(), cells.ravel()) > 0.95
    assert maps.tiles[cells].mean() > maps.tiles[~cells].mean() + 0.3  # in absolute terms, not just ranked
