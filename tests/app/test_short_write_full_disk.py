"""A write cut short on a full disk: numpy's ``tofile`` (tifffile's uncompressed TIFFs)
raises "262144 requested and 1920 written", an OSError without errno. It is told as the
full disk it is, naming the output, in one line, and nothing half-written is kept. The
error is the real one: numpy writing into /dev/full, the device that is always full."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import tifffile

from unet_studio.app.atomic import WriteError, naming_output, with_filename
from unet_studio.app.cli import main
from unet_studio.app.io.write import write_stack

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/full"),
                                reason="needs /dev/full (Linux)")


def short_write() -> OSError:
    """The error numpy raises when the disk fills up under ``tofile`` (more bytes than the
    C library buffers: those would fail at the close instead)."""
    with open("/dev/full", "wb") as full:
        try:
            np.ones(262144, np.uint8).tofile(full)
        except OSError as error:
            return error
    raise AssertionError("/dev/full took the data")


def test_a_short_write_is_a_full_disk_naming_the_output(tmp_path):
    error = short_write()
    assert error.errno is None and str(error) == "262144 requested and 0 written"
    named = naming_output(error, tmp_path / "out.tif")
    assert isinstance(named, WriteError) and named.errno == errno.ENOSPC
    assert str(named) == f"cannot write out.tif in {tmp_path}: No space left on device"
    assert with_filename(error, tmp_path / "h.jsonl").errno == errno.ENOSPC


def test_export_ctc_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, capsys,
                                                                  monkeypatch):
    source = tmp_path / "labels.tif"
    labels = np.zeros((3, 20, 30), np.uint16)
    labels[:, 2:10, 2:12] = 4
    tifffile.imwrite(source, labels, imagej=True, metadata={"axes": "TYX"})
    real_imwrite, written = tifffile.imwrite, []

    def imwrite_filling_the_disk(path, data, **kwargs):  # (the disk fills at the 2nd mask)
        if written:
            with open(path, "wb") as half:
                half.write(b"II*\0")
            raise short_write()
        written.append(path)
        return real_imwrite(path, data, **kwargs)

    monkeypatch.setattr(tifffile, "imwrite", imwrite_filling_the_disk)
    out = tmp_path / "01_RES"
    assert main(["export-ctc", str(source), "-o", str(out)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"unet-studio: error: cannot write 01_RES in {tmp_path}: No space left on device; "
        "nothing was kept of the unfinished output: free some space, or choose another "
        "output"]
    assert [p.name for p in tmp_path.iterdir()] == ["labels.tif"]


def test_an_uncompressed_tiff_on_a_full_disk_is_a_write_error(tmp_path, monkeypatch):
    from unet_studio.app.io import output

    monkeypatch.setattr(output, "COMPRESS_BELOW", 1000)  # (as a TIFF over 1 GiB is written)

    def write_array_filling_the_disk(handle, data, *args, **kwargs):
        raise short_write()

    monkeypatch.setattr(tifffile.FileHandle, "write_array", write_array_filling_the_disk)
    with pytest.raises(WriteError) as raised:
        write_stack(tmp_path / "big.tif", np.ones((4, 64, 64), np.uint16), axes="ZYX")
    assert raised.value.errno == errno.ENOSPC
    assert str(raised.value) == f"cannot write big.tif in {tmp_path}: No space left on device"
    assert list(tmp_path.iterdir()) == []
