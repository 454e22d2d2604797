"""Labels with ids that cannot be learnt (negative ones) are refused before the round trains,
naming the labels layer and the image, in words rather than an exception's name."""

import numpy as np
import pytest

from unet_studio.app.errors import UserError
from unet_studio.app.reviewed import ReviewedRegions
from unet_studio.app.training_data import pending_example


def _pending(labels, **options):
    regions = ReviewedRegions(labels.shape)
    regions.mark_region((slice(10, 30), slice(10, 30)))
    image = np.zeros(labels.shape, np.uint16)
    return pending_example(image, "YX", labels, regions, name="good", percentiles=(1.0, 99.8),
                           **options)  # fmt: skip


def test_negative_ids_in_the_reviewed_part_are_refused_naming_layer_and_image():
    labels = np.zeros((64, 64), np.int32)
    labels[15:20, 15:20] = -2
    pending = _pending(labels, labels_name="neg labels")
    with pytest.raises(UserError) as refused:
        pending.cut()
    message = str(refused.value)
    assert message.startswith("Cannot train: 'neg labels', the labels of 'good', holds negative "
                              "ids (as low as -2)")
    assert "Paint those pixels with 0 (background) or an object's id" in message
    assert "ValueError" not in message


def test_labels_without_a_layer_name_are_named_by_their_image():
    labels = np.full((64, 64), -1, np.int16)
    with pytest.raises(UserError, match=r"^Cannot train: the labels of 'good' holds negative"):
        _pending(labels).cut()
