"""Axes typed in the Segment panel's Axes box are what the image IS from the Run on: its
layer, its labels, napari's sliders and the project take them (and a reopened project keeps
them), so the object tools act per time point of a "TYX" typed over a guessed "ZYX". Typed
axes that would rearrange the pixels stay the run's only, and the panel says so."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


def _bare_tiff(path, data):
    """A multi-page TIFF that names no axes (read as a guess)."""
    tifffile.imwrite(path, data, metadata=None, photometric="minisblack")
    return path


def _type_axes(panel, qtbot, axes: str) -> None:
    panel.axes_edit.selectAll()
    qtbot.keyClicks(panel.axes_edit, axes)


def test_typed_time_axes_become_the_image_s_and_the_project_s(
        studio, qtbot, tmp_path, nuclei_crop, segment_panel_of, run_segment):
    from unet_studio.app.qt.correct_panel import CorrectPanel

    path = _bare_tiff(tmp_path / "frames.tif", np.ascontiguousarray(nuclei_crop[0][:5, :64, :64]))
    viewer, session = studio.viewer, studio.session
    viewer.open(str(path), plugin="unet-studio")
    panel = segment_panel_of(studio)
    assert panel.axes_edit.text() == "ZYX" and not panel.axes_note.isHidden()
    run_segment(panel)  # as read (a volume): the project records ZYX
    project = session.project
    assert [ref.axes for ref in project.images] == ["ZYX"]

    _type_axes(panel, qtbot, "TYX")
    run_segment(panel)
    layer = viewer.layers["frames"]
    assert layer.metadata["axes"] == "TYX" and tuple(layer.axis_labels) == ("T", "Y", "X")
    assert tuple(viewer.dims.axis_labels) == ("T", "Y", "X")
    assert studio.host.current_image().axes == "TYX"
    assert studio.host.labels_layer().metadata["axes"] == "TYX"
    assert panel.axes_edit.text() == "TYX" and panel.axes_note.isHidden()
    assert project.flush(10)
    saved = json.loads((project.path / "project.json").read_text("utf-8"))
    assert [image["axes"] for image in saved["images"]] == ["TYX"]

    # An object through every frame, deleted where it is clicked, at t=2: only there.
    labels = np.zeros((5, 64, 64), np.int32)
    labels[:, 20:30, 20:30] = 7
    session.show_labels(labels)
    correct = CorrectPanel(session)
    qtbot.addWidget(correct)
    correct.tool_buttons["delete"].click()
    studio.host.click((2.0, 25.0, 25.0))
    shown = studio.host.current_labels()
    assert not (shown[2] == 7).any()
    assert all((shown[t] == 7).any() for t in (0, 1, 3, 4))

    # Reopened, the project gives the image its axes again (its file still names none).
    folder = project.path
    session.close_project()
    viewer.layers.clear()
    session.open_project(folder)
    assert viewer.layers["frames"].metadata["axes"] == "TYX"
    assert studio.host.current_image().axes == "TYX" and panel.axes_edit.text() == "TYX"


def test_typed_axes_in_another_order_leave_the_layer_and_say_so(
        studio, qtbot, nuclei_crop, segment_panel_of, run_segment):
    image = np.ascontiguousarray(nuclei_crop[0][:6, :32, :32]).reshape(3, 2, 32, 32)
    viewer = studio.viewer
    viewer.add_image(image, name="stack", metadata={"axes": "TZYX"})
    panel = segment_panel_of(studio)
    assert panel.axes_edit.text() == "TZYX"
    _type_axes(panel, qtbot, "ZTYX")
    note = panel.axes_note.text()
    assert not panel.axes_note.isHidden()
    assert note.startswith("ZTYX puts the axes in another order") and "keeps its axes TZYX" in note
    result = run_segment(panel)
    assert result.job.axes == "ZTYX"  # the run reads them as typed
    assert studio.host.current_image().axes == "TZYX"  # the layer keeps its own
    assert viewer.layers["stack"].metadata["axes"] == "TZYX"
    assert panel.axes_edit.text() == "ZTYX" and panel.axes_note.text() == note
