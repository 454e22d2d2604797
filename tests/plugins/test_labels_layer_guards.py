"""Labels layers the user brings that the Correct tools cannot use as the current image's
labels, in a real napari viewer: one of another shape is skipped (told once, pointing at
Open labels…), and napari's "Convert to Labels" of our lazily read image is made paintable
instead of raising TypeError / AttributeError in the tools."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


def test_a_users_labels_layer_of_another_shape_is_skipped_and_told_once(studio, told):
    image = np.zeros((5, 35, 35), np.uint16)  # (a crop of a time-lapse)
    studio.viewer.add_image(image, name="crop", metadata={"axes": "TYX"})
    full = np.zeros((5, 70, 110), np.int32)
    full[:, 10:20, 10:20] = 4
    studio.viewer.add_labels(full, name="full_seg")  # (active, as napari leaves it)

    assert studio.host.labels_layer() is None and studio.host.current_labels() is None
    (message,) = [m for level, m in told if "full_seg" in m]
    assert "'full_seg' is not used as the labels of 'crop'" in message
    assert "5 x 70 x 110 (ZYX)" in message and "5 x 35 x 35 (TYX)" in message
    assert "Correct > Open labels…" in message
    studio.host.labels_layer()  # (asked again: not told again)
    assert len([m for _, m in told if "full_seg" in m]) == 1

    # Nothing is marked or saved for the crop in the full-size layer.
    assert studio.session.ensure_reviewed() is None

    fitting = studio.viewer.add_labels(np.zeros((5, 35, 35), np.int32), name="fits")
    assert studio.host.labels_layer() is fitting


@pytest.mark.slow
def test_convert_to_labels_of_our_lazily_read_image_is_painted_by_the_tools(studio, told,
                                                                           tmp_path):
    from napari.layers._layer_actions import _convert_to_labels

    from unet_studio.app.corrections import delete_object_edit
    from unet_studio.app.io.lazy import LazyArray
    from unet_studio.app.label_ids import largest_label_id

    studio.viewer.add_image(np.zeros((3, 32, 32), np.uint16), name="hela_img",
                            metadata={"axes": "TYX"})
    ids = np.zeros((3, 32, 32), np.uint16)
    ids[:, 5:15, 5:15] = 9
    path = tmp_path / "errseg.tif"  # (compressed: our reader reads it lazily)
    tifffile.imwrite(path, ids, compression="zlib", photometric="minisblack",
                     metadata={"axes": "TYX"})
    (opened,) = studio.viewer.open(str(path), plugin="unet-studio")
    assert isinstance(opened.data, LazyArray)
    studio.viewer.layers.selection = {opened}
    with warnings.catch_warnings():  # (napari's own, of the projection mode it drops)
        warnings.simplefilter("ignore", UserWarning)
        _convert_to_labels(studio.viewer.layers)  # (napari's right-click "Convert to Labels")
    studio.session.select_image("hela_img")

    labels = studio.host.current_labels()
    assert isinstance(labels, np.ndarray) and labels.flags.writeable
    assert studio.host.labels_layer().name == "errseg"
    assert largest_label_id(labels) == 9  # (AttributeError: no 'max' on a LazyArray)
    studio.session.apply_edit(delete_object_edit(labels, 9))  # (TypeError: no item assignment)
    assert not labels.any()
    assert not [m for level, m in told if level != "info"]
