import numpy as np
import pytest

from training.data.synthetic import DISTORTIONS, LEVELS, distort, distort_region


@pytest.fixture(scope="module")
def photo():
    """A textured test photo (skimage's astronaut, cropped), RGB uint8."""
    data = pytest.importorskip("skimage.data")
    return data.astronaut()[100:260, 150:350].copy()


def _psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def test_at_least_twelve_types():
    assert len(DISTORTIONS) >= 12


@pytest.mark.parametrize("kind", sorted(DISTORTIONS))
def test_each_distortion_is_deterministic_for_a_seed(photo, kind):
    a = distort(photo, kind, 3, np.random.default_rng(7))
    b = distort(photo, kind, 3, np.random.default_rng(7))
    assert a.dtype == np.uint8 and a.shape == photo.shape
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", sorted(DISTORTIONS))
def test_each_distortion_gets_worse_with_its_level(photo, kind):
    # A simple, type-agnostic measure: fidelity to the original falls as the level rises.
    psnr = [_psnr(photo, distort(photo, kind, lv, np.random.default_rng(0))) for lv in LEVELS]
    assert all(a > b for a, b in zip(psnr, psnr[1:])), [round(p, 2) for p in psnr]


def test_blur_lowers_laplacian_variance(photo):
    import cv2

    grey = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)  # noqa: E731
    sharpness = [cv2.Laplacian(grey(distort(photo, "gaussian_blur", lv, np.random.default_rng(0))), cv2.CV_64F).var() for lv in LEVELS]
    assert all(a > b for a, b in zip(sharpness, sharpness[1:]))


def test_region_distortion_stays_inside_its_mask(photo):
    img, mask = distort_region(photo, "gaussian_noise", 4, np.random.default_rng(3))
    changed = np.any(img != photo, axis=2)
    assert 0.05 < mask.mean() < 0.5
    assert not changed[mask == 0].any()
    assert changed[mask == 1].mean() > 0.8


def test_unknown_kind_or_level_is_refused(photo):
    with pytest.raises(ValueError, match="unknown distortion"):
        distort(photo, "sepia", 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="level"):
        distort(photo, "jpeg", 6, np.random.default_rng(0))
