"""FreshIds never hands out an id an object held earlier in the session, freed before the
first id was asked for too (QA: merge 13 into 11, then split: the new part got 13)."""

import numpy as np

from unet_studio.app.label_ids import FreshIds


def _labels() -> np.ndarray:
    labels = np.zeros((4, 6, 6), np.int32)
    labels[1, 0:2, 0:2], labels[1, 3:5, 3:5] = 11, 13
    return labels


def test_an_id_freed_before_the_first_request_is_not_handed_out():
    ids, labels = FreshIds(), _labels()
    merged = labels == 13
    labels[merged] = 11  # (merge 13 into 11, told as the edit)
    ids.saw_edit(labels, labels[merged], np.full(int(merged.sum()), 13, np.int32))
    assert ids.next_id(labels) == 14


def test_reading_the_labels_again_never_lowers_the_largest_seen():
    ids, labels = FreshIds(), _labels()
    assert ids.next_id(labels) == 14
    labels[labels == 13] = 0  # deleted, then the labels changed unseen (read again)
    ids.forget()
    assert ids.next_id(labels) == 14
    ids.saw_edit(None, np.array([0], np.int32))  # (an edit of labels not known)
    assert ids.next_id(labels) == 14
    other = _labels()[:, :, :3]  # another array: its own ids
    assert ids.next_id(other) == 12


def test_a_renumbering_starts_the_count_again_from_its_ids():
    ids, labels = FreshIds(), _labels()
    assert ids.next_id(labels) == 14
    was = labels.copy()
    labels[was == 11], labels[was == 13] = 1, 2  # (Relabel 1..N)
    ids.renumbered(labels)
    ids.saw_edit(labels, np.array([1, 2], np.int32))
    assert ids.next_id(labels) == 3
