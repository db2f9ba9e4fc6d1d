"""The native map cache on disk: kept across launches, bounded, never trusted blindly."""
import hashlib
import os

import numpy as np

from app.core.scoring.map_cache import MapCache, grid_shape
from app.core.scoring.native_maps import NativeMaps

MODEL = hashlib.sha256(b"model a").hexdigest()
OTHER = hashlib.sha256(b"model b").hexdigest()


def photo(n: int) -> str:
    return hashlib.sha256(f"photo {n}".encode()).hexdigest()


def maps(shape=(30, 40), seed=0) -> NativeMaps:
    rng = np.random.default_rng(seed)
    return NativeMaps(tiles=rng.random(shape, np.float32), in_score=rng.random(shape, np.float32))


def test_a_stored_map_comes_back_in_a_new_cache_on_the_same_folder(tmp_path):
    m = maps()
    assert MapCache(tmp_path / "maps").put(photo(1), MODEL, m)
    got = MapCache(tmp_path / "maps").get(photo(1), MODEL, (30, 40))  # a relaunch: a new cache object
    assert got is not None and got.tiles.dtype == np.float32
    assert np.allclose(got.tiles, m.tiles, atol=1e-3) and np.allclose(got.in_score, m.in_score, atol=1e-3)


def test_another_photo_or_another_model_is_a_miss(tmp_path):
    cache = MapCache(tmp_path)
    cache.put(photo(1), MODEL, maps())
    assert cache.get(photo(2), MODEL, (30, 40)) is None
    assert cache.get(photo(1), OTHER, (30, 40)) is None
    assert cache.get(None, MODEL, (30, 40)) is None and not cache.put(None, MODEL, maps())
    assert cache.get("../../etc/passwd", MODEL, (30, 40)) is None


def test_the_folder_is_bounded_and_the_least_recently_used_go_first(tmp_path):
    cache = MapCache(tmp_path, limit_bytes=10 ** 9)
    for n in range(3):
        cache.put(photo(n), MODEL, maps((100, 100), seed=n))  # random values: barely compress
        os.utime(next(tmp_path.glob(f"*{photo(n)}.npz")), (1000 + n, 1000 + n))
    one = next(tmp_path.glob("*.npz")).stat().st_size
    assert cache.get(photo(0), MODEL, (100, 100)) is not None  # used now: the newest
    cache.limit_bytes = int(2.5 * one)
    cache.put(photo(3), MODEL, maps((100, 100), seed=3))
    assert cache.size_bytes() <= cache.limit_bytes
    kept = {n for n in range(4) if cache.get(photo(n), MODEL, (100, 100)) is not None}
    assert kept == {0, 3}  # 1 and 2, the least recently used, were evicted


def test_a_corrupt_or_wrong_shaped_file_is_ignored_and_removed(tmp_path):
    cache = MapCache(tmp_path)
    cache.put(photo(1), MODEL, maps())
    cache.put(photo(2), MODEL, maps())
    first, second = (next(tmp_path.glob(f"*{photo(n)}.npz")) for n in (1, 2))
    first.write_bytes(first.read_bytes()[:100])  # truncated by a crash or a full disk
    assert cache.get(photo(1), MODEL, (30, 40)) is None and not first.exists()
    assert cache.get(photo(2), MODEL, (31, 40)) is None and not second.exists()  # not this photo's grid
    second.write_bytes(b"not a zip at all")
    assert cache.get(photo(2), MODEL, (30, 40)) is None and not second.exists()


def test_a_folder_that_cannot_be_written_is_a_miss_not_a_crash(tmp_path):
    (tmp_path / "file").write_text("a file where the folder should be")
    cache = MapCache(tmp_path / "file" / "maps")
    assert not cache.put(photo(1), MODEL, maps())
    assert cache.get(photo(1), MODEL, (30, 40)) is None


def test_the_grid_is_one_cell_per_stride_rounded_up():
    assert grid_shape(480, 640, 16) == (30, 40) and grid_shape(481, 641, 16) == (31, 41)
