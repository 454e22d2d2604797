"""The Segment panel segmenting a whole series again keeps the ids the user was shown."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

pytestmark = pytest.mark.qt


def test_a_series_segmented_again_keeps_the_ids_it_was_shown_with(studio, qtbot, test_data_dir):
    """HeLa nuclei (T, Y, X) segmented, then shown under other ids (the user renumbered
    them): the same prediction again gives every nucleus the id it was shown with, not
    the engine's numbering (colours, tables and tracks would all change meaning)."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    image = tifffile.imread(test_data_dir / "io_hela_tyx.tif")
    studio.viewer.add_image(image, name="hela", metadata={"axes": "TYX"})
    studio.session.set_model("bundled:default")
    panel = SegmentPanel(studio.session)
    qtbot.addWidget(panel)
    panel.scope_stack.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    first = np.array(studio.host.current_labels())
    ids = np.unique(first[first > 0])
    assert ids.size >= 2
    lookup = np.zeros(int(ids.max()) + 1, np.int32)
    lookup[ids] = 500 - ids  # (the other way round, above the engine's ids)
    shown = lookup[first]
    studio.session.show_labels(shown.copy())
    with qtbot.waitSignal(panel.finished, timeout=60_000):
        panel.run()
    np.testing.assert_array_equal(np.asarray(studio.host.current_labels()), shown)
