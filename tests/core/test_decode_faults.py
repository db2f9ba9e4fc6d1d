"""Photos that decoded wrongly or crashed the decoder, each reproduced from a file built here."""
import io
import struct

import numpy as np
import pytest
from PIL import Image, ImageOps

from app.core.imageio.decode import ImageLoadError, load_rgb


def _smooth_photo(h=240, w=320, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 16, w // 16, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((w, h), Image.BICUBIC))


def _jpeg(rgb: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90, **kw)
    return buf.getvalue()


def _exif_block(entries) -> bytes:
    """A little-endian TIFF IFD with (tag, type, count, payload) entries, as a JPEG's APP1."""
    head = b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", len(entries))
    data_at, blobs, body = 8 + 2 + 12 * len(entries) + 4, b"", b""
    for tag, kind, count, payload in entries:
        if len(payload) > 4:
            body += struct.pack("<HHII", tag, kind, count, data_at + len(blobs))
            blobs += payload
        else:
            body += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\x00")
    return b"Exif\x00\x00" + head + body + b"\x00\x00\x00\x00" + blobs


@pytest.mark.parametrize("tag", [0x010A, 0x011E, 0x0128, 0x0213], ids=["FillOrder", "XPosition", "ResolutionUnit",
                                                                      "YCbCrPositioning"])
def test_exif_fields_of_the_wrong_type_do_not_stop_the_photo(tmp_path, tag):
    # The tag should hold a number; here it holds text, next to an orientation of 6 (rotate).
    exif = _exif_block([(tag, 2, 8, b"garbage\x00"), (0x0112, 3, 1, struct.pack("<H", 6))])
    path = tmp_path / "odd_exif.jpg"
    path.write_bytes(_jpeg(_smooth_photo(40, 64), exif=exif))
    assert load_rgb(path).shape == (64, 40, 3)  # decoded, and still turned upright


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_matches_pillows_reading(tmp_path, orientation):
    rgb = _smooth_photo(48, 80)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.png"
    Image.fromarray(rgb).save(path, exif=exif)
    with Image.open(path) as img:
        expected = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    np.testing.assert_array_equal(load_rgb(path), expected)


def _damaged_jpegs():
    good = _jpeg(_smooth_photo())
    scan = good.find(b"\xff\xda")
    middle = (scan + len(good)) // 2
    early_end = good[:middle] + b"\xff\xd9"  # an EOI marker half-way through the picture
    flipped = bytearray(good)
    for i in range(middle, middle + 160, 5):
        flipped[i] ^= 0x55  # entropy-coded bytes changed in place, length unchanged
    return {"early_eoi": early_end, "flipped_entropy": bytes(flipped)}


@pytest.mark.parametrize("case", ["early_eoi", "flipped_entropy"])
def test_a_jpeg_the_decoder_reports_as_corrupt_is_damaged_not_whole(tmp_path, case):
    path = tmp_path / f"{case}.jpg"
    path.write_bytes(_damaged_jpegs()[case])
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path)
    assert err.value.kind == "damaged"
    assert path.name in str(err.value) and "damaged" in str(err.value)


def test_a_whole_progressive_or_grey_jpeg_is_not_called_damaged(tmp_path):
    rgb = _smooth_photo()
    for name, data in {"p.jpg": _jpeg(rgb, progressive=True), "g.jpg": _jpeg(rgb[..., 0])}.items():
        (tmp_path / name).write_bytes(data)
        assert load_rgb(tmp_path / name).shape == rgb.shape


def test_jpeg_pixels_match_pillows_decoding(tmp_path):
    rgb = _smooth_photo()
    path = tmp_path / "same.jpg"
    path.write_bytes(_jpeg(rgb))
    with Image.open(path) as img:
        expected = np.asarray(img.convert("RGB")).astype(int)
    assert np.abs(load_rgb(path).astype(int) - expected).max() <= 2  # same libjpeg, maybe another IDCT


@pytest.mark.parametrize("scale", [1.0, 255.0, 4000.0], ids=["unit", "8bit_range", "hdr"])
def test_float32_tiffs_are_tone_mapped_not_black_or_white(tmp_path, scale):
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (16, 1)) * scale
    path = tmp_path / "f.tif"
    Image.fromarray(ramp, mode="F").save(path)
    grey = load_rgb(path)[..., 0].astype(int)
    assert grey[:, 0].max() <= 5 and grey[:, -1].min() >= 250  # dark stays dark, bright is white
    assert 100 <= grey[:, 32].mean() <= 155  # and the middle is mid-grey


def test_nan_and_inf_in_a_float_tiff_do_not_spoil_the_picture(tmp_path):
    ramp = np.tile(np.linspace(0, 1, 64, dtype=np.float32), (16, 1))
    ramp[0, 0], ramp[0, 1] = np.nan, np.inf
    path = tmp_path / "nan.tif"
    Image.fromarray(ramp, mode="F").save(path)
    grey = load_rgb(path)[..., 0].astype(int)
    assert grey[5, -1] >= 250 and grey[5, 0] <= 5


@pytest.mark.parametrize("peak", [255, 65535, 2**31 - 1], ids=["8bit", "16bit", "32bit"])
def test_int32_tiffs_keep_their_range(tmp_path, peak):
    ramp = (np.tile(np.linspace(0, 1, 64), (16, 1)) * peak).astype(np.int32)
    path = tmp_path / "i.tif"
    Image.fromarray(ramp, mode="I").save(path)
    grey = load_rgb(path)[..., 0].astype(int)
    assert grey[:, -1].min() >= 250 and 100 <= grey[:, 32].mean() <= 155


def test_a_png_over_the_decode_budget_is_refused_before_decoding(tmp_path):
    path = tmp_path / "bomb.png"
    Image.new("RGB", (400, 300), (120, 130, 140)).save(path)
    with pytest.raises(ImageLoadError) as err:
        load_rgb(path, decode_pixels=100_000)  # 120,000 pixels: over a budget of 100,000
    assert err.value.kind == "too_large" and "PNG" in str(err.value)


def test_a_jpeg_over_the_decode_budget_is_decoded_reduced(tmp_path):
    path = tmp_path / "huge.jpg"
    path.write_bytes(_jpeg(_smooth_photo(480, 640)))
    rgb = load_rgb(path, decode_pixels=100_000)  # 307,200 pixels: halved to 240x320
    assert rgb.shape == (240, 320, 3)


def test_the_viewer_shows_a_damaged_photo_within_the_decode_bound(tmp_path):
    """What a damaged JPEG still shows is decoded for the viewer under load_rgb's bound: a 108 MP
    one reduced by its DCT; a file whose header cannot be read not at all."""
    import cv2

    from app.core.imageio.decode import DECODE_PIXELS, load_what_decodes

    big = np.zeros((9000, 12000, 3), np.uint8)
    big[:, ::64] = 255
    data = bytearray(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    data[len(data) // 2: len(data) // 2 + 64] = b"\x00" * 64  # scrambled entropy data
    path = tmp_path / "damaged_108mp.jpg"
    path.write_bytes(bytes(data))
    shown = load_what_decodes(path)
    assert shown is not None and shown.shape[0] * shown.shape[1] <= DECODE_PIXELS
    assert shown.shape[:2] == (4500, 6000)
    (tmp_path / "not_a_photo.jpg").write_bytes(b"\x00" * 4096)
    assert load_what_decodes(tmp_path / "not_a_photo.jpg") is None  # no header to size it by
    assert load_what_decodes(tmp_path / "nothing.jpg") is None


@pytest.mark.parametrize("kind, payload", [(b"zTXt", b"Comment\0\0"), (b"iCCP", b"profile\0\0")])
def test_a_good_png_with_a_huge_text_or_profile_chunk_is_scored_not_called_corrupt(tmp_path, kind, payload):
    import zlib

    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, "PNG")
    png = buf.getvalue()
    body = payload + zlib.compress(b"\0" * (32 << 20))  # inflates to 32 MB
    chunk = struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    path = tmp_path / "with_chunk.png"
    path.write_bytes(png[:33] + chunk + png[33:])  # right after IHDR
    assert np.array_equal(load_rgb(path), pixels)


def test_a_photo_format_the_decoder_cannot_identify_is_named_for_what_it_is(tmp_path):
    """A 0 x 0 JPEG, a BMP of width 0 and a floating-point RGB TIFF are photos gone wrong, not
    'not an image': each says what it is and why it cannot be read."""
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "JPEG")
    jpeg = bytearray(buf.getvalue())
    sof = jpeg.find(b"\xff\xc0")
    jpeg[sof + 5:sof + 9] = b"\x00\x00\x00\x00"  # height and width 0
    (tmp_path / "zero.jpg").write_bytes(bytes(jpeg))
    buf = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(buf, "BMP")
    bmp = bytearray(buf.getvalue())
    bmp[18:22] = struct.pack("<i", 0)  # width 0
    (tmp_path / "width0.bmp").write_bytes(bytes(bmp))
    cases = {"zero.jpg": ("corrupt", "JPEG whose header is damaged"), "width0.bmp": ("corrupt", "BMP whose header")}
    try:
        import tifffile
    except ImportError:  # (a dev extra) the float TIFF case needs a writer Pillow does not have
        tifffile = None
    if tifffile is not None:
        tifffile.imwrite(tmp_path / "float.tif", np.random.default_rng(0).random((8, 8, 3)).astype(np.float32))
        cases["float.tif"] = ("unsupported", "8- or 16-bit TIFF")
    for name, (kind, text) in cases.items():
        with pytest.raises(ImageLoadError) as caught:
            load_rgb(tmp_path / name)
        assert caught.value.kind == kind and text in str(caught.value), name
