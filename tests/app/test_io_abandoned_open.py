"""An output whose writer was killed between the two renames of a folder's replacement (the
old one aside under a hidden ``.old`` name, the new one not yet in) is found when opened:
put back by the same function as the next write's sweep, or named when it cannot be."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest

from unet_studio.app.cli import main
from unet_studio.app.errors import InputFileError
from unet_studio.app.io import atomic, open_stack
from unet_studio.app.io.write import write_atomically
from unet_studio.plugins.io import napari_get_reader

# Writes labels.zarr (all ones), then replaces it and is killed between the two renames.
_KILLED_BETWEEN_THE_RENAMES = """
import os, signal, sys
from pathlib import Path
import numpy as np
from unet_studio.app.io import atomic, write_stack

target = Path(sys.argv[1])
write_stack(target, np.ones((2, 8, 8), np.uint16), axes="ZYX", kind="labels")
real_replace = os.replace
def replace_then_die(source, destination):
    real_replace(source, destination)
    if Path(destination).name.endswith(".old"):
        os.kill(os.getpid(), signal.SIGKILL)
atomic.os.replace = replace_then_die
write_stack(target, np.full((2, 8, 8), 2, np.uint16), axes="ZYX", kind="labels")
"""


@pytest.fixture(scope="module")
def _killed_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("killed")
    killed = subprocess.run([sys.executable, "-c", _KILLED_BETWEEN_THE_RENAMES,
                             str(folder / "labels.zarr")])
    assert killed.returncode == -signal.SIGKILL
    return folder


@pytest.fixture
def killed_output(_killed_template, tmp_path):
    """labels.zarr missing, its previous content (ones) under a dead writer's ``.old`` name."""
    folder = shutil.copytree(_killed_template, tmp_path / "out")
    target = folder / "labels.zarr"
    assert not target.exists()
    assert [p.name.endswith(".old") for p in folder.iterdir()].count(True) == 1
    return target


def _olds(folder):
    return [p for p in folder.iterdir() if p.name.endswith(".old")]


def test_the_cli_opens_an_output_a_killed_writer_left_aside(killed_output, capsys):
    assert main(["info", str(killed_output)]) == 0
    assert "labels (written by unet-studio)" in capsys.readouterr().out
    assert _olds(killed_output.parent) == []
    with open_stack(killed_output) as stack:
        assert np.array_equal(np.asarray(stack.data[:]), np.ones(stack.shape, np.uint16))


def test_the_napari_reader_opens_an_output_a_killed_writer_left_aside(killed_output):
    reader = napari_get_reader(str(killed_output))
    [(data, meta, layer_type)] = reader(str(killed_output))
    assert layer_type == "labels"
    level = data[0] if isinstance(data, list) else data
    assert np.all(np.asarray(level[:]) == 1)
    assert _olds(killed_output.parent) == []


def _no_renames(monkeypatch):
    def refused(source, destination):
        raise OSError(errno.EACCES, "Permission denied", str(source))

    monkeypatch.setattr(atomic.os, "rename", refused)


def test_an_output_that_cannot_be_put_back_is_named_and_kept(killed_output, monkeypatch):
    """A folder that cannot be written: the "does not exist" says where the data are, and
    the next write's sweep does not remove the only copy of them."""
    _no_renames(monkeypatch)
    [old] = _olds(killed_output.parent)
    with pytest.raises(InputFileError, match=f"does not exist: .*{old.name}.*rename it to labels.zarr"):
        open_stack(killed_output)

    def failing(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with pytest.raises(OSError):
        write_atomically(killed_output, failing)
    assert _olds(killed_output.parent) == [old] and any(old.iterdir())
    assert not os.path.lexists(killed_output)


def test_a_predict_refused_before_writing_puts_back_its_output(killed_output, tmp_path, capsys):
    """A run refused at its input's validation (complex pixels) never writes, so never
    sweeps: the output it names is put back all the same (and then refused as existing)."""
    import tifffile

    complex_input = tmp_path / "complex.tif"
    tifffile.imwrite(complex_input, np.ones((8, 8), np.complex64))
    assert main(["predict", str(complex_input), "-o", str(killed_output)]) == 2
    assert "complex pixels" in capsys.readouterr().err
    assert _olds(killed_output.parent) == []
    with open_stack(killed_output) as stack:
        assert np.all(np.asarray(stack.data[:]) == 1)
