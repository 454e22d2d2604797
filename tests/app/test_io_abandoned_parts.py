"""What a killed writer leaves beside an output (a hidden ``.part`` file) is swept by the
next write of that output, and only once its writer process is gone."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
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
