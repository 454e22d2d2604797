"""A semantic model's labels are classes: a prediction around reviewed regions keeps them
classes (no id offset, no renumbering, no ids carried on as if they were objects)."""

from __future__ import annotations

import numpy as np

from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.qt.segment_logic import SegmentRequest, holds_instances
from unet_studio.app.reviewed import ReviewedRegions


def test_a_class_map_around_reviewed_pixels_keeps_its_classes():
    live = np.zeros((1, 8, 16), np.int32)
    live[0, :, :4] = 1  # the user's class 1, reviewed
    regions = ReviewedRegions(live.shape)
    regions.mark_region((slice(None), slice(None), slice(0, 6)))
    out = LiveLabelsDestination(live, (slice(None),) * 3, regions, instances=False)
    predicted = np.zeros_like(live)
    predicted[0, :, 10:14] = 1  # class 1 elsewhere, apart from the reviewed one
    predicted[0, 2:5, 7:9] = 2
    out[...] = predicted
    out.finish()
    assert (live[0, :, :4] == 1).all() and (live[0, :, 10:14] == 1).all()
    assert set(np.unique(live)) == {0, 1, 2}


def test_labels_hold_instances_only_for_an_instance_model():
    labels, mask = SegmentRequest(model_path="m"), SegmentRequest(model_path="m", output_type="mask")
    assert holds_instances(labels, {"kind": "instance"}) and holds_instances(labels, {})
    assert not holds_instances(labels, {"kind": "semantic"}) and not holds_instances(mask, {})
