"""A project folder moved, renamed or deleted while open, and a project reopened after its
writer was killed: real folders moved with os.rename, real child processes."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE

needs_fd_path = pytest.mark.skipif(
    not (sys.platform.startswith("linux") or sys.platform == "darwin"),
    reason="the system cannot tell where an open folder went")


def _open_with_labels(folder):
    """A project with one image whose labels (object 3) are saved."""
    project = Project.create(folder, autosave_delay=0.0)
    ref = project.add_image(folder.parent / "img.tif", axes="YX", shape=[32, 32])
    labels = np.zeros((32, 32), np.int32)
    labels[2:6, 2:6] = 3
    project.attach_labels(ref.id, labels)
    assert project.flush(10)
    return project, ref, labels


@needs_fd_path
def test_a_moved_folder_is_followed_and_the_user_told_once(tmp_path):
    project, ref, labels = _open_with_labels(tmp_path / "p")
    os.rename(tmp_path / "p", tmp_path / "p_moved")
    labels[10:20, 10:20] = 4
    project.mark_dirty(ref.id)
    project.log("delete object", id=3)
    assert project.flush(10)
    assert project.path == tmp_path / "p_moved"
    assert project.new_model_dir("tuned").parent == tmp_path / "p_moved" / "models"
    assert project.problems == [f"The project folder was moved to {tmp_path / 'p_moved'}; "
                                "saving there now."]
    assert project.problems_to_tell() == [] and project.unsaved_problem() is None
    labels[25:30, 25:30] = 5
    project.mark_dirty(ref.id)
    assert project.flush(10) and len(project.problems) == 1  # (told once)
    # The lock moved with it: a second window there opens it read-only.
    second = Project.open(tmp_path / "p_moved", autosave_delay=0.0)
    assert second.read_only is not None
    second.close()
    project.close()
    assert not (tmp_path / "p").exists()  # (nothing recreated at the old path)
    with Project.open(tmp_path / "p_moved") as reopened:
        np.testing.assert_array_equal(reopened.labels(ref.id), labels)
        assert reopened.history()[-1]["action"] == "delete object"


@needs_fd_path
def test_a_new_folder_at_the_old_name_is_not_written(tmp_path):
    """Moved, and another (empty) folder made at its name: saving follows the project."""
    project, ref, labels = _open_with_labels(tmp_path / "p")
    os.rename(tmp_path / "p", tmp_path / "p_moved")
    (tmp_path / "p").mkdir()
    labels[10:20, 10:20] = 4
    project.mark_dirty(ref.id)
    assert project.flush(10)
    project.close()
    assert list((tmp_path / "p").iterdir()) == []
    with Project.open(tmp_path / "p_moved") as reopened:
        np.testing.assert_array_equal(reopened.labels(ref.id), labels)


def test_a_deleted_folder_stops_saving_says_so_and_recreates_nothing(tmp_path):
    project, ref, labels = _open_with_labels(tmp_path / "p")
    shutil.rmtree(tmp_path / "p")
    labels[10:20, 10:20] = 4
    project.mark_dirty(ref.id)
    project.log("delete object", id=3)
    assert not project.flush(10)
    told = project.problems_to_tell()
    assert len(told) == 1 and str(tmp_path / "p") in told[0]
    assert "moved or deleted while it was open" in told[0] and "Put it back" in told[0]
    assert project.problems_to_tell() == []  # (told once)
    assert project.unsaved_problem() == told[0]  # (the close question is asked)
    with pytest.raises(OSError, match="moved or deleted"):  # (as a failed write)
        project.new_model_dir("tuned")
    assert project.labels(ref.id) is labels and labels[15, 15] == 4  # (kept in memory)
    project.close()
    assert not (tmp_path / "p").exists()


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    return int(child.stdout)


def test_a_project_whose_writer_was_killed_says_so_once_at_opening(tmp_path):
    project, ref, labels = _open_with_labels(tmp_path / "p")
    project.close()
    with Project.open(tmp_path / "p") as reopened:  # (closed normally: nothing to tell)
        assert reopened.problems == []
    lock = {"pid": _dead_pid(), "host": socket.gethostname()}
    (tmp_path / "p" / LOCK_FILE).write_text(json.dumps(lock))
    with Project.open(tmp_path / "p") as reopened:
        assert len(reopened.problems) == 1
        told = reopened.problems[0]
        assert "was not closed properly last time" in told and f"process {lock['pid']}" in told
        assert "last second or so" in told
        np.testing.assert_array_equal(reopened.labels(ref.id), labels)
    with Project.open(tmp_path / "p") as again:
        assert again.problems == []
