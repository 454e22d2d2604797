"""Taking an image out of a project (its saved work set aside, never deleted; no longer
opened nor learnt from) and pointing a project image at its file's new place (refused for
a file of another shape)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from unet_studio.app.errors import UserError
from unet_studio.app.project import Project
from unet_studio.app.training_data import project_examples


def _image_file(path, shape=(32, 32)):
    pixels = np.random.default_rng(0).integers(0, 1000, shape, dtype=np.uint16)
    tifffile.imwrite(path, pixels, imagej=True, metadata={"axes": "YX"})
    return path


def _reviewed_image(project, path):
    """A project image of the file ``path`` with labels and a reviewed band, saved."""
    ref = project.add_image(str(path), axes="YX", shape=(32, 32))
    labels = np.zeros((32, 32), np.int32)
    labels[4:12, 4:12] = 1
    project.attach_labels(ref.id, labels)
    project.reviewed(ref.id, labels.shape).mark_region((slice(0, 16), slice(None)))
    project.save_reviewed(ref.id)
    return ref


def _learnt_from(project) -> list[str]:
    examples, problems = project_examples(project, skip=set(), open_image=lambda name: None,
                                          percentiles=(1.0, 99.0), spatial_dims=2)
    assert problems == []
    return sorted(example.name for example in examples)


def test_a_removed_image_is_set_aside_and_no_longer_learnt_from(tmp_path):
    project = Project.create(tmp_path / "project", autosave_delay=0.0)
    keep = _reviewed_image(project, _image_file(tmp_path / "keep.tif"))
    bad = _reviewed_image(project, _image_file(tmp_path / "bad.tif"))
    assert project.flush(10)
    assert _learnt_from(project) == ["bad.tif", "keep.tif"]

    kept = project.remove_image(bad.id)

    assert kept.parent == tmp_path / "project" / "removed-images"
    assert {p.name for p in kept.iterdir()} >= {"labels", "reviewed.npz", "image.json"}
    assert json.loads((kept / "image.json").read_text())["path"] == bad.path
    assert not (tmp_path / "project" / "images" / bad.id).exists()
    assert [ref.id for ref in project.images] == [keep.id]
    assert _learnt_from(project) == ["keep.tif"]
    assert project.flush(10)  # (the history is appended in the background)
    entry = project.history()[-1]
    assert entry["action"] == "remove image" and entry["image"] == bad.id
    assert entry["kept"] == str(kept.relative_to(tmp_path / "project"))
    project.close()

    reopened = Project.open(tmp_path / "project")
    try:
        assert [ref.name for ref in reopened.images] == ["keep.tif"]
        assert reopened.labels(keep.id) is not None
        again = reopened.add_image(str(tmp_path / "bad.tif"), axes="YX")  # (opened anew)
        assert reopened.labels(again.id) is None  # (a new image: nothing of the old one)
    finally:
        reopened.close()


def test_removing_is_refused_in_a_read_only_opening(tmp_path):
    project = Project.create(tmp_path / "project", autosave_delay=0.0)
    ref = _reviewed_image(project, _image_file(tmp_path / "a.tif"))
    assert project.flush(10)
    second = Project.open(tmp_path / "project")  # (the first one writes it)
    try:
        with pytest.raises(UserError, match="written by"):
            second.remove_image(ref.id)
        assert [r.id for r in second.images] == [ref.id]
        assert (tmp_path / "project" / "images" / ref.id / "labels").exists()
    finally:
        second.close()
        project.close()


def test_a_moved_image_file_is_located_and_a_wrong_one_refused(tmp_path):
    project = Project.create(tmp_path / "project", autosave_delay=0.0)
    ref = _reviewed_image(project, _image_file(tmp_path / "cells.tif"))
    assert project.flush(10)
    moved = tmp_path / "elsewhere" / "cells renamed.tif"
    moved.parent.mkdir()
    (tmp_path / "cells.tif").rename(moved)
    other = _image_file(tmp_path / "other.tif", shape=(24, 40))

    with pytest.raises(UserError) as refused:
        project.relink_image(ref.id, other)
    assert "24x40" in str(refused.value) and "32x32" in str(refused.value)
    assert str(other) in str(refused.value)
    assert project.image(ref.id).path == str(tmp_path / "cells.tif")

    project.relink_image(ref.id, moved)
    assert project.resolve_image_path(ref.id) == moved
    assert _learnt_from(project) == ["cells.tif"]  # (its file read again: not "missing")
    assert project.flush(10)  # (the history is appended in the background)
    entry = project.history()[-1]
    assert entry["action"] == "relink image" and entry["new"] == str(moved)
    project.close()
    reopened = Project.open(tmp_path / "project")
    try:
        assert reopened.find_image("cells.tif", str(moved)).id == ref.id
    finally:
        reopened.close()
