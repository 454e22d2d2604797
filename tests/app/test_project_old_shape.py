"""An image whose file changed shape after its labels were saved (replaced by another
image): its saved labels, reviewed marks and prediction of the old shape are set aside in
a folder of their own, never read as its labels nor overwritten by its new ones, and the
user is told where. Real projects on real folders."""

from __future__ import annotations

import json

import numpy as np

from unet_studio.app.project import Project

OLD, NEW = (20, 20), (16, 24)


def _saved_project(folder):
    """A closed project whose image "img" has labels, a prediction and reviewed marks of OLD."""
    project = Project.create(folder, autosave_delay=0.0)
    ref = project.add_image("img.tif", axes="YX", shape=OLD)
    labels = np.zeros(OLD, np.int32)
    labels[2:8, 3:9] = 5
    project.attach_labels(ref.id, labels)
    project.save_prediction(ref.id, labels)
    project.reviewed(ref.id, OLD).mark_region((slice(0, 4), slice(None)))
    project.save_reviewed(ref.id)
    project.close()
    return ref.id, labels


def _shape_on_disk(store) -> list[int]:
    return json.loads((store / "array.json").read_text())["shape"]


def test_work_of_another_shape_is_set_aside_and_new_labels_start_afresh(tmp_path):
    image_id, labels = _saved_project(tmp_path / "p")
    image_dir = tmp_path / "p" / "images" / image_id
    project = Project.open(tmp_path / "p", autosave_delay=0.0)
    try:
        assert project.set_aside_other_shape(image_id, NEW)
        [kept] = [p for p in image_dir.iterdir() if p.name.startswith("labels-old-shape-20x20-")]
        assert sorted(p.name for p in kept.iterdir()) == ["labels", "prediction", "reviewed.npz"]
        [told] = project.problems
        assert told.startswith(f"img.tif ({tmp_path / 'p' / 'img.tif'}) now opens")
        assert "16x24" in told and "20x20" in told and str(kept) in told
        assert project.labels(image_id) is None
        assert project.reviewed(image_id, NEW).shape == NEW
        assert project.image(image_id).shape == NEW
        project.attach_labels(image_id, np.ones(NEW, np.int32))
        assert project.flush(10)
        assert _shape_on_disk(image_dir / "labels") == list(NEW)
        assert _shape_on_disk(kept / "labels") == list(OLD)  # (the old work stays as saved)
    finally:
        project.close()
    again = Project.open(tmp_path / "p", autosave_delay=0.0)
    try:
        assert not again.set_aside_other_shape(image_id, NEW)  # (the new labels fit)
        assert again.labels(image_id).shape == NEW and again.problems == []
    finally:
        again.close()


def test_work_of_the_same_shape_stays(tmp_path):
    image_id, labels = _saved_project(tmp_path / "p")
    with Project.open(tmp_path / "p", autosave_delay=0.0) as project:
        assert not project.set_aside_other_shape(image_id, OLD)
        np.testing.assert_array_equal(project.labels(image_id), labels)
        assert project.problems == []


def test_a_read_only_opening_sets_it_aside_once_it_writes(tmp_path):
    """Another window writes the project: nothing is moved under it, nothing of the old
    shape is read here, and once this window writes the project the old work is set aside
    before its new labels are saved."""
    image_id, _ = _saved_project(tmp_path / "p")
    image_dir = tmp_path / "p" / "images" / image_id
    first = Project.open(tmp_path / "p", autosave_delay=0.0)
    second = Project.open(tmp_path / "p", autosave_delay=0.0)
    try:
        assert second.read_only and second.set_aside_other_shape(image_id, NEW)
        assert "stay as they are" in second.problems[0]
        assert second.labels(image_id) is None and second.reviewed(image_id, NEW).shape == NEW
        second.attach_labels(image_id, np.ones(NEW, np.int32))
        assert _shape_on_disk(image_dir / "labels") == list(OLD)  # (nothing written yet)
        first.close()
        assert second.sharing_problem() is None  # (it writes now)
        assert second.flush(10)
        [kept] = [p for p in image_dir.iterdir() if p.name.startswith("labels-old-shape-20x20-")]
        assert _shape_on_disk(kept / "labels") == list(OLD)
        assert _shape_on_disk(image_dir / "labels") == list(NEW)
    finally:
        first.close()
        second.close()
