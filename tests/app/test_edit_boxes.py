"""The boxes an edit marks as reviewed: one per plane and new value, however it is grouped."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app import edit_boxes as boxes_module
from unet_studio.app.edit_boxes import edit_boxes
from unet_studio.app.label_edit import LabelEdit, diff_labels


def _edit() -> tuple[LabelEdit, set]:
    """Objects 3 and 8 painted in planes 1 and 2 of a (3, 20, 20) stack, and the boxes
    (margin 1) expected around each in each plane."""
    before = np.zeros((3, 20, 20), np.int32)
    after = before.copy()
    after[1, 2:5, 2:5] = after[2, 3:6, 2:5] = 3
    after[1, 14:17, 14:17] = 8
    expected = {((1, 2), (1, 6), (1, 6)), ((2, 3), (2, 7), (1, 6)), ((1, 2), (13, 18), (13, 18))}
    return diff_labels(before, after), expected


def _as_set(boxes) -> set:
    return {tuple((s.start, s.stop) for s in box) for box in boxes}


@pytest.mark.parametrize("sort_pixels", [1 << 20, 4])  # small edits sorted; big ones not
def test_a_box_per_plane_and_value_in_any_pixel_order(sort_pixels, monkeypatch):
    monkeypatch.setattr(boxes_module, "SORT_PIXELS", sort_pixels)
    edit, expected = _edit()
    assert _as_set(edit_boxes(edit, (3, 20, 20), 1)) == expected
    shuffled = np.random.default_rng(0).permutation(edit.size)  # (a host's own order)
    edit = LabelEdit(tuple(i[shuffled] for i in edit.indices), edit.old_values[shuffled],
                     edit.new_values[shuffled])  # fmt: skip
    assert _as_set(edit_boxes(edit, (3, 20, 20), 1)) == expected


def test_too_many_groups_or_values_give_a_box_per_plane(monkeypatch):
    edit, _ = _edit()
    per_plane = {((1, 2), (1, 18), (1, 18)), ((2, 3), (2, 7), (1, 6))}
    monkeypatch.setattr(boxes_module, "MAX_BOXES", 2)
    assert _as_set(edit_boxes(edit, (3, 20, 20), 1)) == per_plane
    monkeypatch.setattr(boxes_module, "SORT_PIXELS", 4)
    monkeypatch.setattr(boxes_module, "FEW_VALUES", 2)  # (3 and 8: five apart)
    assert _as_set(edit_boxes(edit, (3, 20, 20), 1)) == per_plane


def test_a_2d_edit_has_a_box_per_value_grown_on_both_axes():
    before = np.zeros((10, 10), np.int32)
    after = before.copy()
    after[0:2, 0:2], after[7:9, 7:9] = 4, 5
    assert _as_set(edit_boxes(diff_labels(before, after), (10, 10), 2)) == {
        ((0, 4), (0, 4)), ((5, 10), (5, 10))}
