"""An image opened again after a restart, its corrections autosaved in an earlier session:
the app offers the project that holds them (a notification and a line in the Correct
panel), and one click brings the labels and reviewed marks back. The image opened with no
labels and nothing led to the earlier autosave project (lost annotations)."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.corrections import delete_object_edit

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_image_opened_again_offers_its_autosaved_corrections(
        studio, make_napari_viewer, nuclei_crop, nuclei_file_corrected, tmp_path, qtbot):
    import tifffile
    from qtpy.QtCore import Qt

    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.plugins.widgets import session_for

    path, session = nuclei_file_corrected, studio.session
    session.ensure_reviewed().mark_region((slice(2, 3), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    autosaved, expected = session.project.path, session.host.current_labels().copy()
    expected_reviewed = session.reviewed.mask.copy()
    other = tmp_path / "other.tif"  # (the project's second image: reopened last)
    tifffile.imwrite(other, nuclei_crop[0][:, :16], imagej=True, metadata={"axes": "ZYX"})
    studio.viewer.open(str(other), plugin="unet-studio")
    session.select_image("other")
    session.show_labels(np.zeros(nuclei_crop[1][:, :16].shape, np.int32))
    session._project_for_current()
    assert len(session.project.images) == 2
    session.close_project()  # (the window closes: a restart)
    studio.viewer.layers.clear()

    viewer = make_napari_viewer()  # (the app started again: a new viewer and session)
    again = session_for(viewer)
    panel = CorrectPanel(again)
    qtbot.addWidget(panel)
    told = []
    again.host.notify = lambda message, level="info", **_: told.append(message)
    viewer.open(str(path), plugin="unet-studio")
    assert again.host.current_labels() is None and again.project is None

    qtbot.waitUntil(lambda: not panel.saved_work_line.isHidden(), timeout=5000)
    line = panel.saved_work_line.text.text()
    assert line.startswith(f"nuclei.tif has corrections saved in {autosaved.name} (saved ")
    assert "  " not in line and "other image (other)" in line
    assert [m for m in told if "nuclei.tif has corrections saved" in m and str(autosaved) in m]
    assert again.project is None  # (offered, not opened unasked)

    qtbot.mouseClick(panel.saved_work_line.open_button, Qt.MouseButton.LeftButton)
    assert again.project is not None and again.project.path == autosaved
    np.testing.assert_array_equal(again.host.current_labels(), expected)
    np.testing.assert_array_equal(again.reviewed.mask, expected_reviewed)
    assert panel.saved_work_line.isHidden()  # (the offer goes once a project is open)
    # (the image the user opened is the current one, not the project's last reopened)
    assert again.host.current_image().name == "nuclei"
    names = [layer.name for layer in viewer.layers]
    assert names.count("nuclei") == 1 and "other" in names  # (the one open is the project's)
    assert viewer.layers.selection.active.name == "nuclei labels"
    again.close_project()



@pytest.mark.slow
def test_a_file_opened_with_its_project_is_offered_no_other_project(
        studio_home, tmp_path, nuclei_crop, make_napari_viewer, monkeypatch, qtbot):
    """``unet-studio gui FILE --project P``: napari's progress bar turns the event loop while
    the file opens, before P opens; the look for saved work ran then and told of the
    autosave project holding the file's earlier work, over the project being opened.
    (make_napari_viewer, unused, isolates napari's registries for open_studio's viewers.)"""
    import tifffile

    from unet_studio.app.launcher import open_studio
    from unet_studio.app.project import Project
    from unet_studio.plugins.napari_host import NapariHost

    told = []
    real = NapariHost.notify
    monkeypatch.setattr(NapariHost, "notify",
                        lambda host, message, level="info", **kw: told.append(message) or
                        real(host, message, level, **kw))
    path = tmp_path / "nuclei.tif"
    tifffile.imwrite(path, nuclei_crop[0], imagej=True, metadata={"axes": "ZYX"})
    viewer = open_studio([path], show=False, load_sample=False)
    try:  # (an earlier session's autosave project holds the file's work)
        session = viewer.window.dock_widgets["Correct (unet-studio)"].session
        session.show_labels(nuclei_crop[1].astype(np.int32), protect=False)
        session.apply_edit(delete_object_edit(session.host.current_labels(), 7))
        session.close_project()
    finally:
        viewer.close()
    Project.create(tmp_path / "chosen").close()
    told.clear()
    again = open_studio([path], show=False, load_sample=False, project=tmp_path / "chosen")
    try:
        qtbot.wait(50)
        session = again.window.dock_widgets["Correct (unet-studio)"].session
        assert session.project.path == tmp_path / "chosen"
        assert [m for m in told if "has corrections saved" in m] == []
    finally:
        session.close_project()
        again.close()
