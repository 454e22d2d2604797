"""Percentile normalisation: one exact range per image (per channel), streamed block by block;
NaN/inf pixels, floats beyond float32 and flat images handled as a microscopist expects."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models import percentiles, radix_select
from unet_studio.models.normalize import intensity_range, normalize_intensity, percentile_range

Q = [0.0, 1.0, 37.3, 50.0, 99.8, 100.0]


def test_percentiles_of_a_small_image_are_exact():
    image = np.arange(1000, dtype=np.uint16).reshape(10, 100)
    lo, hi = percentile_range(image, 1.0, 99.0)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(image, [1.0, 99.0])))


def sparse_nuclei_on_a_grid(shape=(24, 512, 512)) -> np.ndarray:
    """Dim noisy background with bright nuclei (0.8 % of the voxels) whose voxels all lie on
    odd coordinates: a stack above 4 M voxels that an every-other-pixel sample never sees."""
    rng = np.random.default_rng(0)
    stack = rng.normal(100, 10, shape).clip(0).astype(np.uint16)
    z, y, x = np.ogrid[1:shape[0]:2, 1:shape[1]:2, 1:shape[2]:2]
    bright = ((y // 2) % 8 < 2) & ((x // 2) % 8 < 2) & (z >= 0)  # 1 in 16 odd voxels
    odd = stack[1::2, 1::2, 1::2]
    odd[bright] = rng.normal(3000, 300, int(bright.sum())).astype(np.uint16)
    return stack


def test_sparse_bright_nuclei_that_fool_a_stride_give_the_exact_percentiles():
    stack = sparse_nuclei_on_a_grid()
    assert stack.size > 1 << 22  # (the old code sampled every other voxel on each axis)
    lo, hi = percentile_range(stack, 1.0, 99.8)
    assert (float(lo), float(hi)) == tuple(np.percentile(stack, [1.0, 99.8]))
    assert hi > 2000  # the nuclei's intensities, not the background's


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", "uint32", "int32",
                                   "int64", "uint64", "float16", "float32", "float64"])
def test_every_pixel_type_gives_numpys_percentiles_bit_for_bit_across_blocks(dtype):
    rng = np.random.default_rng(1)
    if np.dtype(dtype).kind == "f":
        image = (rng.standard_normal((7, 50, 61)) * 1000).astype(dtype)
    else:
        info = np.iinfo(dtype)
        image = rng.integers(info.min, info.max, (7, 50, 61), dtype=dtype, endpoint=True)
    census = percentiles.exact_percentiles(image, Q, block_pixels=1000)  # 22 blocks
    np.testing.assert_array_equal(census.percentiles[0], np.percentile(image.astype(np.float64), Q))
    assert census.minimum[0] == image.min() and census.maximum[0] == image.max()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_wide_pixels_narrowed_over_several_passes_stay_exact(dtype, monkeypatch):
    """A bucket too big to gather is counted by its next 16 bits (the path a 1 GiB float
    stack takes): forced here with a tiny gathering limit on values crowded in a narrow
    range, so that many share the top 16 bits of their key."""
    monkeypatch.setattr(radix_select, "COLLECT_LIMIT", 10)
    rng = np.random.default_rng(2)
    image = (rng.random((20, 100, 100)) * 3 + 1000).astype(dtype) if dtype != "int64" else \
        rng.integers(-2**62, 2**62, (20, 100, 100))
    census = percentiles.exact_percentiles(image, Q, block_pixels=5000)
    np.testing.assert_array_equal(census.percentiles[0], np.percentile(image.astype(np.float64), Q))


def test_a_tiled_memmapped_stack_is_exact_and_leaves_few_pages_resident(tmp_path):
    """128 MiB on disk, a tile repeated 4 x 4 (the grid a stride aliases with): the streamed
    pass hands the memory map's pages back as it goes."""
    tile = np.random.default_rng(3).gamma(2.0, 300.0, (256, 128, 128)).astype(np.uint16)
    written = np.lib.format.open_memmap(tmp_path / "s.npy", mode="w+", dtype=np.uint16,
                                        shape=(256, 512, 512))
    written[:] = np.tile(tile, (1, 4, 4))
    written.flush()
    del written
    stack = np.load(tmp_path / "s.npy", mmap_mode="r")
    before = _resident_file_bytes()
    lo, hi = percentile_range(stack, 1.0, 99.8)
    growth = _resident_file_bytes() - before
    assert (float(lo), float(hi)) == tuple(np.percentile(tile, [1.0, 99.8]))
    assert growth < 80 * 2**20  # (about one release interval, 64 MiB, of the 128 MiB)


def _resident_file_bytes() -> int:
    from pathlib import Path

    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs Linux /proc")
    for line in status.read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no RssFile in /proc/self/status")


def test_one_range_per_channel():
    image = np.stack([np.linspace(0, 10, 500), np.linspace(100, 300, 500)]).astype(np.float32)
    lo, hi = percentile_range(image, 0.0, 100.0, channel_axis=0)
    assert lo.tolist() == pytest.approx([0, 100]) and hi.tolist() == pytest.approx([10, 300])
    normalised = normalize_intensity(image, lo, hi, channel_axis=0)
    assert normalised.min() == pytest.approx(0) and normalised.max() == pytest.approx(1)


def test_channels_in_the_middle_and_split_across_blocks_get_their_own_exact_ranges():
    rng = np.random.default_rng(4)
    image = rng.integers(0, 4000, (6, 3, 40, 50), dtype=np.uint16)  # (Z, C, Y, X)
    image[:, 1] += 20000
    census = percentiles.exact_percentiles(image, [1.0, 99.8], channel_axis=1, block_pixels=700)
    for channel in range(3):
        np.testing.assert_array_equal(census.percentiles[channel],
                                      np.percentile(image[:, channel], [1.0, 99.8]))


def test_nan_and_inf_pixels_are_left_out_and_become_background_or_bright():
    rng = np.random.default_rng(5)
    image = rng.normal(500, 50, (64, 64)).astype(np.float32)
    image[:8, :8] = np.nan  # e.g. the 0/0 of a ratio image
    image[20, 20], image[30, 30] = np.inf, -np.inf
    finite = image[np.isfinite(image)]
    found = intensity_range(image, 1.0, 99.8)
    assert (float(found.low), float(found.high)) == pytest.approx(
        tuple(np.percentile(finite.astype(np.float64), [1.0, 99.8])), rel=1e-12)
    assert found.nonfinite == 66 and found.flat == ()
    normalised = normalize_intensity(image, found.low, found.high)
    assert np.isfinite(normalised).all()
    assert (normalised[:8, :8] == 0).all() and normalised[30, 30] == 0 and normalised[20, 20] == 1
    clean = np.isfinite(image)
    np.testing.assert_allclose(normalised[clean], (image[clean] - found.low) / (found.high - found.low),
                               rtol=1e-5)


def test_an_image_with_no_finite_pixel_is_refused_naming_the_channel():
    with pytest.raises(ValueError, match="no finite pixel value"):
        intensity_range(np.full((8, 8), np.nan, np.float32))
    image = np.ones((2, 8, 8), np.float32)
    image[1] = np.inf
    with pytest.raises(ValueError, match="in channel 1"):
        intensity_range(image, channel_axis=0)


def test_floats_beyond_float32_normalise_as_the_same_image_scaled_down():
    image = np.random.default_rng(6).gamma(2.0, 300.0, (64, 64))
    huge = image * 1e300  # float64, far beyond float32's 3.4e38
    lo, hi = percentile_range(huge)
    assert np.isfinite([lo, hi]).all()
    np.testing.assert_allclose(normalize_intensity(huge, lo, hi),
                               normalize_intensity(image, *percentile_range(image)), rtol=1e-6)


def test_flat_image_maps_to_zero_without_dividing_by_zero():
    image = np.full((8, 8), 7, np.uint8)
    found = intensity_range(image)
    assert found.flat == (0,) and found.low == found.high == 7
    assert np.array_equal(normalize_intensity(image, found.low, found.high), np.zeros((8, 8), np.float32))


def test_coinciding_percentiles_of_sparse_nuclei_use_the_full_range():
    """0.1 % bright pixels on a background of exactly zero: both percentiles are 0, and the
    nuclei are not left at their raw grey values; the full range maps them to 1."""
    image = np.zeros((100, 100), np.uint16)
    image[50, 40:50] = 3000
    found = intensity_range(image, 1.0, 99.8)
    assert (found.low, found.high, found.widened, found.flat) == (0, 3000, (0,), ())
    assert normalize_intensity(image, found.low, found.high).max() == 1


def test_bad_percentiles_are_refused():
    with pytest.raises(ValueError, match="lower < upper"):
        percentile_range(np.zeros(4), 50, 10)


class CountedReads:
    """An array-like stack (``shape``, ``dtype``, slicing) that counts the blocks read from it."""

    def __init__(self, data: np.ndarray):
        self.data, self.shape, self.dtype, self.reads = data, data.shape, data.dtype, 0

    def __getitem__(self, index):
        self.reads += 1
        return self.data[index]


@pytest.mark.parametrize(("dtype", "passes"), [("uint16", 1), ("float32", 2)])
def test_the_pass_reports_every_block_and_gives_the_same_range(dtype, passes):
    from unet_studio.models.normalize import iter_intensity_range

    image = (np.random.default_rng(4).gamma(2.0, 300.0, (6, 40, 50))).astype(dtype)
    stack = CountedReads(image)
    steps = []
    run = iter_intensity_range(stack, 1.0, 99.8, block_pixels=500)  # 24 blocks a pass
    while True:
        try:
            steps.append(next(run))
        except StopIteration as stop:
            found = stop.value
            break
    assert len(steps) == stack.reads == 24 * passes  # a step after every block read
    assert [s.done for s in steps] == [500 * (i + 1) for i in range(24 * passes)]
    assert {s.total for s in steps} == {image.size * passes}
    expected = intensity_range(image, 1.0, 99.8)
    assert (found.low, found.high) == (expected.low, expected.high)


def test_closing_the_pass_between_blocks_stops_reading():
    """What a GUI's Cancel does: the generator closed after 3 blocks reads no more."""
    from unet_studio.models.normalize import iter_intensity_range

    stack = CountedReads(np.arange(6 * 40 * 50, dtype=np.uint16).reshape(6, 40, 50))
    run = iter_intensity_range(stack, block_pixels=500)
    for _ in range(3):
        next(run)
    run.close()
    assert stack.reads == 3
