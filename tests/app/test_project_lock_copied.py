"""A project folder copied while open carries its writer's lock along: the copy is another
folder, which nobody writes, so it opens writable; the original, and a folder moved while
open, stay locked. Real folders (shutil.copytree, os.rename), real child processes holding
the lock as another window's process would."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys

import pytest

from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE


@pytest.fixture
def held(tmp_path, take_lock_script):
    """A project folder "projA" whose lock a running child process holds: (folder, pid)."""
    folder = tmp_path / "projA"
    Project.create(folder, autosave_delay=0.0).close()
    child = subprocess.Popen([sys.executable, "-c", take_lock_script, str(folder), "stay"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "taken"
        yield folder, child.pid
    finally:
        child.kill()
        child.wait()
        child.stdout.close()


def _opening(folder) -> tuple[str | None, list[str]]:
    """Who else writes ``folder`` when it is opened here (None: writable), and what the
    user is told at opening."""
    project = Project.open(folder, autosave_delay=0.0)
    try:
        return project.read_only, list(project.problems)
    finally:
        project.close()


def test_a_copy_made_while_open_opens_writable_and_the_original_stays_locked(
        held, caplog):
    folder, pid = held
    copy = folder.parent / "copied projA"
    shutil.copytree(folder, copy)
    with caplog.at_level(logging.INFO, logger="unet_studio.app.project_lock"):
        assert _opening(copy) == (None, [])  # (writable, and nothing alarming told)
    assert str(folder) in caplog.text  # (logged: whose lock was taken over)
    assert not (copy / LOCK_FILE).exists()  # (taken over, released on close)
    assert _opening(folder)[0] == f"process {pid}"
    assert json.loads((folder / LOCK_FILE).read_text())["pid"] == pid  # (left alone)


def test_a_copy_whose_writer_stopped_since_is_not_told_as_a_crash(tmp_path, take_lock_script):
    folder = tmp_path / "projA"
    Project.create(folder, autosave_delay=0.0).close()
    subprocess.run([sys.executable, "-c", take_lock_script, str(folder), "exit"], check=True,
                   capture_output=True)
    shutil.copytree(folder, tmp_path / "copy")
    assert _opening(tmp_path / "copy") == (None, [])
    read_only, told = _opening(folder)  # (the original was left behind: that is told)
    assert read_only is None and "was not closed properly" in told[0]


def test_a_folder_moved_while_open_stays_locked_and_a_copy_at_its_old_name_does_not(held):
    """The writer has not noticed the move yet (its lock records the old path), and a copy
    of the moved folder was put at the old name: the old path names another folder."""
    folder, pid = held
    moved = folder.parent / "projA moved"
    os.rename(folder, moved)
    shutil.copytree(moved, folder)
    assert _opening(moved)[0] == f"process {pid}"
    assert _opening(folder) == (None, [])


def test_a_lock_of_another_host_is_copied_only_where_the_original_shows_here(held):
    """A shared drive: the writer's host recorded the path and inode number its server
    gives every host. A copy beside the original opens writable; a lock whose recorded
    path is not seen here (the drive mounted elsewhere) keeps the folder read-only."""
    folder, pid = held
    lock = folder / LOCK_FILE
    info = {**json.loads(lock.read_text()), "host": "hostA"}
    lock.write_text(json.dumps(info))
    shutil.copytree(folder, folder.parent / "copy")
    assert _opening(folder.parent / "copy") == (None, [])
    assert _opening(folder)[0] == f"process {pid} on hostA"
    shutil.copytree(folder, folder.parent / "elsewhere")
    os.rename(folder, folder.parent / "projA on another mount")
    assert _opening(folder.parent / "elsewhere")[0] == f"process {pid} on hostA"


def test_a_copied_lock_of_an_older_version_keeps_the_copy_read_only(held):
    folder, pid = held
    copy = folder.parent / "copy"
    shutil.copytree(folder, copy)
    info = json.loads((copy / LOCK_FILE).read_text())
    (copy / LOCK_FILE).write_text(json.dumps({"pid": info["pid"], "host": info["host"]}))
    assert _opening(copy)[0] == f"process {pid}"


@pytest.mark.skipif(not sys.platform.startswith("linux") and sys.platform != "darwin",
                    reason="the system cannot tell where an open folder went")
def test_the_writer_of_a_moved_folder_records_where_it_is_now(tmp_path):
    project = Project.create(tmp_path / "p", autosave_delay=0.0)
    os.rename(tmp_path / "p", tmp_path / "q")
    assert project.path == tmp_path / "q"  # (noticed: the lock follows)
    info = json.loads((tmp_path / "q" / LOCK_FILE).read_text())
    assert info["folder"] == os.path.realpath(tmp_path / "q") and info["pid"] == os.getpid()
    second = Project.open(tmp_path / "q", autosave_delay=0.0)
    assert second.read_only is not None
    second.close()
    project.close()
