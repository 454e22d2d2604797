"""Percentile normalisation: one range per image (per channel), from a subsample when large."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models.normalize import normalize_intensity, percentile_range


def test_percentiles_of_a_small_image_are_exact():
    image = np.arange(1000, dtype=np.uint16).reshape(10, 100)
    lo, hi = percentile_range(image, 1.0, 99.0)
    assert (lo, hi) == pytest.approx(tuple(np.percentile(image, [1.0, 99.0])))


def test_strided_subsample_of_a_large_memmap_is_close_and_reads_few_planes(tmp_path):
    rng = np.random.default_rng(0)
    stack = np.lib.format.open_memmap(tmp_path / "s.npy", mode="w+", dtype=np.uint16,
                                      shape=(64, 256, 256))
    stack[:] = rng.gamma(2.0, 300.0, size=stack.shape).astype(np.uint16)
    lo, hi = percentile_range(stack, 1.0, 99.8, max_samples=1 << 16)
    exact = np.percentile(stack, [1.0, 99.8])
    assert lo == pytest.approx(exact[0], rel=0.1, abs=5)
    assert hi == pytest.approx(exact[1], rel=0.05)


def test_one_range_per_channel():
    image = np.stack([np.linspace(0, 10, 500), np.linspace(100, 300, 500)]).astype(np.float32)
    lo, hi = percentile_range(image, 0.0, 100.0, channel_axis=0)
    assert lo.tolist() == pytest.approx([0, 100]) and hi.tolist() == pytest.approx([10, 300])
    normalised = normalize_intensity(image, lo, hi, channel_axis=0)
    assert normalised.min() == pytest.approx(0) and normalised.max() == pytest.approx(1)


def test_flat_image_maps_to_zero_without_dividing_by_zero():
    image = np.full((8, 8), 7, np.uint8)
    lo, hi = percentile_range(image)
    assert np.array_equal(normalize_intensity(image, lo, hi), np.zeros((8, 8), np.float32))


def test_bad_percentiles_are_refused():
    with pytest.raises(ValueError, match="lower < upper"):
        percentile_range(np.zeros(4), 50, 10)


def _resident_file_bytes() -> int:
    from pathlib import Path

    status = Path("/proc/self/status")
    if not status.exists():
        pytest.skip("needs Linux /proc")
    for line in status.read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no RssFile in /proc/self/status")


def test_sampling_a_memmapped_stack_leaves_no_pages_resident(tmp_path):
    """The strided sample of a 128 MiB memory-mapped stack, read in groups of planes with
    the pages released after each, equals the one-read sample; the plain strided read
    leaves many MiB of the file resident (fault-around), the grouped one next to none."""
    from unet_studio.models.normalize import _subsample_steps, strided_sample

    shape = (256, 512, 512)
    written = np.lib.format.open_memmap(tmp_path / "s.npy", mode="w+", dtype=np.uint16,
                                        shape=shape)
    written[:] = np.arange(512, dtype=np.uint16)[None, None, :]
    written.flush()
    del written
    steps = _subsample_steps(shape, set(), 1 << 16)
    index = tuple(slice(None, None, s) for s in steps)

    stack = np.load(tmp_path / "s.npy", mmap_mode="r")
    before = _resident_file_bytes()
    sample = strided_sample(stack, steps, release_bytes=8 * 2**20)
    grouped_growth = _resident_file_bytes() - before
    del stack

    stack = np.load(tmp_path / "s.npy", mmap_mode="r")
    before = _resident_file_bytes()
    reference = np.asarray(stack[index], dtype=np.float32)
    plain_growth = _resident_file_bytes() - before

    np.testing.assert_array_equal(sample, reference)
    assert plain_growth > 8 * 2**20, "the plain read kept few pages: nothing to compare"
    assert grouped_growth < 2 * 2**20
