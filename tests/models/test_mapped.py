"""Memory-mapped inputs and outputs do not pile up resident pages during a long run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from unet_studio.models.mapped import PageReleaser, release_pages


def resident_file_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    pytest.skip("no RssFile in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_released_pages_leave_rss_and_keep_their_data(tmp_path):
    array = np.lib.format.open_memmap(tmp_path / "a.npy", mode="w+", dtype=np.uint8,
                                      shape=(64, 1024, 1024))
    array[:] = 7  # 64 MiB of dirty pages
    before = resident_file_bytes()
    assert release_pages(array)
    assert before - resident_file_bytes() > 48 * 2**20
    assert int(array[63, 1023, 1023]) == 7 and int(array[:, ::512, ::512].sum()) == 7 * 64 * 4
    del array
    assert np.load(tmp_path / "a.npy", mmap_mode="r")[5, 5, 5] == 7


def test_only_shared_memmaps_are_touched(tmp_path):
    np.save(tmp_path / "b.npy", np.ones((4, 4), np.uint8))
    private = np.load(tmp_path / "b.npy", mmap_mode="c")
    private[0, 0] = 9
    assert not release_pages(private) and private[0, 0] == 9
    assert not release_pages(np.ones(3))
    releaser = PageReleaser(np.ones(3), private, every_bytes=1)
    assert releaser.arrays == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_stack_copied_into_a_mapped_output_keeps_few_pages_resident(tmp_path):
    """Labels of a stack copied into a memory-mapped output (at a time point): the same
    values, while at most a few slabs of either file are resident at any time (one
    assignment makes all 2 x 64 MiB resident)."""
    from unet_studio.models.mapped import copy_in_slabs

    source = np.lib.format.open_memmap(tmp_path / "labels.npy", mode="w+", dtype=np.int32,
                                       shape=(64, 512, 512))
    for plane in range(64):
        source[plane] = plane * 1000 + np.arange(512 * 512, dtype=np.int32).reshape(512, 512)
    release_pages(source)
    target = np.lib.format.open_memmap(tmp_path / "out.npy", mode="w+", dtype=np.int32,
                                       shape=(3, 64, 512, 512))
    seen = []

    class Watched(np.memmap):  # the output, noting the resident file pages at each write
        def __setitem__(self, key, value):
            super().__setitem__(key, value)
            seen.append(resident_file_bytes())

    before = resident_file_bytes()
    copy_in_slabs(target.view(Watched), source, (1,), slab_bytes=4 << 20)
    assert len(seen) == 16 and max(seen) - before < 24 << 20
    np.testing.assert_array_equal(target[1], source)
    assert not target[0].any() and not target[2].any()
    seen.clear()
    target.view(Watched)[1] = source  # (one assignment, for comparison)
    assert seen[0] - before > 96 << 20
