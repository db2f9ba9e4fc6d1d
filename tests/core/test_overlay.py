import numpy as np

from app.core.scoring.overlay import (
    attention_overlay,
    attention_ratio,
    colorize,
    distortion_overlay,
    fused_attention,
    upsample,
)


def test_colour_scale_is_fixed_not_stretched_per_image():
    faint = np.full((4, 4), 0.05)
    faint[0, 0] = 0.1  # a clean photo's map with one slightly warmer cell
    strong = np.full((4, 4), 0.9)
    # Min-max scaling would paint the faint cell like the strong map; a fixed scale does not.
    assert np.array_equal(colorize(faint, 0, 1)[1, 1], colorize(np.array([[0.05]]), 0, 1)[0, 0])
    assert colorize(faint, 0, 1)[0, 0].sum() < colorize(strong, 0, 1)[0, 0].sum() / 2


def test_upsampling_keeps_each_cell_over_the_pixels_it_covered():
    grid = np.zeros((3, 3), np.float32)  # a 44x40 photo: ceil(40/16) x ceil(44/16) cells
    grid[1, 2] = 1.0
    up = upsample(grid, 40, 44, cell=16)
    assert up.shape == (40, 44)
    assert up[24, 40] > 0.95  # the centre of cell (1, 2): pixels 16-31 x 32-47
    assert up[4, 4] < 0.01 and up[24, 8] < 0.01


def test_attention_is_shown_relative_to_uniform():
    uniform = np.full((5, 5), 1 / 25)
    assert np.allclose(attention_ratio(uniform), 1.0)
    views = np.stack([uniform, np.eye(5) / 5])
    assert np.isclose(fused_attention(views).sum(), 1.0)


def test_overlays_have_the_photo_shape_and_opacity_zero_is_the_photo():
    photo = np.random.default_rng(0).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    dist = np.random.default_rng(1).random((4, 5)).astype(np.float32)
    assert distortion_overlay(photo, dist, 16, 0.5).shape == photo.shape
    assert np.array_equal(distortion_overlay(photo, dist, 16, 0.0), photo)
    assert attention_overlay(photo, np.full((4, 5), 1 / 20), 16).shape == photo.shape


def test_a_map_of_a_reduced_copy_lands_on_the_full_photo():
    """The overview of a 4x larger photo: each cell covers 64 photo pixels, not 16."""
    grid = np.zeros((3, 4), np.float32)
    grid[2, 3] = 1.0
    up = upsample(grid, 160, 250, cell=64.0)
    assert up.shape == (160, 250)
    row, col = np.unravel_index(up.argmax(), up.shape)
    assert 128 <= row < 160 and 192 <= col < 250  # inside cell (2, 3): rows 128-191, columns 192-255
    assert up[20, 20] < 0.01
