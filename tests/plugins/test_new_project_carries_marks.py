"""New project... and Open project... keep the work on the open image: its labels stay on
screen and go into the project opened, and so do their reviewed and changed marks (the part
of them that is training data), saved with them and counted on after later edits."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _panel(studio, qtbot):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    panel = CorrectPanel(studio.session)
    qtbot.addWidget(panel)
    return panel


def _mark_and_paint(studio, panel, qtbot, z: int, label: int) -> None:
    """Mark plane ``z`` reviewed (the panel's button), then paint a stroke in it (napari's
    brush) and wait for the session to note it."""
    studio.viewer.dims.set_point(0, z * 0.29)  # (world coordinates: the layer's Z scale)
    panel.mark_slice_button.click()
    layer = studio.host.labels_layer()
    layer.brush_size = 3
    layer.paint((z, 10, 10), label)
    qtbot.waitUntil(lambda: studio.session.reviewed.changed[z, 10, 10])


def _choose_folder(monkeypatch, folder) -> None:
    """The folder dialog of the panel's project buttons answers ``folder``."""
    from unet_studio.app.qt import correct_panel

    monkeypatch.setattr(correct_panel.QFileDialog, "getExistingDirectory",
                        lambda *args, **kwargs: str(folder))  # fmt: skip


def _saved(project):
    """(labels, reviewed regions) of the project's one image, read back from disk."""
    assert project.flush(10)
    reopened = type(project).open(project.path)
    try:
        [ref] = reopened.images
        labels = reopened.labels(ref.id).copy()
        return labels, reopened.reviewed(ref.id, labels.shape)
    finally:
        reopened.close()


def test_new_project_takes_the_marks_with_the_labels(corrected, qtbot, monkeypatch, tmp_path):
    session = corrected.session
    panel = _panel(corrected, qtbot)
    _mark_and_paint(corrected, panel, qtbot, 3, 90)
    shown_before = panel.reviewed_label.text()
    _choose_folder(monkeypatch, tmp_path / "new")

    panel.new_project_button.click()
    assert session.project.path == tmp_path / "new"
    assert panel.reviewed_label.text() == shown_before
    labels, regions = _saved(session.project)  # (saved at once, before any edit)
    assert (labels[3] == 90).any() and regions.mask[3].all() and regions.changed[3, 10, 10]

    _mark_and_paint(corrected, panel, qtbot, 8, 91)  # (edits go on into the same marks)
    qtbot.waitUntil(lambda: f"({session.reviewed.count():,})" in panel.reviewed_label.text())
    labels, regions = _saved(session.project)
    assert (labels[3] == 90).any() and (labels[8] == 91).any()
    np.testing.assert_array_equal(regions.mask, session.reviewed.mask)
    assert regions.mask[3].all() and regions.mask[8].all()
    assert regions.changed[3, 10, 10] and regions.changed[8, 10, 10]


def test_open_project_without_the_image_takes_its_marks_at_its_first_edit(
        corrected, qtbot, monkeypatch, tmp_path):
    from unet_studio.app.project import Project

    Project.create(tmp_path / "other").close()
    session = corrected.session
    panel = _panel(corrected, qtbot)
    _mark_and_paint(corrected, panel, qtbot, 3, 90)
    marked = session.reviewed.count()
    _choose_folder(monkeypatch, tmp_path / "other")

    panel.open_project_button.click()
    assert session.project.path == tmp_path / "other"
    assert session.reviewed.count() == marked  # (the labels on screen keep their marks)
    _mark_and_paint(corrected, panel, qtbot, 8, 91)
    labels, regions = _saved(session.project)
    assert (labels[3] == 90).any() and (labels[8] == 91).any()
    assert regions.mask[3].all() and regions.mask[8].all() and regions.changed[3, 10, 10]


def test_new_project_takes_every_open_image_with_its_marks(corrected, nuclei_crop, qtbot,
                                                           monkeypatch, tmp_path):
    session, viewer = corrected.session, corrected.viewer
    viewer.add_image(nuclei_crop[0][:, ::-1], name="flipped", metadata={"axes": "ZYX"},
                     scale=(0.29, 0.26, 0.26))  # fmt: skip
    session.select_image("flipped")
    session.show_labels(nuclei_crop[1][:, ::-1].copy(), protect=False)
    session.ensure_reviewed().mark_slice(5)
    session.reviewed_changed_by_user()
    session.select_image("nuclei")  # (current when the new project is made)
    _choose_folder(monkeypatch, tmp_path / "new")

    _panel(corrected, qtbot).new_project_button.click()
    project = session.project
    assert project.flush(10)
    reopened = type(project).open(project.path)
    try:
        ref = reopened.find_image("flipped")
        labels = reopened.labels(ref.id)
        np.testing.assert_array_equal(labels, nuclei_crop[1][:, ::-1])
        regions = reopened.reviewed(ref.id, labels.shape)
        assert regions.mask[5].all() and regions.count() == regions.mask[5].size
        assert reopened.find_image("nuclei") is not None
    finally:
        reopened.close()


def test_new_project_from_a_project_with_a_model_keeps_the_marks(corrected, qtbot, monkeypatch,
                                                                  tmp_path):
    """QA: the project's models now go along (copied in a worker), and the copy made current
    told the panels of a new model before the work was carried: the Train panel read the
    reviewed marks then, empty ones were made for the labels, and the marks were lost in
    memory and on disk ("Nothing reviewed yet"; a later Roll back re-predicted over them)."""
    import shutil

    from unet_studio.app.qt.train_panel import TrainPanel

    session = corrected.session
    panel = _panel(corrected, qtbot)
    train = TrainPanel(session)  # (it follows the model: the panel that read the marks early)
    qtbot.addWidget(train)
    _mark_and_paint(corrected, panel, qtbot, 3, 90)
    project = session.ensure_project()
    mine = project.models_dir / "mine"
    shutil.copytree(session.model.path, mine)  # (a round accepted into the project)
    session.set_model(session.library.get(str(mine)))
    shown_before, marked = panel.reviewed_label.text(), session.reviewed.count()
    _choose_folder(monkeypatch, tmp_path / "new")

    panel.new_project_button.click()
    qtbot.waitUntil(lambda: session.project.path == tmp_path / "new", timeout=10_000)
    assert session.model.path == tmp_path / "new" / "models" / "mine"
    assert session.reviewed.count() == marked and panel.reviewed_label.text() == shown_before
    labels, regions = _saved(session.project)
    assert (labels[3] == 90).any() and regions.mask[3].all() and regions.changed[3, 10, 10]
