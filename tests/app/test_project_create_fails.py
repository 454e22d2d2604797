"""Project.create failing after its folder was made (a full disk, a mount turned read-only):
nothing of the half-made project stays behind, so that trying again works."""

from __future__ import annotations

import errno

import pytest

import unet_studio.models.files as files
from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE


@pytest.fixture
def disk_full(monkeypatch):
    """Writing project.json fails at its rename, as on a full disk."""

    def fail(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", fail)
    return monkeypatch


def test_a_failed_create_removes_the_folders_it_made(tmp_path, disk_full):
    folder = tmp_path / "new" / "project"
    with pytest.raises(OSError) as caught:
        Project.create(folder, autosave_delay=0.0)
    assert caught.value.errno == errno.ENOSPC  # the same error, not another one
    assert not (tmp_path / "new").exists()  # both folders it made are gone
    disk_full.undo()
    Project.create(folder, autosave_delay=0.0).close()  # trying again works
    assert (folder / "project.json").is_file()


def test_a_failed_create_in_an_empty_folder_keeps_that_folder(tmp_path, disk_full):
    folder = tmp_path / "chosen"
    folder.mkdir()
    with pytest.raises(OSError):
        Project.create(folder, autosave_delay=0.0)
    assert folder.is_dir() and not any(folder.iterdir())  # no models/, lock or temp left


def test_a_failed_create_keeps_what_someone_else_put_there(tmp_path, disk_full):
    folder = tmp_path / "p"

    def replace_after_another_file(*args):  # (another program writes there meanwhile)
        (folder / "notes.txt").write_text("mine")
        raise OSError(errno.EROFS, "Read-only file system")

    disk_full.setattr(files.os, "replace", replace_after_another_file)
    with pytest.raises(OSError):
        Project.create(folder, autosave_delay=0.0)
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]
    assert not (folder / LOCK_FILE).exists()
