"""Labels read into memory to be painted (``app.io.editable``) from an uncompressed TIFF hold
the file in resident memory once: copying the whole memory map at once kept every page of
the file mapped beside the copy (a 1.5 GiB class map peaked at 3.8 GB)."""

from pathlib import Path

import numpy as np
import pytest

from unet_studio.app.io import editable, open_stack
from unet_studio.app.io.tiff_write import write_uint16_labels

MIB = 2**20


def _reset_peak_rss() -> int:
    """Reset this process's peak resident memory (VmHWM) to what it holds now, returned in
    bytes; skips the test where Linux does not offer it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pytest.skip("needs Linux's /proc/self/clear_refs to measure a peak")
    return _status_bytes("VmRSS")


def _status_bytes(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1]) * 1024
    pytest.skip(f"no {key} in /proc/self/status")


def test_a_mapped_labels_file_is_read_without_holding_it_twice(tmp_path, monkeypatch):
    labels = np.tile((np.arange(512) % 4).astype(np.uint16), (32, 512, 1))  # (16 MiB)
    path = write_uint16_labels(tmp_path / "classes.tif", labels, axes="ZYX", scale={},
                               units={}, compress=False, class_names=["a", "b", "c", "d"])
    monkeypatch.setattr(editable, "READ_SLAB_BYTES", MIB)  # (the 64 MiB slabs, scaled down)
    with open_stack(path) as stack:
        assert editable.is_read_only_map(stack.data)
        before = _reset_peak_rss()
        read = editable.editable_labels(stack.data, path)
        grown = _status_bytes("VmHWM") - before
    assert read.note is None and read.data.flags.writeable
    assert not isinstance(read.data, np.memmap) and np.array_equal(read.data, labels)
    # The copy (16 MiB) and a slab or two of mapped pages; twice the file before.
    assert grown < labels.nbytes + 6 * MIB, f"peak grew by {grown / MIB:.1f} MiB"
