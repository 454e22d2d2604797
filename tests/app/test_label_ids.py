"""FreshIds: the largest label id read once, then kept from the edits."""

import numpy as np
import pytest

from unet_studio.app.errors import UserError
from unet_studio.app.label_ids import FreshIds


def _labels(largest: int) -> np.ndarray:
    labels = np.zeros((4, 6, 6), np.int32)
    labels[1, 2:4, 2:4] = largest
    return labels


def test_the_labels_are_read_once_then_kept_from_the_edits():
    ids, labels = FreshIds(), _labels(7)
    assert ids.next_id(labels) == 8
    labels[0, 0, 0] = 50  # a write nobody reported: not seen, so the labels were not read again
    assert ids.next_id(labels) == 8
    ids.saw_edit(labels, np.array([12, 3], np.int32))
    assert ids.next_id(labels) == 13
    ids.saw_edit(labels, np.array([], np.int32))  # an empty edit changes nothing
    assert ids.next_id(labels) == 13
    ids.forget()
    assert ids.next_id(labels) == 51


def test_other_labels_or_an_edit_of_unknown_labels_are_read_again():
    ids, first, second = FreshIds(), _labels(7), _labels(3)
    assert ids.next_id(first) == 8
    assert ids.next_id(second) == 4  # another array (another image's labels)
    assert ids.next_id(first) == 8
    first[0, 0, 0] = 40
    ids.saw_edit(second, np.array([2], np.int32))  # an edit of labels not known: forget
    assert ids.next_id(first) == 41
    first[0, 0, 1] = 45
    ids.saw_edit(None, np.array([2], np.int32))
    assert ids.next_id(first) == 46


def test_labels_a_prediction_streams_into_are_read_at_every_id():
    ids, labels = FreshIds(), _labels(7)
    assert ids.next_id(labels) == 8
    ids.streaming_into(labels)
    labels[2, 0, 0] = 20  # a tile landed
    assert ids.next_id(labels) == 21
    labels[3, 0, 0] = 30
    assert ids.next_id(labels) == 31
    ids.streaming_into(None)  # the run ended: kept from edits again
    assert ids.next_id(labels) == 31
    labels[3, 0, 1] = 35
    assert ids.next_id(labels) == 31


def test_a_stream_that_tells_its_largest_id_costs_one_read_of_the_labels(monkeypatch):
    """While a prediction streams into a stack's labels, each Split or Add object asked for
    an id, and each read every pixel (seconds for labels on disk, on the GUI thread): the
    stream now says the largest id it wrote, and the labels are read once per run."""
    from unet_studio.app import label_ids

    reads = []
    real = label_ids.largest_label_id
    monkeypatch.setattr(label_ids, "largest_label_id", lambda a: reads.append(1) or real(a))
    ids, labels = FreshIds(), _labels(7)
    written = [0]
    ids.streaming_into(labels, lambda: written[0])
    labels[2, 0, 0], written[0] = 20, 20  # a tile landed
    assert ids.next_id(labels) == 21
    labels[3, 0, 0], written[0] = 30, 30
    assert ids.next_id(labels) == 31
    ids.saw_edit(labels, np.array([31]))  # the user's new object, meanwhile
    assert ids.next_id(labels) == 32
    assert len(reads) == 1


def test_no_id_left_in_the_labels_type():
    labels = np.zeros((3, 3), np.uint8)
    labels[0, 0] = 255
    with pytest.raises(UserError, match="no free label id left in a uint8 label image"):
        FreshIds().next_id(labels)
    assert FreshIds().next_id(np.zeros((0, 3), np.uint8)) == 1
