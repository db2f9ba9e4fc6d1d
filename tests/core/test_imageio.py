import numpy as np
import pytest
from PIL import Image

from app.core.imageio.decode import ImageLoadError, load_rgb


def test_exif_orientation_is_applied(tmp_path):
    img = Image.new("RGB", (40, 20), (255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_rgb(tmp_path / "r.jpg").shape == (40, 20, 3)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Image.new("L", (16, 12), 128),
        lambda: Image.new("RGBA", (16, 12), (10, 20, 30, 0)),
        lambda: Image.new("CMYK", (16, 12), (0, 255, 0, 0)),
        lambda: Image.new("P", (16, 12), 3),
        lambda: Image.fromarray(np.full((12, 16), 65535, np.uint16)),
    ],
    ids=["grey", "alpha", "cmyk", "palette", "16bit"],
)
def test_odd_modes_become_rgb8(tmp_path, make):
    img = make()
    path = tmp_path / ("x.tif" if img.mode == "CMYK" else "x.png")
    img.save(path)
    rgb = load_rgb(path)
    assert rgb.dtype == np.uint8 and rgb.shape == (12, 16, 3)


def test_transparent_pixels_show_on_white_and_16bit_keeps_its_range(tmp_path):
    Image.new("RGBA", (8, 8), (0, 0, 0, 0)).save(tmp_path / "a.png")
    assert (load_rgb(tmp_path / "a.png") == 255).all()
    Image.fromarray(np.full((8, 8), 65535, np.uint16)).save(tmp_path / "w.png")
    assert (load_rgb(tmp_path / "w.png") == 255).all()


@pytest.mark.parametrize(
    "content, kind",
    [(b"", "empty"), (b"this is a text file, not a photo", "not_an_image")],
)
def test_bad_files_get_a_kind_and_a_message(tmp_path, content, kind):
    path = tmp_path / "bad.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path)
    assert err.value.kind == kind and "bad.jpg" in str(err.value)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_photos_are_reported_as_truncated(tmp_path, fmt):
    rng = np.random.default_rng(0)
    path = tmp_path / f"t.{fmt.lower()}"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path, fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path)
    assert err.value.kind == "truncated"


def test_damaged_data_is_corrupt_not_truncated(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "c.png"
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(path)
    data = bytearray(path.read_bytes())
    data[60:120] = b"\x00" * 60  # smash the compressed stream (and its checksum) mid-file
    path.write_bytes(bytes(data))
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path)
    assert err.value.kind == "corrupt"


@pytest.mark.parametrize(
    "file, head, name",
    [("photo.dng", b"II*\x00\x08", "camera RAW"), ("photo.jpg", b"%PDF-1.7\n", "PDF"),
     ("photo.jpg", b"<svg xmlns='x'>", "SVG")],
)
def test_unsupported_formats_are_named(tmp_path, file, head, name):
    path = tmp_path / file
    path.write_bytes(head + b"\x00" * 200)
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path)
    assert err.value.kind == "unsupported" and name in str(err.value)


def test_missing_and_oversized_files(tmp_path):
    with pytest.raises(ImageLoadError) as err:
        load_rgb(tmp_path / "nope.png")
    assert err.value.kind == "missing"
    Image.new("RGB", (100, 100)).save(tmp_path / "big.png")
    with pytest.raises(ImageLoadError) as err:
        load_rgb(tmp_path / "big.png", max_pixels=5000)
    assert err.value.kind == "too_large"
