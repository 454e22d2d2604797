"""A stack that cannot be written (a read-only folder, a full disk) fails with a WriteError
naming the file the user chose: "cannot write labels.tif in /data: Read-only file system".
It named the hidden ``.labels.tif.p123.0a1b2c3d4e.part`` it was written through, which the
user never chose nor sees (napari's Save Selected Layers showed that message as it is)."""

from __future__ import annotations

import builtins
import errno
import os
import re
from pathlib import Path

import numpy as np
import pytest

from unet_studio.app.atomic import WriteError
from unet_studio.app.io import write_stack
from unet_studio.app.io.output import open_output


@pytest.fixture
def read_only(tmp_path, monkeypatch) -> Path:
    """A folder in which nothing can be created, as on a read-only mount: opening a file
    for writing or making a folder in it fails with EROFS naming that file (as root, chmod
    would not stop the writes)."""
    folder = tmp_path / "out"
    folder.mkdir()
    real_open, real_mkdir, real_os_open = builtins.open, os.mkdir, os.open

    def inside(path) -> bool:
        return isinstance(path, (str, os.PathLike)) and folder in Path(path).parents

    def refuse(path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    def opening(file, mode="r", *args, **kwargs):
        if inside(file) and any(c in mode for c in "wax+"):
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def making(path, *args, **kwargs):
        if inside(path):
            refuse(path)
        return real_mkdir(path, *args, **kwargs)

    def os_opening(path, flags, *args, **kwargs):
        if inside(path) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            refuse(path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", opening)
    monkeypatch.setattr(os, "mkdir", making)
    monkeypatch.setattr(os, "open", os_opening)
    return folder


def _labels() -> np.ndarray:
    labels = np.zeros((4, 16, 16), np.uint16)
    labels[1:3, 2:6, 2:6] = 3
    return labels


@pytest.mark.parametrize("name", ["labels.tif", "labels.ome.tif", "labels.zarr"])
def test_write_stack_names_the_output_not_its_temporary(read_only, name):
    target = read_only / name
    with pytest.raises(WriteError) as raised:
        write_stack(target, _labels(), axes="ZYX")
    assert str(raised.value) == f"cannot write {name} in {read_only}: Read-only file system"
    assert raised.value.errno == errno.EROFS and raised.value.filename == str(target)
    assert list(read_only.iterdir()) == []


@pytest.mark.parametrize("name", ["probabilities.tif", "probabilities.zarr"])
def test_a_streamed_output_names_the_output_not_its_temporary(read_only, name):
    target = read_only / name
    with pytest.raises(WriteError) as raised, open_output(target, (4, 16, 16), np.float32,
                                                          axes="ZYX") as out:
        out[:] = 0.5
    assert str(raised.value) == f"cannot write {name} in {read_only}: Read-only file system"
    assert list(read_only.iterdir()) == []
    # An error of the caller's own while it fills the output (an input read) stays its own.
    failure = OSError(errno.EIO, "Input/output error", str(read_only.parent / "input.tif"))
    with pytest.raises(OSError) as raised, open_output(read_only.parent / name, (4, 16, 16),
                                                       np.float32, axes="ZYX"):
        raise failure
    assert raised.value is failure and not (read_only.parent / name).exists()


def test_the_napari_writer_says_which_file_could_not_be_saved(read_only):
    from unet_studio.plugins.io import write_labels

    with pytest.raises(WriteError, match="^" + re.escape(f"cannot write mine.tif in {read_only}: Read-only")):
        write_labels(str(read_only / "mine.tif"), _labels(), {"metadata": {"axes": "ZYX"}})



@pytest.mark.parametrize("name", ["é labels.tif", "empty.zarr", "empty.ome.tif"])
def test_an_empty_stack_is_refused_by_name_and_nothing_is_left(tmp_path, name):
    """A stack with an axis of length 0 is not written (a TIFF no reader takes; a Zarr
    writer divided by zero): a ValueError naming the file, and no file or part left."""
    with pytest.raises(ValueError, match=re.escape(f"{name}: nothing to write, the stack is empty")):
        write_stack(tmp_path / name, np.zeros((0, 16), np.int32), axes="YX", kind="labels")
    assert os.listdir(tmp_path) == []
