"""A project's PNG or JPEG image opens again when the project is opened: the host opens an
image file with the reader that takes it (ours refuses PNG, leaving it to napari's)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_the_host_opens_a_png_image_file(studio, tmp_path):
    import imageio.v3 as iio

    pixels = np.random.default_rng(1).integers(0, 255, (30, 40), dtype=np.uint8)
    png = tmp_path / "snapshot.png"
    iio.imwrite(png, pixels)
    studio.host.open_image_file(png, name="snapshot")  # (as opening a project does)
    assert "snapshot" in studio.host.image_names()
    np.testing.assert_array_equal(np.asarray(studio.viewer.layers["snapshot"].data), pixels)
