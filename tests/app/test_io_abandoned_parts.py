"""What a killed writer leaves beside an output (a hidden ``.part`` file) is swept by the
next write of that output, and only once its writer process is gone."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from unet_studio.app.io.write import write_atomically


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_the_next_write_sweeps_a_killed_writers_part_file_and_keeps_the_others(tmp_path):
    target = tmp_path / "labels.tif"
    abandoned = tmp_path / f".labels.tif.p{_dead_pid()}.0123abcdef.part"
    running = tmp_path / f".labels.tif.p{os.getpid()}.abcdef0123.part"  # (a write going on)
    older = tmp_path / ".labels.tif.89abcdef01.part"  # (an older version's: writer unknown)
    other_output = tmp_path / f".other.tif.p{_dead_pid()}.0123abcdef.part"
    for leftover in (abandoned, running, older, other_output):
        leftover.write_bytes(b"half-written" * 1000)

    write_atomically(target, lambda path: tifffile.imwrite(path, np.ones((4, 5), np.uint16)))

    assert np.array_equal(tifffile.imread(target), np.ones((4, 5), np.uint16))
    assert not abandoned.exists()
    assert running.exists() and older.exists() and other_output.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".part")) == sorted(
        p.name for p in (running, older, other_output))


_KILLED_WHILE_REPLACING = """
import os, signal, sys
from pathlib import Path
from unet_studio.app.io import atomic
from unet_studio.app.io.write import write_atomically

def folder_of(text):
    def write_into(path):
        path.mkdir()
        (path / "data").write_text(text)
    return write_into

target = Path(sys.argv[1])
write_atomically(target, folder_of("old"))
real_replace, real_remove = os.replace, atomic.remove_quietly
def die():
    os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[2] == "between the renames":
    atomic.os.replace = lambda a, b: (real_replace(a, b), Path(b).name.endswith(".old") and die())
else:  # after both renames, before the old output is removed
    atomic.remove_quietly = lambda path: die()
write_atomically(target, folder_of("new"))
"""


@pytest.mark.parametrize("moment, left", [("between the renames", "old"), ("before the removal", "new")])
def test_a_writer_killed_while_replacing_a_folder_leaves_no_output_missing(tmp_path, moment, left):
    """A Zarr output is replaced in two renames (the old one aside, the new one in): a kill
    between them left no output under its name and the user's previous one under a hidden
    name for good. The next write of that output puts it back (or, after the second
    rename, removes it), even when that write fails."""
    target = tmp_path / "labels.zarr"
    killed = subprocess.run([sys.executable, "-c", _KILLED_WHILE_REPLACING, str(target), moment])
    assert killed.returncode == -signal.SIGKILL
    assert [p.name.endswith(".old") for p in tmp_path.iterdir()].count(True) == 1
    assert target.exists() == (left == "new")

    def failing(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    with pytest.raises(OSError):
        write_atomically(target, failing)

    assert (target / "data").read_text() == left
    assert [p.name for p in tmp_path.iterdir()] == ["labels.zarr"]
