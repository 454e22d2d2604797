"""Temporary names stay within the file system's 255 bytes whatever the output's name, and a
failed write names the output, not its temporary file: told once by a project, logged once
by the autosave thread."""

from __future__ import annotations

import errno
import logging
import os
import re
import subprocess
import sys
import tempfile
import uuid

import numpy as np
import pytest
import tifffile

from unet_studio.app.atomic import atomic_write_bytes, atomic_writing
from unet_studio.app.autosave import AutosaveWriter
from unet_studio.app.cli import main
from unet_studio.app.ctc_export import iter_export_ctc
from unet_studio.app.io.atomic import temporary_sibling
from unet_studio.app.io.write import write_atomically
from unet_studio.app.project import Project
from unet_studio.models.files import TEMP_PREFIX

LONG = "x" * 230 + ".labels.tif"  # 241 bytes: ext4 takes it
LONG_UTF8 = "é" * 120 + ".tif"  # 244 bytes in 124 characters


def _series(t=3):
    labels = np.zeros((t, 16, 16), np.uint16)
    labels[:, 2:6, 2:6] = 1
    return labels


def _read_only_mkstemp(monkeypatch):
    """Creating a file in any folder fails as on a read-only mount, naming the random
    temporary file it tried (a new one each time), as the kernel does."""

    def refuse(suffix=None, prefix=None, dir=None, text=False):
        name = f"{prefix}{uuid.uuid4().hex[:8]}{suffix or ''}"
        raise OSError(errno.EROFS, "Read-only file system", os.path.join(dir, name))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)


@pytest.mark.parametrize("name", [LONG, LONG_UTF8, "a." + "b" * 250])
def test_outputs_with_long_names_are_written(tmp_path, name):
    image = np.arange(20, dtype=np.uint16).reshape(4, 5)
    write_atomically(tmp_path / name, lambda path: tifffile.imwrite(path, image))
    atomic_write_bytes(tmp_path / ("j" + name), b"{}")
    assert np.array_equal(tifffile.imread(tmp_path / name), image)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, "j" + name])


def test_a_killed_writers_leftover_of_a_long_name_is_swept(tmp_path):
    target = tmp_path / LONG
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    mine = temporary_sibling(target).name
    leftover = tmp_path / re.sub(r"\.p\d+\.", f".p{child.pid}.", mine)
    leftover.write_bytes(b"half-written")
    write_atomically(target, lambda path: path.write_bytes(b"whole"))
    assert [p.name for p in tmp_path.iterdir()] == [LONG]


def test_cli_exports_ctc_into_a_folder_with_a_long_name(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "lab.tif", _series(), imagej=True, metadata={"axes": "TYX"})
    out = tmp_path / ("c" * 250)
    assert main(["export-ctc", str(tmp_path / "lab.tif"), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["mask000.tif", "mask001.tif",
                                                     "mask002.tif", "res_track.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["lab.tif", out.name])


def test_a_failed_rename_names_the_output_and_leaves_nothing(tmp_path, monkeypatch):
    def read_only(source, target):
        raise OSError(errno.EROFS, "Read-only file system", str(source), None, str(target))

    monkeypatch.setattr(os, "replace", read_only)
    out = tmp_path / "m.csv"
    with pytest.raises(OSError) as caught, atomic_writing(out) as temp:
        temp.write_text("a,b\n")
    assert str(caught.value) == f"cannot write m.csv in {tmp_path}: Read-only file system"
    assert caught.value.errno == errno.EROFS and caught.value.filename == str(out)
    assert list(tmp_path.iterdir()) == []


def test_cli_measure_into_a_read_only_folder_names_the_table(tmp_path, capsys, monkeypatch):
    tifffile.imwrite(tmp_path / "lab.tif", _series(1)[0])
    _read_only_mkstemp(monkeypatch)
    out = tmp_path / "m.csv"
    assert main(["measure", str(tmp_path / "lab.tif"), "-o", str(out)]) == 2
    assert capsys.readouterr().err == (f"unet-studio: error: cannot write m.csv in {tmp_path}: "
                                       "Read-only file system; choose another output\n")


def test_ctc_export_into_a_read_only_folder_names_the_folder(tmp_path, monkeypatch):
    def read_only(suffix=None, prefix=None, dir=None):
        raise OSError(errno.EROFS, "Read-only file system", os.path.join(dir, f"{prefix}q1w2"))

    monkeypatch.setattr(tempfile, "mkdtemp", read_only)
    with pytest.raises(OSError, match=re.escape(f"cannot write ctc in {tmp_path}: Read-only")):
        list(iter_export_ctc(_series(), "TYX", tmp_path / "ctc"))
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_project_is_told_once_naming_reviewed_npz(tmp_path, monkeypatch, caplog):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="YX")
    project.attach_labels(ref.id, np.zeros((64, 64), np.uint16))
    assert project.flush(10)
    _read_only_mkstemp(monkeypatch)
    caplog.set_level(logging.DEBUG, logger="unet_studio.app.autosave")
    told = []
    for row in range(3):  # three marks, three failing saves (and their retries)
        project.reviewed(ref.id, (64, 64)).mark_region((slice(row, row + 1), slice(0, 8)))
        project.save_reviewed(ref.id)
        assert not project.flush(5)
        told += project.problems_to_tell()
    reviewed = tmp_path / "p" / "images" / ref.id / "reviewed.npz"
    assert len(told) == 1 and f"{reviewed}: Read-only file system" in told[0], told
    logged = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(logged) == 1 and logged[0].exc_info is None, [r.getMessage() for r in logged]
    assert TEMP_PREFIX not in logged[0].getMessage()
    monkeypatch.undo()
    project.close()


def test_autosave_logs_a_failure_once_however_often_it_is_retried(caplog):
    def full_disk():  # (each try names its own temporary file, as the engine's writers do)
        raise OSError(errno.ENOSPC, "No space left on device", f"/d/.tmp-{uuid.uuid4().hex}")

    writer = AutosaveWriter(0.0)
    with caplog.at_level(logging.INFO, logger="unet_studio.app.autosave"):
        writer.submit("labels", full_disk)
        for _ in range(3):
            assert not writer.flush(5)
        writer.submit("labels", lambda: None)
        assert writer.flush(5)
    writer.close()
    lines = [(r.levelname, r.exc_info is None) for r in caplog.records]
    assert lines == [("WARNING", True), ("INFO", True)], [r.getMessage() for r in caplog.records]
