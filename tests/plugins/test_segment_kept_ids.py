"""Segmenting again around reviewed regions keeps the ids of what was not predicted again."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


@pytest.mark.slow
def test_one_plane_of_a_z_before_t_stack_segmented_again_leaves_the_other_planes_ids(
        studio, qtbot, nuclei_crop):
    """Axes ZTYX (its result is shown at the end, not streamed): nuclei 5 and 6 go through
    every plane, reviewed in plane (z 0, t 0). Plane (z 2, t 1) segmented again changes
    that plane only: 5 and 6 keep their ids in the other planes (the reviewed ids' clashes
    were renumbered over the whole stack, splitting each nucleus in two)."""
    from unet_studio.app.qt.segment_panel import SegmentPanel

    image, _ = nuclei_crop
    data = np.ascontiguousarray(np.stack([image[:3, :32, :32], image[3:6, :32, :32]], axis=1))
    studio.viewer.add_image(data, name="zt", metadata={"axes": "ZTYX"})
    labels = np.zeros(data.shape, np.int32)
    labels[..., 4:12, 4:12], labels[..., 20:28, 20:28] = 5, 6
    session = studio.session
    session.show_labels(labels.copy())
    session.ensure_reviewed().mark_region((slice(0, 1), slice(0, 1), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    studio.viewer.dims.set_current_step(0, 2)
    studio.viewer.dims.set_current_step(1, 1)
    panel = SegmentPanel(session)
    qtbot.addWidget(panel)
    panel.scope_slice.setChecked(True)
    with qtbot.waitSignal(panel.finished, timeout=60_000) as blocker:
        panel.run()
    assert blocker.args[0].job.target[:2] == (slice(2, 3), slice(1, 2))
    shown = np.asarray(studio.host.current_labels())
    others = np.ones(data.shape[:2], bool)
    others[2, 1] = False
    np.testing.assert_array_equal(shown[others], labels[others])
