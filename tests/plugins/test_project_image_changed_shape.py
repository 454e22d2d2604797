"""A project image whose file was replaced by one of another shape: opening the project
shows none of its old labels over the new pixels, says so naming the file, both shapes and
where the old labels are kept, and a new Segment run saves new labels beside them instead
of over them. The Segment panel's Done line of the run before does not outlive the
opening."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


def _write_image(path, shape) -> None:
    pixels = np.random.default_rng(0).integers(0, 1000, shape, dtype=np.uint16)
    tifffile.imwrite(path, pixels, imagej=True, metadata={"axes": "YX"})


def _saved_shape(store) -> list[int]:
    return json.loads((store / "array.json").read_text())["shape"]


@pytest.mark.slow
def test_labels_of_the_old_shape_are_set_aside_not_shown(studio, told, segment_panel_of,
                                                         run_segment, tmp_path):
    from napari.layers import Labels

    viewer, session = studio.viewer, studio.session
    image = tmp_path / "cells.tif"
    _write_image(image, (32, 32))
    viewer.open(str(image), plugin="unet-studio")
    session.open_project(tmp_path / "project", create=True)
    panel = segment_panel_of(studio)
    run_segment(panel)
    session.ensure_reviewed().mark_region((slice(0, 8), slice(None)))
    session.reviewed_changed_by_user()
    assert panel.status.text().startswith("Done: cells segmented")
    session.close_project()
    viewer.layers.clear()
    _write_image(image, (24, 40))  # (the file replaced)

    session.open_project(tmp_path / "project")
    image_dir = tmp_path / "project" / "images" / session.project.images[0].id
    [kept] = [p for p in image_dir.iterdir() if p.name.startswith("labels-old-shape-32x32-")]
    warnings = [message for level, message in told if level == "warning"]
    assert [m for m in warnings if str(image) in m and "24x40" in m and "32x32" in m
            and str(kept) in m]  # fmt: skip
    assert not [layer for layer in viewer.layers if isinstance(layer, Labels)]
    assert not panel.status.text().startswith("Done:")

    run_segment(panel)
    assert session.host.current_labels().shape == (24, 40)
    assert session.project.flush(10)
    assert _saved_shape(image_dir / "labels") == [24, 40]
    assert _saved_shape(kept / "labels") == [32, 32]  # (the old labels kept as they were)
    assert (kept / "reviewed.npz").exists()
