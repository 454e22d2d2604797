"""A project folder that cannot be written (a read-only file system, no permission) opens
read-only and says so at once: the changes are kept in memory (no failing saves told again
and again), writes outside the autosave are refused in words, closing warns, and once the
folder can be written again what was kept is saved there."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from unet_studio.app import project_writable
from unet_studio.app.label_edit import diff_labels
from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE


@pytest.fixture
def saved_project(tmp_path):
    """(folder, image id) of a closed project holding one image's labels."""
    with Project.create(tmp_path / "p", autosave_delay=0.0) as project:
        ref = project.add_image("", axes="YX", name="img", shape=(16, 16))
        project.attach_labels(ref.id, np.zeros((16, 16), np.uint16))
        assert project.flush(10)
    return tmp_path / "p", ref.id


@pytest.fixture
def unwritable(monkeypatch):
    """Every folder cannot be written, as on a read-only mount, while ``why[0]`` is set."""
    why = ["read-only file system"]
    monkeypatch.setattr(project_writable, "write_problem", lambda folder: why[0])
    return why


def _paint(project: Project, image_id: str, value: int) -> np.ndarray:
    labels = project.labels(image_id)
    edit = diff_labels(labels, np.full_like(labels, value))
    edit.apply_to(labels)
    project.record_edit(image_id, edit)
    return labels


def test_an_unwritable_folder_opens_read_only_and_says_so(saved_project, unwritable):
    folder, image_id = saved_project
    project = Project.open(folder, autosave_delay=0.0)
    try:
        assert project.unwritable == "read-only file system" and project.read_only
        told = project.problems
        assert len(told) == 1 and f"{folder} cannot be written (read-only file system)" in told[0]
        assert "kept in memory only" in told[0] and "New project" in told[0]
        assert not (folder / LOCK_FILE).exists()
        _paint(project, image_id, 3)
        project.log("an edit")
        assert project.flush(10)
        assert project.problems_to_tell() == [] and project.sharing_problem() is None
        assert "kept in memory only" in project.unsaved_problem()
        assert "read-only file system" in project.saving_note()
        with pytest.raises(project_writable.FolderUnwritable, match="cannot be written"):
            project.new_model_dir("round")
    finally:
        project.close()
    with Project.open(folder, autosave_delay=0.0) as reopened:  # (nothing was written)
        assert reopened.labels(image_id).max() == 0


def test_what_was_kept_is_saved_once_the_folder_can_be_written(saved_project, unwritable):
    folder, image_id = saved_project
    project = Project.open(folder, autosave_delay=0.0)
    try:
        project.problems.clear()
        _paint(project, image_id, 5)
        unwritable[0] = None  # (remounted read-write)
        assert project.sharing_problem() is None  # (what the project watch asks each second)
        assert project.unwritable is None and project.read_only is None
        assert project.flush(10) and project.unsaved_problem() is None
        assert [p for p in project.problems if "can be written again" in p]
        assert json.loads((folder / LOCK_FILE).read_text())["pid"] == os.getpid()
    finally:
        project.close()
    with Project.open(folder, autosave_delay=0.0) as reopened:
        assert (reopened.labels(image_id) == 5).all()


def test_the_write_test_names_a_read_only_file_system(tmp_path, monkeypatch):
    assert project_writable.write_problem(tmp_path) is None
    assert list(tmp_path.iterdir()) == []  # (the test file is gone)

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(tmp_path / "x"))

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    assert project_writable.write_problem(tmp_path) == "read-only file system"


ROOT_WITH_MOUNT = (sys.platform == "linux" and os.geteuid() == 0
                   and shutil.which("mount") is not None)


@pytest.mark.skipif(not ROOT_WITH_MOUNT, reason="needs root to make a read-only bind mount")
def test_a_read_only_bind_mount_opens_read_only(saved_project, tmp_path):
    folder, image_id = saved_project
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "--bind", str(folder), str(mount)]).returncode:
        pytest.skip("bind mounts are not allowed here")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(mount)], check=True)
        project = Project.open(mount, autosave_delay=0.0)
        try:
            assert project.unwritable == "read-only file system"
            _paint(project, image_id, 2)
            assert project.flush(10) and project.problems_to_tell() == []
        finally:
            project.close()
    finally:
        subprocess.run(["umount", str(mount)], check=True)
