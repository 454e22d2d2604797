"""A Zarr output that fails on a full disk leaves nothing behind, even when Zarr's other
writes of the same call are still in flight: Zarr writes ``.zarray`` and ``.zattrs`` together
on its own event loop and raises the first error while the other goes on, which made the
removed temporary folder appear again (a hidden ``.X.zarr.p<pid>.<hex>.part``)."""

from __future__ import annotations

import errno
import gc
import threading
import time

import numpy as np
import pytest
import zarr.storage._local as zarr_local

from unet_studio.app.io.output import open_output
from unet_studio.app.io.write import write_stack

LATE_WRITE_SECONDS = 0.3


@pytest.fixture
def late_zattrs_after_a_full_disk(monkeypatch):
    """Level 0's ``.zarray`` fails with ENOSPC; the ``.zattrs`` written beside it lands
    LATE_WRITE_SECONDS later (a slow disk), as on a nearly full tmpfs. Returns an Event set
    once that late write is done."""
    real_put = zarr_local._put
    landed = threading.Event()

    def put(path, value, exclusive=False):
        if path.parent.name == "0" and path.name == ".zarray":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        if path.parent.name == "0" and path.name == ".zattrs":
            time.sleep(LATE_WRITE_SECONDS)
            try:
                return real_put(path, value, exclusive)
            finally:
                landed.set()
        return real_put(path, value, exclusive)

    monkeypatch.setattr(zarr_local, "_put", put)
    return landed


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


def test_a_streamed_zarr_failing_on_a_full_disk_leaves_no_part_folder(
        tmp_path, late_zattrs_after_a_full_disk, caplog):
    target = tmp_path / "f.zarr"
    with pytest.raises(OSError) as raised:
        with open_output(target, (32, 40), np.uint16, axes="YX") as out:
            out[:] = 1
    assert raised.value.errno == errno.ENOSPC
    late_zattrs_after_a_full_disk.wait(5)  # (it landed after the folder was removed)
    assert _leftovers(tmp_path) == []
    gc.collect()  # (an unretrieved error of a write in flight is logged when collected)
    assert not [r for r in caplog.records if r.name == "asyncio"]


def test_a_whole_zarr_failing_on_a_full_disk_leaves_no_part_folder(
        tmp_path, late_zattrs_after_a_full_disk):
    target = tmp_path / "g.zarr"
    with pytest.raises(OSError) as raised:
        write_stack(target, np.ones((32, 40), np.uint16), axes="YX")
    assert raised.value.errno == errno.ENOSPC
    late_zattrs_after_a_full_disk.wait(5)
    assert _leftovers(tmp_path) == []
