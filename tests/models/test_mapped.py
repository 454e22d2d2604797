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
