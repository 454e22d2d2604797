"""Bad input gives InputFileError naming the file and the problem; odd-but-valid input is handled."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unet_studio.app.errors import InputFileError
from unet_studio.app.io import open_stack
from unet_studio.app.io.select import read_input, select


def _expect_error(path, *fragments, named=None) -> InputFileError:
    """Open ``path`` (and read it if opening works); the InputFileError names ``named``."""
    with pytest.raises(InputFileError) as caught:
        with open_stack(path) as stack:
            stack.to_numpy()
    message = str(caught.value)
    assert message.startswith(f"{Path(named or path)}: ")
    assert any(f in message for f in fragments), message
    return caught.value


def test_truncated_tiffs(tmp_path, test_data_dir):
    compressed = (test_data_dir / "io_hela_tyx.tif").read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(compressed[: len(compressed) // 2])
    _expect_error(cut, "truncated", "corrupt", "damaged", "cannot read")
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, np.ones((4, 64, 64), np.uint16), imagej=True)
    raw.write_bytes(raw.read_bytes()[:-1000])
    _expect_error(raw, "is corrupt or truncated (ImageJ series metadata invalid")
    raw.write_bytes(raw.read_bytes()[:20000])
    _expect_error(raw, "is truncated", "is corrupt or truncated")


def test_not_a_tiff(tmp_path):
    png = tmp_path / "photo.tif"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))  # (read as the PNG it says it is)
    _expect_error(png, "is not a readable PNG image")
    text = tmp_path / "notes.tiff"
    text.write_text("hello, this is not an image at all")
    _expect_error(text, "is not a TIFF file")
    tiny = tmp_path / "tiny.tif"
    tiny.write_bytes(b"II")
    _expect_error(tiny, "too short")


def test_empty_missing_and_unknown(tmp_path):
    empty = tmp_path / "empty.tif"
    empty.touch()
    _expect_error(empty, "is empty (0 bytes)")
    _expect_error(tmp_path / "missing.tif", "does not exist")
    folder = tmp_path / "nothing"
    folder.mkdir()
    _expect_error(folder, "contains no .tif or .tiff files")
    _expect_error(str(folder / "*.tif"), "matches no files")


def test_zero_sized_axes(tmp_path):
    path = tmp_path / "empty.zarr"
    zarr.create_array(str(path), shape=(0, 8, 8), dtype="uint8", zarr_format=2)
    _expect_error(path, "zero-sized axis")


def test_complex_dtype_is_refused(tmp_path):
    path = tmp_path / "fft.tif"
    tifffile.imwrite(path, np.ones((8, 8), np.complex64))
    _expect_error(path, "complex pixels (complex64)")


def test_bool_opens_as_uint8_mask(tmp_path):
    mask = np.zeros((9, 11), bool)
    mask[2:5, 3:7] = True
    path = tmp_path / "mask.tif"
    tifffile.imwrite(path, mask)
    stack = open_stack(path)
    assert stack.dtype == np.uint8 and stack.metadata["file_dtype"] == "bool"
    np.testing.assert_array_equal(stack.to_numpy(), mask.astype(np.uint8))


@pytest.mark.parametrize("samples", [3, 4])
def test_rgb_and_rgba_open_as_channels_with_luminance(tmp_path, samples):
    rng = np.random.default_rng(samples)
    rgb = rng.integers(0, 255, (12, 10, samples), dtype=np.uint8)
    path = tmp_path / "colour.tif"
    tifffile.imwrite(path, rgb, photometric="rgb", extrasamples=[2] if samples == 4 else None)
    stack = open_stack(path)
    assert stack.axes == "YXC" and stack.shape == (12, 10, samples) and stack.metadata["rgb"]
    grey = select(stack, channel="luminance")
    assert grey.axes == "YX" and grey.shape == (12, 10)
    expected = rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    np.testing.assert_allclose(read_input(grey), expected, rtol=1e-5)
    np.testing.assert_allclose(grey.data[3:6, 2], expected[3:6, 2], rtol=1e-5)


def test_nan_and_inf_are_replaced_when_read(tmp_path, caplog):
    image = np.arange(20, dtype=np.float32).reshape(4, 5)
    image[0, 0], image[1, 1], image[2, 2] = np.nan, np.inf, -np.inf
    path = tmp_path / "float.tif"
    tifffile.imwrite(path, image)
    stack = open_stack(path)  # opening cannot see NaN: it reads no pixels
    with caplog.at_level(logging.WARNING):
        pixels = read_input(stack)
    assert "replaced 3 NaN/Inf" in caplog.text and str(path) in caplog.text
    assert np.isfinite(pixels).all()
    assert pixels[0, 0] == 1 and pixels[2, 2] == 1 and pixels[1, 1] == 19
    tifffile.imwrite(path, np.full((3, 3), np.nan, np.float32))
    with pytest.raises(InputFileError, match="no finite pixel"):
        read_input(open_stack(path))


def test_inconsistent_series_names_the_odd_file(tmp_path):
    for name, shape, dtype in (("a1.tif", (8, 8), np.uint8), ("a2.tif", (8, 8), np.uint8),
                               ("a3.tif", (8, 9), np.uint8), ("b1.tif", (8, 8), np.uint16)):
        tifffile.imwrite(tmp_path / name, np.zeros(shape, dtype))
    error = _expect_error(str(tmp_path / "a*.tif"), "does not match the series", named=tmp_path / "a3.tif")
    assert "a1.tif" in error.problem and "(8, 9)" in error.problem
    error = _expect_error(str(tmp_path / "?1.tif"), "does not match the series", named=tmp_path / "b1.tif")
    assert "uint16" in error.problem


def test_damaged_file_inside_a_series_is_named(tmp_path):
    for index in range(3):
        tifffile.imwrite(tmp_path / f"f{index}.tif", np.zeros((8, 8), np.uint8))
    (tmp_path / "f1.tif").write_bytes(b"garbage!" * 4)
    _expect_error(tmp_path, "is not a TIFF file", named=tmp_path / "f1.tif")


# -- fuzzing: mangled TIFF bytes give InputFileError and nothing else --------------------------
def _valid_tiffs() -> list[bytes]:
    rng = np.random.default_rng(0)
    images = []
    for options in ({"imagej": True, "compression": "zlib", "metadata": {"axes": "ZYX"}},
                    {"compression": None, "metadata": None},
                    {"ome": True, "tile": (16, 16), "compression": "zlib"}):
        data = rng.integers(0, 60000, (3, 16, 32) if options.get("metadata") is not None or
                            options.get("ome") else (16, 32), dtype=np.uint16)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "valid.tif"
            tifffile.imwrite(path, data, **options)
            images.append(path.read_bytes())
    return images


VALID_TIFFS = _valid_tiffs()


@st.composite
def mangled_tiffs(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(VALID_TIFFS)))
    for _ in range(draw(st.integers(0, 6))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] ^= draw(st.integers(1, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=150, deadline=10_000, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(content=mangled_tiffs(), through_zarr=st.booleans())
def test_mangled_tiff_bytes_raise_only_input_file_error(content, through_zarr):
    from unet_studio.app.io import tiff

    default = tiff._DECODE_WHOLE_BELOW
    tiff._DECODE_WHOLE_BELOW = 0 if through_zarr else default  # both read paths get fuzzed
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "mangled.tif"
            path.write_bytes(content)
            try:
                with open_stack(path) as stack:
                    pixels = stack.to_numpy()
                    assert pixels.shape == stack.shape
            except InputFileError as error:
                assert str(path) in str(error)
    finally:
        tiff._DECODE_WHOLE_BELOW = default
