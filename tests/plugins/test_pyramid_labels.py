"""A multi-resolution (pyramid) labels layer, which napari cannot paint, is left alone with a
warning: it is never the labels corrected nor saved into the project, and opening images
after it works. Labels open without any image are not saved into the project either."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def _pyramid(shape: tuple[int, ...]) -> list[np.ndarray]:
    """Two levels of labels, (*shape) and half of it in Y and X, with one object."""
    full = np.zeros(shape, np.int32)
    full[..., 10:30, 20:40] = 7
    return [full, np.ascontiguousarray(full[..., ::2, ::2])]


def test_images_open_after_a_pyramid_labels_layer(corrected, told, test_data_dir):
    """Project open, every layer closed, a pyramid opened, then two image files: both open,
    the pyramid is not their labels (the user is told once why) and stays as it was. Before,
    its list of levels was saved as the first image's labels, and that raised TypeError in
    every later opening."""
    viewer, session = corrected.viewer, corrected.session
    project = session.project
    for layer in list(viewer.layers):
        viewer.layers.remove(layer)
    levels = _pyramid((3, 64, 96))  # (io_hela_tyx's shape: it would be taken as its labels)
    pyramid = viewer.add_labels([level.copy() for level in levels], name="big labels")
    assert pyramid.multiscale
    for name in ("io_hela_tyx", "io_nuclei3d_zyx"):
        viewer.open(str(test_data_dir / f"{name}.tif"), plugin="unet-studio")
        assert corrected.host.current_image().name == name
        assert corrected.host.current_labels() is None
        ref = project.find_image(name, str(test_data_dir / f"{name}.tif"))
        assert ref is None or project.live_labels(ref.id) is None
    for level, kept in zip(pyramid.data, levels):
        np.testing.assert_array_equal(level, kept)
    warned = [message for level, message in told if "'big labels'" in message]
    assert len(warned) == 1 and "pyramid" in warned[0] and ".tif" in warned[0]
    assert all(level == "warning" for level, message in told if "'big labels'" in message)


def test_labels_opened_without_an_image_stay_out_of_the_project(corrected):
    """The image closed, a labels layer opened alone: it is the labels corrected, with
    reviewed marks of its shape, and the project gains no image. Before, the project was
    asked for the marks of image None (KeyError) when the labels layer was added."""
    viewer, session = corrected.viewer, corrected.session
    images_before = [ref.id for ref in session.project.images]
    viewer.layers.remove("nuclei")
    alone = viewer.add_labels(np.ones((20, 30), np.int32), name="alone")
    assert corrected.host.current_labels() is alone.data
    assert session.ensure_reviewed().shape == (20, 30)
    session.show_labels(np.full((20, 30), 2, np.int32))  # (saved with an image; here none)
    assert [ref.id for ref in session.project.images] == images_before
