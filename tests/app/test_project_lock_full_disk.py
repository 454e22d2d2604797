"""The project lock on a full disk: a lock that cannot be written leaves no empty lock
behind and makes nobody the writer (the opening is read-only, kept in memory, and says the
disk is full); a second window opening the project meanwhile is not a writer either; once
space is freed, the first becomes the writer. Real project folders and lock files; the full
disk is played by file writes that create their file but can put no byte in it, as a full
disk does."""

from __future__ import annotations

import errno
import json
import os
import pathlib
import tempfile

import pytest

from unet_studio.app import project_writable
from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE, stale_lock


class _FullFile:
    """A real file just created (or truncated) on a disk that has no block left: writing
    into it fails, as on a full disk."""

    def __init__(self, handle):
        self._handle = handle

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._handle.close()


class _Disk:
    """``fill()``: every file opened for writing is created, then refuses its first byte
    (reading works); ``free()``: space again."""

    def __init__(self, monkeypatch):
        self._monkeypatch = monkeypatch

    def fill(self) -> None:
        real_open, real_temporary = pathlib.Path.open, tempfile.TemporaryFile

        def open_full(path, mode="r", *args, **kwargs):
            handle = real_open(path, mode, *args, **kwargs)
            return _FullFile(handle) if set(mode) & set("wax+") else handle

        self._monkeypatch.setattr(pathlib.Path, "open", open_full)
        self._monkeypatch.setattr(tempfile, "TemporaryFile", lambda *args, **kwargs:
                                  _FullFile(real_temporary(*args, **kwargs)))

    def free(self) -> None:
        self._monkeypatch.undo()


@pytest.fixture
def disk():
    patches = pytest.MonkeyPatch()  # (its own: freeing the space undoes nothing else)
    yield _Disk(patches)
    patches.undo()


def _project(tmp_path) -> pathlib.Path:
    Project.create(tmp_path / "p", autosave_delay=0.0).close()
    return tmp_path / "p"


def test_new_project_on_a_full_disk_leaves_the_folder_empty_to_try_again(tmp_path, disk):
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    disk.fill()
    with pytest.raises(OSError) as raised:
        Project.create(chosen, autosave_delay=0.0)
    assert raised.value.errno == errno.ENOSPC
    assert list(chosen.iterdir()) == []  # no empty open.lock keeping it "not empty"
    disk.free()
    Project.create(chosen, autosave_delay=0.0).close()  # the same folder, space freed
    assert (chosen / "project.json").is_file() and not (chosen / LOCK_FILE).exists()


def test_opening_on_a_full_disk_is_read_only_and_says_why(tmp_path, disk):
    folder = _project(tmp_path)
    disk.fill()
    first = Project.open(folder, autosave_delay=0.0)
    assert first.unwritable == "the disk is full" and first.read_only
    assert "cannot be written (the disk is full)" in first.problems[0]
    assert not (folder / LOCK_FILE).exists()  # neither an empty lock nor a half one
    second = Project.open(folder, autosave_delay=0.0)  # another window, meanwhile
    assert second.read_only and second.unwritable == "the disk is full"
    second.close()
    first.close()
    assert not (folder / LOCK_FILE).exists()
    disk.free()
    again = Project.open(folder, autosave_delay=0.0)
    assert again.problems == []  # not "was not closed properly... may be missing"
    assert again.read_only is None  # the writer, holding the lock
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
    again.close()
    assert not (folder / LOCK_FILE).exists()


def test_a_lock_failing_after_the_write_test_makes_nobody_the_writer(tmp_path, disk,
                                                                    monkeypatch):
    folder = _project(tmp_path)
    disk.fill()
    # (the disk filled up between the write test and the lock: the test saw room)
    monkeypatch.setattr(project_writable, "write_problem", lambda folder: None)
    first = Project.open(folder, autosave_delay=0.0)
    assert first.unwritable == "the disk is full" and first.read_only
    assert not (folder / LOCK_FILE).exists()
    second = Project.open(folder, autosave_delay=0.0)
    assert second.read_only  # the lock was never written: nobody writes it
    disk.free()  # space freed: the first window becomes the writer, the other waits
    monkeypatch.undo()  # (and the write test sees it)
    assert not first.kept_in_memory() and first.read_only is None
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
    assert second.sharing_problem() is not None
    assert second.read_only == "another window of this program"
    second.close()
    first.close()
    assert not (folder / LOCK_FILE).exists()


def test_an_empty_lock_is_no_crash_to_tell_and_is_taken_over(tmp_path):
    folder = _project(tmp_path)
    (folder / LOCK_FILE).write_text('{"pid": 12')  # (a lock cut short by a kill: told)
    assert stale_lock(folder) == "a process"
    (folder / LOCK_FILE).write_bytes(b"")  # (an older version's lock write on a full disk)
    assert stale_lock(folder) is None
    project = Project.open(folder, autosave_delay=0.0)
    assert project.problems == [] and project.read_only is None
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
    project.close()
    assert not (folder / LOCK_FILE).exists()
