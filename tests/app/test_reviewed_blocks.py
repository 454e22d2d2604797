"""Reviewed marks saved and read back by their marked blocks: a mostly empty mask of a big
stack costs what is marked, not the stack (a 1.5 Gpx stack's reopening spent ~9 s and 3 GB
per mask unpacking whole masks on the GUI thread), and files of earlier versions, which
keep whole masks, read the same."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.app.share_text import percent_text


def _marked(shape) -> ReviewedRegions:
    """Regions of ``shape`` with a box reviewed, an edit and the very last pixel marked."""
    regions = ReviewedRegions(shape)
    regions.mark_region((slice(1, 2), slice(3, 9), slice(2, 30)))
    last = tuple(np.array([n - 1]) for n in shape)
    regions.record_edit(LabelEdit(last, np.zeros(1, np.int32), np.ones(1, np.int32)))
    return regions


def _write_old_format(path: Path, regions: ReviewedRegions) -> None:
    """The file an earlier version wrote: each whole mask bit-packed under its name."""
    arrays = regions.to_arrays()
    packed = {k: np.packbits(v, axis=None) if v.dtype == bool else v for k, v in arrays.items()}
    np.savez_compressed(path, **packed)


def _anon_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon"):
            return int(line.split()[1]) * 1024
    pytest.skip("no RssAnon in /proc/self/status")


@pytest.mark.parametrize("shape", [(3, 37, 41), (2, 256, 256)])  # (a partial last block; none)
def test_saved_by_blocks_and_read_back_the_same(tmp_path, shape):
    regions = _marked(shape)
    path = regions.save(tmp_path / "reviewed.npz")
    members = set(zipfile.ZipFile(path).namelist())
    assert {"reviewed_blocks.npy", "changed_blocks.npy"} <= members
    assert "reviewed.npy" not in members  # (no whole mask)
    loaded = ReviewedRegions.load(path)
    np.testing.assert_array_equal(loaded.mask, regions.mask)
    np.testing.assert_array_equal(loaded.changed, regions.changed)
    assert loaded.mask[tuple(n - 1 for n in shape)] and not loaded.old_format


def test_a_file_of_an_earlier_version_reads_the_same(tmp_path):
    regions = _marked((3, 37, 41))
    _write_old_format(tmp_path / "old.npz", regions)
    loaded = ReviewedRegions.load(tmp_path / "old.npz")
    assert loaded.old_format
    np.testing.assert_array_equal(loaded.mask, regions.mask)
    np.testing.assert_array_equal(loaded.changed, regions.changed)


def test_reading_a_mostly_empty_stack_mask_takes_memory_for_its_marks_only(tmp_path):
    shape = (64, 1024, 1024)  # (64 Mpx: two whole bool masks are 128 MB)
    regions = _marked(shape)
    new = regions.save(tmp_path / "new.npz")
    _write_old_format(tmp_path / "old.npz", regions)
    marked = np.count_nonzero(regions.mask)
    del regions
    for path in (new, tmp_path / "old.npz"):
        before = _anon_bytes()
        loaded = ReviewedRegions.load(path)
        grown = _anon_bytes() - before
        assert grown < 24 * 2**20, f"{path.name}: {grown / 2**20:.0f} MB for a few marks"
        assert np.count_nonzero(loaded.mask) == marked
        del loaded


def test_a_few_marks_of_a_stack_read_as_some_not_zero():
    assert percent_text(61_234, 1_572_864_000) == "0.0039%"  # (one decimal said "0.0%")
    assert percent_text(1, 1_572_864_000) == "< 0.001%"
    assert percent_text(0, 100) == "0%" and percent_text(100, 100) == "100%"
    assert percent_text(9_999, 10_000) == "> 99.9%" and percent_text(1_234, 10_000) == "12.3%"
