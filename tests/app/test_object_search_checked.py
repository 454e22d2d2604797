"""Finding a clicked object in labels of 4-64 M pixels: searched around the click, then
checked by a pass for the id elsewhere (no comparison of the whole array at once), with
always the answer of the whole search."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.label_edit import bounding_box
from unet_studio.app.object_search import CHECKED_SEARCH_PIXELS, object_box


class Compared(np.ndarray):
    """Labels that note the size of each comparison made over them."""

    sizes: list = []

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        plain = [i.view(np.ndarray) if isinstance(i, Compared) else i for i in inputs]
        if ufunc is np.equal:
            Compared.sizes.append(max(np.size(i) for i in plain))
        return getattr(ufunc, method)(*plain, **kwargs)

    def __getitem__(self, key):
        return np.asarray(super().__getitem__(key))


def _labels() -> np.ndarray:
    labels = np.zeros((16, 512, 512), np.int32)
    labels[3:9, 100:160, 200:230] = 5
    labels[3:9, 300:340, 300:340] = 6
    labels[14, 500:505, 10:12] = 6  # (a stray fragment of 6, far away)
    assert labels.size >= CHECKED_SEARCH_PIXELS
    return labels


@pytest.mark.parametrize("label_id, near", [
    (5, (5, 120, 210)),  # (around the click, and nowhere else)
    (6, (5, 320, 320)),  # (its fragment far away: the whole search's box, with it)
    (5, (5, 320, 320)),  # (clicked elsewhere: not in the first window)
    (9, (5, 120, 210)),  # (absent)
])  # fmt: skip
def test_the_box_is_the_whole_searchs(label_id, near):
    labels = _labels()
    expected = bounding_box(labels == label_id, 2)
    Compared.sizes.clear()
    assert object_box(labels.view(Compared), label_id, near, margin=2) == expected


def test_an_object_found_around_the_click_costs_no_comparison_of_the_whole_labels():
    labels = _labels().view(Compared)
    Compared.sizes.clear()
    assert object_box(labels, 5, (5, 120, 210)) == (slice(3, 9), slice(100, 160), slice(200, 230))
    assert all(size < labels.size // 4 for size in Compared.sizes)  # (was one of it all)
