"""An image that is series 2 of a multi-series file, corrected in a project: the project
keeps which series it is, so that reopening the project opens that series again (with its
labels), training reads that series' pixels from the file, and the saved-work offer finds
the work for that series only. It reopened as the file's first series (labels set aside as
another shape) and training read the first series' pixels under its labels."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from unet_studio.app.corrections import delete_object_edit

pytestmark = pytest.mark.qt


@pytest.fixture
def two_series_tiff(tmp_path):
    """An OME-TIFF holding a YX image (series 1) and a ZYX stack (series 2)."""
    path = tmp_path / "plate.ome.tif"
    first = np.arange(20 * 24, dtype=np.uint16).reshape(20, 24)
    second = (np.arange(3 * 16 * 16, dtype=np.uint16) * 7).reshape(3, 16, 16)
    with tifffile.TiffWriter(path, ome=True) as tif:
        tif.write(first, metadata={"axes": "YX"})
        tif.write(second, metadata={"axes": "ZYX"})
    return path, second


def _session(viewer):
    return viewer.window.dock_widgets["Correct (unet-studio)"].session


@pytest.mark.slow
def test_series_2_comes_back_as_series_2_and_trains_on_its_pixels(
        studio_home, make_napari_viewer, two_series_tiff):
    """(make_napari_viewer, unused, isolates napari's registries for open_studio's viewers.)"""
    from unet_studio.app.launcher import open_studio
    from unet_studio.app.qt.session_autosave import autosave_home
    from unet_studio.app.saved_work import find_saved_work
    from unet_studio.app.training_data import project_examples

    path, second = two_series_tiff
    labels = np.zeros(second.shape, np.int32)
    labels[:, 2:6, 2:6], labels[:, 9:14, 9:14] = 1, 2
    viewer = open_studio([path], show=False, load_sample=False, series=1)
    try:
        session = _session(viewer)
        session.show_labels(labels, protect=False)
        session.apply_edit(delete_object_edit(session.host.current_labels(), 1))  # (autosaves)
        expected = session.host.current_labels().copy()
        folder = session.project.path
        session.close_project()
    finally:
        viewer.close()

    again = open_studio([], show=False, load_sample=False, project=folder)
    try:
        session = _session(again)
        layer = again.layers["plate [series 2]"]
        np.testing.assert_array_equal(np.asarray(layer.data), second)
        session.select_image(layer.name)
        np.testing.assert_array_equal(session.host.current_labels(), expected)

        # training reads the image from its file (no open layer): series 2's pixels
        (example,), problems = project_examples(
            session.project, skip=set(), open_image=lambda name: None,
            percentiles=(1.0, 99.0), spatial_dims=2)
        assert problems == []
        with example.open_pixels() as pixels:
            np.testing.assert_array_equal(np.asarray(pixels), second)
    finally:
        session.close_project()
        again.close()

    # the saved-work offer: the work is series 2's, not the file's first image's
    assert [work.project for work in find_saved_work(path, [autosave_home()], series=1)] \
        == [folder]
    assert find_saved_work(path, [autosave_home()]) == []

    # and in the app: series 2 opened again offers it; series 1 offers nothing
    from qtpy.QtWidgets import QApplication

    for series, offered in ((1, True), (0, False)):
        viewer = open_studio([path], show=False, load_sample=False, series=series)
        try:
            session = _session(viewer)
            offer = session.saved_work
            for _ in range(20):  # (looked for once the event loop turns)
                QApplication.processEvents()
            assert bool(offer.found) == offered
            assert not offered or offer.found[0].project == folder
        finally:
            viewer.close()
