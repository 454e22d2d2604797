"""An image opened again after a restart, its corrections autosaved in an earlier session:
the app offers the project that holds them (a notification and a line in the Correct
panel), and one click brings the labels and reviewed marks back. The image opened with no
labels and nothing led to the earlier autosave project (lost annotations)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.corrections import delete_object_edit

pytestmark = pytest.mark.qt


def test_image_opened_again_offers_its_autosaved_corrections(
        studio, make_napari_viewer, nuclei_crop, tmp_path, qtbot):
    import tifffile
    from qtpy.QtCore import Qt

    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.plugins.widgets import session_for

    path = tmp_path / "nuclei.tif"
    tifffile.imwrite(path, nuclei_crop[0], imagej=True, metadata={"axes": "ZYX"})
    studio.viewer.open(str(path), plugin="unet-studio")
    session = studio.session
    session.show_labels(nuclei_crop[1].copy(), protect=False)  # (starts the autosave project)
    session.apply_edit(delete_object_edit(session.host.current_labels(), 7))
    session.ensure_reviewed().mark_region((slice(2, 3), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    autosaved, expected = session.project.path, session.host.current_labels().copy()
    expected_reviewed = session.reviewed.mask.copy()
    session.close_project()  # (the window closes: a restart)
    studio.viewer.layers.clear()

    viewer = make_napari_viewer()  # (the app started again: a new viewer and session)
    again = session_for(viewer)
    panel = CorrectPanel(again)
    qtbot.addWidget(panel)
    told = []
    again.host.notify = lambda message, level="info": told.append(message)
    viewer.open(str(path), plugin="unet-studio")
    assert again.host.current_labels() is None and again.project is None

    qtbot.waitUntil(lambda: not panel.saved_work_line.isHidden(), timeout=5000)
    line = panel.saved_work_line.text.text()
    assert line.startswith(f"nuclei.tif has corrections saved in {autosaved.name} (saved ")
    assert [m for m in told if "nuclei.tif has corrections saved" in m and str(autosaved) in m]
    assert again.project is None  # (offered, not opened unasked)

    qtbot.mouseClick(panel.saved_work_line.open_button, Qt.MouseButton.LeftButton)
    assert again.project is not None and again.project.path == autosaved
    np.testing.assert_array_equal(again.host.current_labels(), expected)
    np.testing.assert_array_equal(again.reviewed.mask, expected_reviewed)
    assert panel.saved_work_line.isHidden()  # (the offer goes once a project is open)
    assert [layer.name for layer in viewer.layers if layer.name != "reviewed"] == [
        "nuclei", "nuclei labels"]  # (the image open is the project's: not opened twice)
    again.close_project()

