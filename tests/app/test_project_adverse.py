"""The project store under adverse conditions, as a user meets them: a folder that became
read-only, a full disk during autosave, damaged files of each kind, one project open twice,
a killed save's leftovers, image files that moved, very long and non-ASCII names. Expected:
a message naming the file and the problem, nothing the user made lost, work goes on."""

from __future__ import annotations

import errno
import json
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

import unet_studio.models.files as files
from unet_studio.app.errors import InputFileError
from unet_studio.app.project import Project
from unet_studio.app.project_lock import LOCK_FILE


def _project(folder, shape=(2, 64, 64)):
    """A project with one image, labels, reviewed marks and history, all on disk."""
    project = Project.create(folder, autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="ZYX")
    labels = np.zeros(shape, np.uint16)
    labels[0, :10, :10] = 1
    project.attach_labels(ref.id, labels)
    project.reviewed(ref.id, labels.shape).mark_slice(0)
    project.save_reviewed(ref.id)
    project.log("paint", label=1)
    assert project.flush(10)
    return project, ref, labels


def _failing_writes(monkeypatch, code: int, message: str) -> None:
    """Every atomic write fails as on a full disk (ENOSPC) or a read-only folder (EROFS):
    the error comes from the write itself, naming no file."""

    def fail(path, write, fsync=True):
        raise OSError(code, message)

    monkeypatch.setattr(files, "atomic_write", fail)


def test_a_damaged_project_file_names_the_file_and_the_entry(tmp_path):
    project, _, _ = _project(tmp_path / "p")
    project.close()
    file = tmp_path / "p" / "project.json"
    meta = json.loads(file.read_text())
    meta["images"][0]["axes"] = "QQ"
    file.write_text(json.dumps(meta))
    with pytest.raises(InputFileError, match=r"project\.json: damaged image entry 1 \(axes"):
        Project.open(tmp_path / "p")
    meta["images"] = {"img": meta["images"][0]}
    file.write_text(json.dumps(meta))
    with pytest.raises(InputFileError, match=r"project\.json: damaged: its 'images' is not"):
        Project.open(tmp_path / "p")


def test_a_full_disk_is_told_naming_the_file_and_nothing_is_lost(tmp_path, monkeypatch):
    project, ref, labels = _project(tmp_path / "p")
    _failing_writes(monkeypatch, errno.ENOSPC, "No space left on device")
    labels[1, :5, :5] = 3
    project.mark_dirty(ref.id, (slice(1, 2), slice(0, 5), slice(0, 5)))
    project.add_image("second.tif", axes="YX")
    assert not project.flush(5)
    told = project.problems_to_tell()
    assert told and all("No space left on device" in text for text in told)
    assert any(str(tmp_path / "p" / "images" / ref.id / "labels") in text for text in told)
    assert project.unsaved_problem().startswith(told[0])
    project.flush(5)  # (retried, failing again)
    assert project.problems_to_tell() == []  # each failure told once while it lasts
    monkeypatch.undo()  # space was freed
    assert project.flush(10)
    assert project.unsaved_problem() is None and project.problems_to_tell() == []
    project.close()
    reopened = Project.open(tmp_path / "p")
    np.testing.assert_array_equal(reopened.labels(ref.id), labels)
    assert [image.name for image in reopened.images] == ["img.tif", "second.tif"]
    reopened.close()


def test_a_read_only_folder_opens_and_says_what_cannot_be_saved(tmp_path, monkeypatch):
    """The folder became read-only (a finished share, a full quota): opening works, with
    the leftover temp file it cannot remove ignored; saving says which file failed."""
    project, ref, labels = _project(tmp_path / "p")
    project.close()
    store = tmp_path / "p" / "images" / ref.id / "labels"
    next(store.glob("g*")).joinpath(".tmp-x.npy.zst").write_bytes(b"half a chunk")

    def unlink(self, missing_ok=False):
        raise PermissionError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(pathlib.Path, "unlink", unlink)
    reopened = Project.open(tmp_path / "p")
    assert any("could not remove the temp files" in p and "Read-only" in p
               for p in reopened.problems)
    np.testing.assert_array_equal(reopened.labels(ref.id), labels)  # (the temp is no data)
    _failing_writes(monkeypatch, errno.EROFS, "Read-only file system")
    reopened.log("paint", label=2)
    reopened.reviewed(ref.id).mark_slice(1)
    reopened.save_reviewed(ref.id)
    assert not reopened.flush(5)
    told = reopened.problems_to_tell()
    assert any("reviewed.npz: Read-only file system" in text for text in told)
    monkeypatch.undo()
    assert reopened.flush(10)
    reopened.close()


def test_damaged_stores_are_set_aside_and_saving_starts_afresh(tmp_path):
    project, ref, labels = _project(tmp_path / "p")
    project.close()
    image_dir = tmp_path / "p" / "images" / ref.id
    (image_dir / "labels" / "array.json").write_bytes(b'{"shape": [2, 6')  # cut off
    reviewed = image_dir / "reviewed.npz"
    reviewed.write_bytes(reviewed.read_bytes()[:40])
    reopened = Project.open(tmp_path / "p")
    assert reopened.labels(ref.id) is None
    assert reopened.reviewed(ref.id) is None
    assert len(reopened.problems) == 2
    assert "labels: cannot read the saved labels" in reopened.problems[0]
    assert "set aside as labels-unreadable-" in reopened.problems[0]
    assert "reviewed.npz: cannot read the reviewed marks" in reopened.problems[1]
    kept = sorted(p.name for p in image_dir.iterdir() if "unreadable" in p.name)
    assert kept[0].startswith("labels-unreadable-") and kept[1].startswith("reviewed-unreadable-")
    # The user goes on: the layer's labels become the live array (not saved in full), and
    # new reviewed marks; both are saved and come back.
    live = labels.copy()
    reopened.attach_labels(ref.id, live, save=False)
    reopened.reviewed(ref.id, live.shape).mark_slice(1)
    reopened.save_reviewed(ref.id)
    assert reopened.flush(10)
    reopened.close()
    again = Project.open(tmp_path / "p")
    np.testing.assert_array_equal(again.labels(ref.id), live)
    assert again.reviewed(ref.id).mask[1].all() and not again.problems
    again.close()


def test_a_damaged_history_line_costs_no_other_line(tmp_path):
    project, _, _ = _project(tmp_path / "p")
    project.close()
    with open(tmp_path / "p" / "history.jsonl", "ab") as history:
        history.write(b'\xff\xfe\x80 not text\n[1, 2]\n')
    reopened = Project.open(tmp_path / "p")
    reopened.log("after")
    assert [e["action"] for e in reopened.history()][-2:] == ["paint", "after"]
    reopened.close()


def test_a_project_open_twice_is_read_only_the_second_time(tmp_path):
    """Two windows open one project: the second does not overwrite the first's image list
    (nor its labels); it says why and saves its own changes once the first closed it."""
    first, ref, labels = _project(tmp_path / "p")
    second = Project.open(tmp_path / "p")
    assert first.read_only is None and second.read_only
    assert "read-only" in second.sharing_problem() and LOCK_FILE in second.sharing_problem()
    first.add_image("from-first.tif", axes="YX")
    second.add_image("from-second.tif", axes="YX")
    assert first.flush(10) and second.flush(10)
    on_disk = [i["name"] for i in json.loads((tmp_path / "p" / "project.json").read_text())["images"]]
    assert on_disk == ["img.tif", "from-first.tif"]
    assert "not saved" in second.unsaved_problem()
    first.close()
    assert second.sharing_problem() is None  # the writer now
    assert second.flush(10)
    second.close()
    reopened = Project.open(tmp_path / "p")
    assert sorted(i.name for i in reopened.images) == ["from-first.tif", "from-second.tif",
                                                        "img.tif"]
    np.testing.assert_array_equal(reopened.labels(ref.id), labels)
    reopened.close()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    project, _, _ = _project(tmp_path / "p")
    project.close()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    lock = tmp_path / "p" / LOCK_FILE
    lock.write_text(json.dumps({"pid": int(gone.stdout), "host": socket.gethostname()}))
    reopened = Project.open(tmp_path / "p")
    assert reopened.read_only is None and reopened.sharing_problem() is None
    reopened.close()
    assert not lock.exists()


def test_leftovers_of_a_killed_save_are_removed_and_never_read(tmp_path):
    project, ref, labels = _project(tmp_path / "p")
    project.close()
    partial = tmp_path / "p" / "models" / ".tmp-tiny-ft-20260101-000000"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"half a model")
    (tmp_path / "p" / ".tmp-project.json").write_text('{"format": "junk"}')
    reopened = Project.open(tmp_path / "p")
    assert not partial.exists() and not list((tmp_path / "p").rglob(".tmp-*"))
    np.testing.assert_array_equal(reopened.labels(ref.id), labels)
    reopened.close()


def test_very_long_and_non_ascii_names(tmp_path):
    """A 300-character file name made a 300-character folder name: every save of that
    image failed (the name is too long for the file system). Non-ASCII names round-trip."""
    project = Project.create(tmp_path / "细胞 projekt ß", autosave_delay=0.0)
    long = project.add_image(f"/data/{'a' * 300}.tif", axes="YX")
    other = project.add_image(f"/data/{'a' * 300}b.tif", axes="YX")
    named = project.add_image("/data/细胞 ß.tif", axes="YX")
    assert len(long.id) <= 100 and long.id != other.id
    for ref in (long, other, named):
        project.attach_labels(ref.id, np.full((8, 8), 2, np.uint16))
    project.log("paint", image=named.name)
    model = project.new_model_dir("m" * 300 + "-ft-20260101-000000")
    assert len(model.name) <= 100
    model.mkdir()
    assert project.flush(10)
    project.close()
    reopened = Project.open(tmp_path / "细胞 projekt ß")
    assert reopened.find_image("细胞 ß.tif").id == named.id
    for ref in (long, other, named):
        np.testing.assert_array_equal(reopened.labels(ref.id), np.full((8, 8), 2, np.uint16))
    assert reopened.history()[-1]["image"] == "细胞 ß.tif"
    reopened.close()


def test_an_image_file_that_moved_is_named_when_training_reads_it(tmp_path):
    """Already handled: the project keeps its corrections; learning from it names the
    file that is gone (the window's project opening warns likewise, see the session)."""
    from unet_studio.app.training_data import project_examples

    project, ref, labels = _project(tmp_path / "p")
    assert not project.resolve_image_path(ref.id).exists()
    examples, problems = project_examples(project, skip=set(), open_image=lambda name: None,
                                          percentiles=(1.0, 99.0), spatial_dims=3)
    assert examples == [] and len(problems) == 1 and "img.tif" in problems[0]
    np.testing.assert_array_equal(project.labels(ref.id), labels)
    project.close()
