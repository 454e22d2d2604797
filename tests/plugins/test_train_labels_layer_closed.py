"""Train after the user closed the labels layer of an image with reviewed corrections: the
Correct panel said "Reviewed: 20%" and Train "Ready", then Train refused with "nothing
reviewed yet" (plugin QA). The corrections are in the project: the round learns from them."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.qt


def test_a_round_learns_from_the_saved_corrections_of_an_image_whose_labels_layer_was_closed(
        corrected, nuclei_crop):
    from unet_studio.app.qt.train_logic import collect_examples

    viewer, session = corrected.viewer, corrected.session
    _, labels = nuclei_crop
    session.ensure_reviewed().mark_region((slice(3, 6), slice(None), slice(None)))
    session.reviewed_changed_by_user()
    assert session.project.flush(10)
    viewer.layers.remove(session.host.labels_layer())  # (the user closes it)
    assert session.host.current_labels() is None and session.host.current_image().name == "nuclei"

    (example,), problems = collect_examples(session, "project")
    assert problems == [] and example.name == "nuclei"
    box, kept, reviewed, _ = example.cut()  # (the saved labels and marks of the image)
    assert reviewed.all() and box[0].start <= 3 and box[0].stop >= 6
    np.testing.assert_array_equal(kept, labels[box])
