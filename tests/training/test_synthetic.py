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

    grey = lambda im: cv2.cvtColor(im, cv2.COLOR_RGB2GRAY)
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


def test_auroc_matches_its_definition():
    from training.evaluate_synthetic import auroc

    labels = np.array([0, 0, 1, 1, 0, 1])
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9, 0.3, 0.7]), labels) == 1.0
    assert auroc(np.array([0.9, 0.8, 0.1, 0.2, 0.7, 0.3]), labels) == 0.0
    assert auroc(np.full(6, 0.5), labels) == 0.5
    # One positive below one negative out of 9 pairs.
    assert auroc(np.array([0.1, 0.2, 0.8, 0.9, 0.75, 0.7]), labels) == pytest.approx(8 / 9)


def test_synthetic_evaluation_runs_on_an_exported_model(exported_student, tmp_path):
    from PIL import Image

    from training.evaluate_synthetic import evaluate_synthetic

    folder = tmp_path / "clean"
    folder.mkdir()
    data = pytest.importorskip("skimage.data")
    Image.fromarray(data.astronaut()[::4, ::4]).save(folder / "a.png")
    report = evaluate_synthetic(exported_student[1], [folder], crop=96, region_levels=(4,))
    assert report["photos"] == 1 and set(report["per_kind"]) == set(DISTORTIONS)
    for values in report["per_kind"].values():
        assert 0 <= values["monotone_pairs"] <= 1 and 0 <= values["auroc"] <= 1


def test_the_native_evaluation_judges_both_maps_the_viewer_shows(exported_student, tmp_path):
    from PIL import Image

    from training.evaluate_synthetic import evaluate_synthetic

    folder = tmp_path / "clean"
    folder.mkdir()
    data = pytest.importorskip("skimage.data")
    Image.fromarray(data.astronaut()[::4, ::4]).save(folder / "a.png")
    report = evaluate_synthetic(exported_student[1], [folder], crop=96, region_levels=(4,), native=True)
    assert report["map"].startswith("native")
    assert 0 <= report["auroc"] <= 1 and 0 <= report["auroc_tiles"] <= 1
    assert all("auroc_tiles" in v for v in report["per_kind"].values())
    assert len(report["auroc_ci95"]) == len(report["auroc_tiles_ci95"]) == 2  # NaN here: one photo


def test_the_map_interval_resamples_photos_and_narrows_when_they_agree():
    from training.evaluate_synthetic import photo_interval

    spread = [[0.6, 0.7], [0.9], [0.8, 0.85], [0.95, 0.9], [0.7]]
    lo, hi = photo_interval(spread)
    means = [sum(v) / len(v) for v in spread]
    assert min(means) <= lo < sum(means) / len(means) < hi <= max(means)
    lo2, hi2 = photo_interval([[0.8, 0.81], [0.8], [0.81], [0.8], [0.805]])
    assert hi2 - lo2 < (hi - lo) / 5
    assert all(v != v for v in photo_interval([[0.9, 0.8]]))  # one photo: no interval (NaN)


def _blockiness(images) -> float:
    """Median over a group's images and both axes of how much more the pixels step across one
    phase of the 8x8 grid than across the others (about 1 without a JPEG's blocks)."""
    ratios = []
    for image in images.numpy():
        grey = image.mean(0)
        for axis in (0, 1):
            steps = np.abs(np.diff(grey, axis=axis)).mean(1 - axis)
            phases = [steps[i::8].mean() for i in range(8)]
            ratios.append(max(phases) / (np.median(phases) + 1e-6))
    return float(np.median(ratios))


def test_groups_saved_as_jpegs_are_crop_sized_seeded_and_carry_the_files_blocks(photo, tmp_path):
    # The detail reader reads users' JPEGs: a group can be saved as one before it is seen.
    import cv2

    from training.data.ranking import RankingGroups

    cv2.imwrite(str(tmp_path / "p.png"), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))

    def group(saved):
        return RankingGroups([tmp_path], (0.5,) * 3, (0.5,) * 3, 64, length=1, seed=0, saved_quality=saved)[0]

    saved, again, plain = group((20, 20)), group((20, 20)), group(None)
    assert saved["images"].shape == plain["images"].shape == (len(LEVELS) + 2, 3, 64, 64)
    assert saved["mask"].shape == (64, 64)
    np.testing.assert_array_equal(saved["images"].numpy(), again["images"].numpy())
    assert _blockiness(plain["images"]) < 1.4 < _blockiness(saved["images"])
