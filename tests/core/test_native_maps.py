"""The native damage map: tiled with bounded memory, correct shape at any size, no border frame,
and what the viewer shows weighs the overview and the tiles as the score does."""
import numpy as np
import pytest

from app.core.scoring.engine import Engine
from app.core.model.loader import load_model
from dataclasses import replace

from app.core.scoring.native_maps import _window, native_damage, native_maps
from app.core.scoring.overlay import upsample
from app.core.scoring.reading import Reading
from app.core.scoring.overlay import distortion_overlay


@pytest.fixture(scope="module")
def engine(exported_student):
    return Engine(load_model(exported_student[1]))


def texture(h, w, seed=0):
    import cv2

    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)


def untiled(engine, rgb, margin=32):
    """The reference: the whole photo in one pass, with the same mirrored margin."""
    h, w = rgb.shape[:2]
    s = engine.stride
    window = _window(rgb, -margin, -margin, h + margin, w + margin)
    m = margin // s
    return engine.run(window)["distortion"][0, 0][m:m + (h + s - 1) // s, m:m + (w + s - 1) // s]


def test_tiled_map_equals_the_untiled_map_where_both_fit(engine):
    rgb = texture(400, 560)
    tiled = native_damage(engine, rgb, tile=256, margin=64)
    whole = untiled(engine, rgb, margin=64)
    assert tiled.shape == whole.shape == (25, 35)
    # Tiles see their neighbours only through the margin: close, not bit-equal.
    assert np.abs(tiled - whole).mean() < 0.02 and np.abs(tiled - whole).max() < 0.15


@pytest.mark.parametrize("h, w", [(37, 41), (333, 517), (1001, 77), (16, 2000)])
def test_maps_and_overlays_at_odd_sizes_have_the_photo_shape(engine, h, w):
    rgb = texture(max(h, 33), w)
    damage = native_damage(engine, rgb, tile=256)
    assert damage.shape == (-(-rgb.shape[0] // 16), -(-w // 16))
    assert np.isfinite(damage).all() and ((0 <= damage) & (damage <= 1)).all()
    assert distortion_overlay(rgb, damage, 16).shape == rgb.shape
    result = engine.score(rgb) if min(rgb.shape[:2]) >= 33 else None
    if result is not None:
        assert distortion_overlay(rgb, result.distortion, result.cell).shape == rgb.shape


def test_mirrored_borders_leave_no_frame(engine):
    """On a texture that looks alike everywhere, the outermost cells read like the inside ones
    (edge-repeat padding made a bright frame: a repeated edge looks like a smear)."""
    rgb = texture(301, 427, seed=4)
    damage = native_damage(engine, rgb, tile=256)
    inner = damage[2:-2, 2:-2].mean()
    ring = np.concatenate([damage[0], damage[-1], damage[:, 0], damage[:, -1]]).mean()
    assert abs(ring - inner) < 0.05, (ring, inner)


def test_a_cancelled_map_stops_between_tiles(engine):
    calls = []
    out = native_damage(engine, texture(600, 600), tile=256, overlap=64, cancelled=lambda: len(calls) >= 2,
                        progress=lambda d, t: calls.append((d, t)))
    assert out is None and calls == [(1, 9), (2, 9)]


@pytest.mark.slow
def test_a_48_megapixel_photo_gets_a_full_map_and_overlay(engine):
    rgb = np.full((6000, 8000, 3), 128, np.uint8)
    damage = native_damage(engine, rgb)
    assert damage.shape == (375, 500)
    assert distortion_overlay(rgb, damage, 16).shape == rgb.shape
    result = engine.score(rgb)
    assert distortion_overlay(rgb, result.distortion, result.cell).shape == rgb.shape


@pytest.mark.parametrize("h, w", [(600, 600), (1000, 1517), (3024, 4032), (513, 17 * 16 + 5)])
def test_every_cell_is_covered_and_cross_fading_keeps_a_constant_map_constant(h, w):
    """A stand-in model whose map is 0.7 everywhere: tiled, overlapped and cross-faded, the map
    must be 0.7 in every cell (a cell no tile covered would read 0)."""

    class Flat:
        stride = 16

        def outputs(self, reader="overview"):
            return ("distortion",)

        def run(self, window, reader="overview"):
            gh, gw = -(-window.shape[0] // 16), -(-window.shape[1] // 16)
            return {"distortion": np.full((1, 1, gh, gw), 0.7, np.float32)}

    rgb = np.zeros((h, w, 3), np.uint8)
    out = native_damage(Flat(), rgb)
    assert out.shape == (-(-h // 16), -(-w // 16))
    assert np.allclose(out, 0.7, atol=1e-5)


def test_a_photo_no_larger_than_the_viewing_size_counts_the_overview_map_alone(engine):
    rgb = texture(300, 420)
    result = engine.score(rgb)
    assert result.detail_score is None
    maps = native_maps(engine, rgb, result)
    assert np.array_equal(maps.in_score, result.distortion)  # its overview is the photo itself
    assert np.array_equal(maps.tiles, native_damage(engine, rgb))  # damage at 100 % is still shown


def test_a_large_photo_counts_the_overview_and_the_tiles_weighted_as_in_the_score(exported_student):
    weighted = Engine(load_model(exported_student[1]))
    weighted.reading = Reading(overview_side=128, detail_tile=96, detail_tiles=4, detail_weight=0.25)
    rgb = texture(300, 500, seed=2)
    result = weighted.score(rgb)
    assert result.detail_score is not None
    maps = native_maps(weighted, rgb, result, tile=256)
    tiles = native_damage(weighted, rgb, tile=256)
    whole = upsample(result.distortion, *tiles.shape, result.cell / 16)
    assert maps.in_score.shape == maps.tiles.shape == (19, 32)
    assert np.array_equal(maps.tiles, tiles)
    # An untrained network's two maps differ by ~1e-4: a tolerance far below that tells the
    # weighted sum from either map alone.
    assert np.abs(whole - tiles).max() > 1e-4
    assert np.allclose(maps.in_score, 0.75 * whole + 0.25 * tiles, rtol=0, atol=1e-6)
    nothing = replace(result, detail_score=None)  # as scored by a card without a detail reader
    assert np.array_equal(native_maps(weighted, rgb, nothing, tile=256).in_score, whole)
    calls = []
    assert native_maps(weighted, rgb, result, tile=256, cancelled=lambda: bool(calls),
                       progress=lambda d, t: calls.append(d)) is None


@pytest.mark.parametrize("width, cell", [(1000, 1000 / 512 * 16), (4032, 4032 / 512 * 16), (700, 16.0)])
def test_the_overview_map_is_stretched_by_position_partial_cells_included(width, cell):
    """A step in the overview's map at cell k must land at photo pixel k x cell on the native
    grid (within one native cell), whatever the photo's width and the overview's last partial cell."""
    cells = -(-round(width * 16 / cell) // 16)
    k = cells // 3
    overview_map = np.zeros((4, cells), np.float32)
    overview_map[:, :k] = 1.0
    native_cells = -(-width // 16)
    out = upsample(overview_map, 10, native_cells, cell / 16)
    assert out.shape == (10, native_cells)
    edge = np.argmax(out[0] < 0.5) * 16  # first native pixel read as clean
    assert abs(edge - k * cell) <= 16 + cell / 2, (edge, k * cell)
