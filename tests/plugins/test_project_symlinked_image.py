"""An image whose project knows it through a symlinked folder, opened by its real path (and
the project through a symlink to its folder): the project recognises the image, whose
corrections come back on it. It was opened a second time ("nuclei [1]") with the
corrections, the layer opened left without them."""

from __future__ import annotations

import os

import numpy as np
import pytest

from unet_studio.app.corrections import delete_object_edit

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_image_opened_by_its_real_path_finds_its_corrections(
        studio_home, tmp_path, nuclei_crop, make_napari_viewer):
    """(make_napari_viewer, unused, isolates napari's registries for open_studio's viewers.)"""
    import tifffile

    from unet_studio.app.launcher import open_studio

    (tmp_path / "real").mkdir()
    tifffile.imwrite(tmp_path / "real" / "nuclei.tif", nuclei_crop[0], imagej=True,
                     metadata={"axes": "ZYX"})
    os.symlink(tmp_path / "real", tmp_path / "link")
    (tmp_path / "project").mkdir()
    os.symlink(tmp_path / "project", tmp_path / "projlink")
    viewer = open_studio([tmp_path / "link" / "nuclei.tif"], show=False, load_sample=False)
    try:
        session = viewer.window.dock_widgets["Correct (unet-studio)"].session
        session.open_project(tmp_path / "project", create=True)
        session.show_labels(nuclei_crop[1].astype(np.int32), protect=False)
        session.apply_edit(delete_object_edit(session.host.current_labels(), 7))
        expected = session.host.current_labels().copy()
        session.close_project()
    finally:
        viewer.close()
    again = open_studio([tmp_path / "real" / "nuclei.tif"], show=False, load_sample=False,
                        project=tmp_path / "projlink")
    try:
        session = again.window.dock_widgets["Segment (unet-studio)"].session
        names = [layer.name for layer in again.layers if layer.name != "reviewed"]
        assert names == ["nuclei", "nuclei labels"]  # (not "nuclei [1]" too)
        np.testing.assert_array_equal(session.host.current_labels(), expected)
    finally:
        session.close_project()
        again.close()
