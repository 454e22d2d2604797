"""No lost work: a project saved and reopened restores labels and reviewed regions, and so
does one whose app was killed in the middle of editing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from unet_studio.app.corrections import delete_object_edit

pytestmark = pytest.mark.qt


def _reopen(make_napari_viewer, image, project_dir):
    """A fresh viewer with the same image, the project opened through the session."""
    from unet_studio.plugins.widgets import session_for

    viewer = make_napari_viewer()
    viewer.add_image(image, name="nuclei", metadata={"axes": "ZYX"})
    session = session_for(viewer)
    session.open_project(project_dir)
    return viewer, session


def _correct(session, labels, delete_id: int, reviewed_z: int) -> np.ndarray:
    """Show ``labels`` for the current image, delete one object, review one slice; returns
    the corrected labels (a copy)."""
    session.show_labels(labels, protect=False)
    session.apply_edit(delete_object_edit(session.host.current_labels(), delete_id))
    session.ensure_reviewed().mark_region((slice(reviewed_z, reviewed_z + 1), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    return session.host.current_labels().copy()


@pytest.mark.slow
def test_launcher_reopens_a_project(studio_home, tmp_path, nuclei_crop, make_napari_viewer):
    """``unet-studio gui IMAGE --project DIR`` restores the corrections made on IMAGE.
    (make_napari_viewer, unused, isolates napari's registries for open_studio's viewers.)"""
    import tifffile

    from unet_studio.app.launcher import open_studio

    image_path = tmp_path / "nuclei.tif"
    tifffile.imwrite(image_path, nuclei_crop[0], imagej=True, metadata={"axes": "ZYX"})
    viewer = open_studio([image_path], show=False, load_sample=False)
    try:
        session = viewer.window.dock_widgets["Correct (unet-studio)"].session
        session.open_project(tmp_path / "project", create=True)
        session.show_labels(nuclei_crop[1].astype(np.int32), protect=False)
        session.apply_edit(delete_object_edit(session.host.current_labels(), 7))
        expected = session.host.current_labels().copy()
        session.close_project()
    finally:
        viewer.close()
    again = open_studio([image_path], show=False, load_sample=False, project=tmp_path / "project")
    try:
        session = again.window.dock_widgets["Segment (unet-studio)"].session
        np.testing.assert_array_equal(session.host.current_labels(), expected)
    finally:
        session.close_project()
        again.close()


@pytest.mark.slow
def test_save_and_reopen_project(corrected, make_napari_viewer, nuclei_crop, tmp_path):
    session = corrected.session
    session.open_project(tmp_path / "project", create=True)
    expected = _correct(session, nuclei_crop[1].copy(), 7, 2)
    expected_reviewed = session.reviewed.mask.copy()
    session.close_project()  # flushes

    viewer, reopened = _reopen(make_napari_viewer, nuclei_crop[0], tmp_path / "project")
    try:
        np.testing.assert_array_equal(reopened.host.current_labels(), expected)
        np.testing.assert_array_equal(reopened.reviewed.mask, expected_reviewed)
        assert "reviewed" in viewer.layers  # the overlay is back too
    finally:
        reopened.close_project()


EDITING_APP = textwrap.dedent("""
    import sys, time
    import numpy as np, tifffile
    import napari
    from qtpy.QtWidgets import QApplication
    from unet_studio.app.corrections import delete_object_edit, merge_labels_edit
    from unet_studio.plugins.widgets import session_for

    data, project = sys.argv[1], sys.argv[2]
    viewer = napari.Viewer(show=False)
    viewer.add_image(tifffile.imread(f"{data}/gui_nuclei3d_img.tif"), name="nuclei",
                     metadata={"axes": "ZYX"})
    session = session_for(viewer)
    session.open_project(project, create=True)
    session.show_labels(tifffile.imread(f"{data}/gui_nuclei3d_labels.tif").astype(np.int32))
    labels = session.host.current_labels()
    session.apply_edit(delete_object_edit(labels, 7))
    session.apply_edit(merge_labels_edit(labels, [8, 11]))
    session.host.labels_layer().paint((6, 5, 5), 42)
    app = QApplication.instance()
    for _ in range(10):
        app.processEvents()
    print("EDITED", flush=True)
    while True:  # the user keeps looking at the screen; the autosave thread runs
        app.processEvents()
        time.sleep(0.02)
""")


@pytest.mark.slow
def test_kill_mid_edit_then_recover(make_napari_viewer, studio_home, nuclei_crop, tmp_path):
    from pathlib import Path

    data = Path(__file__).resolve().parents[1] / "data"
    project = tmp_path / "killed"
    app = subprocess.Popen(
        [sys.executable, "-c", EDITING_APP, str(data), str(project)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )
    try:
        line = app.stdout.readline()
        assert line.strip() == "EDITED", app.stderr.read()
        time.sleep(2.5)  # a few seconds after the last edit: it must be on disk by now
    finally:
        app.send_signal(signal.SIGKILL)  # no clean shutdown, no flush
        app.wait(10)
    assert app.returncode == -signal.SIGKILL

    labels = nuclei_crop[1].astype(np.int32)
    labels[labels == 7] = 0  # delete 7
    labels[labels == 11] = 8  # merge 8 and 11 into 8
    viewer, session = _reopen(make_napari_viewer, nuclei_crop[0], project)
    try:
        restored = session.host.current_labels()
        assert restored is not None and restored.shape == labels.shape
        brushed = restored == 42  # napari's brush stroke around (6, 5, 5), on plane 6 only
        assert brushed[6, 5, 5] and not brushed[:6].any() and not brushed[7:].any()
        np.testing.assert_array_equal(restored[~brushed], labels[~brushed])
        assert session.reviewed.changed[6, 5, 5]  # reviewed regions came back too
    finally:
        session.close_project()


@pytest.mark.slow
def test_every_image_of_a_reopened_project_gets_its_corrections_back(
    corrected, make_napari_viewer, nuclei_crop, tmp_path, qtbot
):
    """A project with two corrected images, reopened with both: the image shown first gets
    its labels at once, the other when the user turns to it (layer list or Segment panel),
    so a new prediction there keeps its reviewed corrections instead of zeros."""
    from unet_studio.app.qt.segment_panel import SegmentPanel
    from unet_studio.plugins.widgets import session_for

    session, host, viewer = corrected.session, corrected.host, corrected.viewer
    session.open_project(tmp_path / "project", create=True)
    first = _correct(session, nuclei_crop[1].copy(), 7, 2)
    other_image = nuclei_crop[0][:, ::-1].copy()
    viewer.add_image(other_image, name="other", metadata={"axes": "ZYX"})
    host.select_image("other")
    second = _correct(session, nuclei_crop[1][:, ::-1].copy(), 3, 5)
    session.close_project()

    viewer = make_napari_viewer()
    viewer.add_image(nuclei_crop[0], name="nuclei", metadata={"axes": "ZYX"})
    viewer.add_image(other_image, name="other", metadata={"axes": "ZYX"})
    reopened = session_for(viewer)
    reopened.set_model(str(session.model.path))
    try:
        reopened.open_project(tmp_path / "project")
        np.testing.assert_array_equal(reopened.host.current_labels(), second)  # "other" is active
        viewer.layers.selection.active = viewer.layers["nuclei"]  # chosen in the layer list
        np.testing.assert_array_equal(reopened.host.current_labels(), first)
        assert reopened.ensure_reviewed().mask[2].all()
        panel = SegmentPanel(reopened)
        qtbot.addWidget(panel)
        panel.image_combo.setCurrentText("other")  # chosen in the Segment panel
        panel.image_combo.activated.emit(panel.image_combo.currentIndex())
        np.testing.assert_array_equal(reopened.host.current_labels(), second)
        with qtbot.waitSignal(panel.finished, timeout=60_000):
            panel.run()
        labels = reopened.host.current_labels()
        np.testing.assert_array_equal(labels[5], second[5])  # the reviewed slice is kept
        assert reopened.ensure_reviewed().mask[5].all()
        np.testing.assert_array_equal(viewer.layers["nuclei labels"].data, first)
    finally:
        reopened.close_project()


@pytest.mark.slow
def test_opening_a_project_opens_its_images(studio, make_napari_viewer, nuclei_crop, tmp_path,
                                            monkeypatch):
    """Opening a project in an empty viewer opens its images from their files, each with its
    corrections; an image whose file went missing is named in a warning."""
    import tifffile

    from unet_studio.plugins.widgets import session_for

    session, host, viewer = studio.session, studio.host, studio.viewer
    session.open_project(tmp_path / "project", create=True)
    saved = {}
    for name, flip in (("a", False), ("b", True), ("gone", False)):
        image = nuclei_crop[0][:, ::-1] if flip else nuclei_crop[0]
        tifffile.imwrite(tmp_path / f"{name}.tif", image, imagej=True, metadata={"axes": "ZYX"})
        viewer.open(tmp_path / f"{name}.tif", plugin="unet-studio")
        session.show_labels(nuclei_crop[1].copy(), protect=False)
        session.apply_edit(delete_object_edit(host.current_labels(), 3 + len(saved)))
        saved[name] = host.current_labels().copy()
    session.close_project()
    (tmp_path / "gone.tif").unlink()

    viewer = make_napari_viewer()
    reopened = session_for(viewer)
    told = []
    monkeypatch.setattr(reopened.host, "notify", lambda message, level="info", **_: told.append((message, level)))
    try:
        reopened.open_project(tmp_path / "project")
        assert [layer.name for layer in viewer.layers if layer.name in saved] == ["a", "b"]
        current = reopened.host.current_image().name
        np.testing.assert_array_equal(reopened.host.current_labels(), saved[current])
        other = "a" if current == "b" else "b"
        viewer.layers.selection.active = viewer.layers[other]
        np.testing.assert_array_equal(reopened.host.current_labels(), saved[other])
        assert any("gone" in message and str(tmp_path / "gone.tif") in message and level == "warning"
                   for message, level in told)
    finally:
        reopened.close_project()


@pytest.mark.slow
def test_closed_labels_stay_closed_until_the_image_is_chosen_again(corrected, qtbot):
    """Closing an image's labels layer closes it (the corrections stay in the project); when
    the user turns to another image and back, they return."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    session, host, viewer = corrected.session, corrected.host, corrected.viewer
    corrected_labels = _correct(session, np.array(host.current_labels()), 7, 2)
    panel = SegmentPanel(session)  # docked, it follows every layer change
    qtbot.addWidget(panel)
    viewer.layers.remove("nuclei labels")
    assert "nuclei labels" not in viewer.layers and host.current_labels() is None
    viewer.add_image(np.zeros((12, 96, 96), np.uint16), name="other", metadata={"axes": "ZYX"})
    viewer.layers.selection.active = viewer.layers["nuclei"]
    np.testing.assert_array_equal(viewer.layers["nuclei labels"].data, corrected_labels)
    assert session.ensure_reviewed().mask[2].all()


def test_edits_on_a_labels_layer_the_user_opened_are_saved(corrected, tmp_path):
    """The user opens labels of their own for the image (not made by the app) and corrects
    them: those labels become the image's corrections in the project, edits included."""
    session, viewer = corrected.session, corrected.viewer
    session.open_project(tmp_path / "project", create=True)
    _correct(session, np.array(corrected.host.current_labels()), 7, 2)
    mine = np.array(viewer.layers["nuclei labels"].data)[:, :, ::-1].copy()  # other labels
    viewer.add_labels(mine, name="my labels")  # active, and nobody's: it serves the image
    assert corrected.host.current_labels() is mine
    object_id = int(mine[6, 48, 48]) or int(mine[6].max())
    session.apply_edit(delete_object_edit(mine, object_id))
    project = session.project
    image_id = session.current_image_id()
    project.flush()
    from unet_studio.app.chunk_store import ChunkStore

    saved, _ = ChunkStore(project.path / "images" / image_id / "labels").read()
    np.testing.assert_array_equal(saved, mine)
    assert not (saved == object_id).any()


@pytest.mark.slow
def test_a_renamed_image_keeps_its_labels_and_corrections(studio, make_napari_viewer, nuclei_crop,
                                                          tmp_path):
    """The user renames an image layer after correcting it: its labels layer, reviewed marks
    and project corrections stay with it (before, its labels no longer served it and a new,
    empty project image was made), and reopening the project brings it back under the new
    name, opened from its file."""
    import tifffile

    from unet_studio.plugins.widgets import session_for

    session, host, viewer = studio.session, studio.host, studio.viewer
    tifffile.imwrite(tmp_path / "nuclei.tif", nuclei_crop[0], imagej=True, metadata={"axes": "ZYX"})
    viewer.open(tmp_path / "nuclei.tif", plugin="unet-studio")
    session.open_project(tmp_path / "project", create=True)
    labels = _correct(session, nuclei_crop[1].copy(), 7, 2)
    image_id = session.current_image_id()
    from unet_studio.app.qt.train_logic import load_replay, remember_examples
    from unet_studio.models.training import TrainingExample

    remember_examples(session.project, [TrainingExample(nuclei_crop[0][2], labels[2], name="nuclei")])

    viewer.layers["nuclei"].name = "cells"
    # An accepted round's example of it is its example still: its next round replaces it.
    assert [example.name for example in load_replay(session.project).examples] == ["cells"]
    assert "cells labels" in viewer.layers and "nuclei labels" not in viewer.layers
    assert host.current_image().name == "cells"
    np.testing.assert_array_equal(host.current_labels(), labels)
    session.apply_edit(delete_object_edit(host.current_labels(), 3))  # still editable, still saved
    labels = host.current_labels().copy()
    assert session.current_image_id() == image_id
    assert [ref.name for ref in session.project.images] == ["cells"]
    session.close_project()

    viewer = make_napari_viewer()
    reopened = session_for(viewer)
    try:
        reopened.open_project(tmp_path / "project")
        assert [layer.name for layer in viewer.layers if layer.name.startswith("cells")] == \
            ["cells", "cells labels"]
        np.testing.assert_array_equal(reopened.host.current_labels(), labels)
        assert reopened.ensure_reviewed().mask[2].all()
    finally:
        reopened.close_project()

    # Its file opened first (under the file's name), then the project: that layer is the
    # project's image, renamed, not opened a second time.
    viewer = make_napari_viewer()
    reopened = session_for(viewer)
    viewer.open(tmp_path / "nuclei.tif", plugin="unet-studio")
    try:
        reopened.open_project(tmp_path / "project")
        assert [layer.name for layer in viewer.layers if layer.name != "reviewed"] == \
            ["cells", "cells labels"]
        np.testing.assert_array_equal(reopened.host.current_labels(), labels)
        assert reopened.current_image_id() == image_id
    finally:
        reopened.close_project()
