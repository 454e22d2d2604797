"""The Correct tools on a multichannel file opened as a layer per channel."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_the_correct_tools_name_the_channel_layer_that_has_the_labels(studio, qtbot, tmp_path,
                                                                      nuclei_crop):  # fmt: skip
    """Labels made on one channel's layer; the user then selects the other channel's layer
    (to adjust its contrast): the tools have no labels there, and say where they are."""
    import tifffile

    from unet_studio.app.errors import UserError
    from unet_studio.app.qt.correct_tools import ObjectTools

    image, labels = nuclei_crop
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, np.stack([image, image], axis=1), imagej=True, metadata={"axes": "ZCYX"})
    studio.viewer.open(str(path), plugin="unet-studio")
    studio.session.select_image("two [C1]")
    studio.session.show_labels(labels.copy())
    tools = ObjectTools(studio.session)
    assert tools._labels() is not None

    studio.viewer.layers.selection.active = studio.viewer.layers["two [C0]"]
    qtbot.waitUntil(lambda: studio.host.current_image().name == "two [C0]", timeout=5_000)
    with pytest.raises(UserError, match=r"two \[C0\] has no labels: .* channel layer two \[C1\]"):
        tools._labels()
