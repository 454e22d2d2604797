"""Pairs of label ids past 31 bits (uint32 near 2**32, uint64, from another tool) are found
and paired over time like small ones: ``models.id_pairs``, ``models.link_pairs`` (through
``time_links``), ``models.slab_label``."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.models import link_pairs
from unet_studio.models.id_pairs import distinct_pairs
from unet_studio.models.slab_label import _touching
from unet_studio.models.time_links import TimeLinker, matched_ids

# (dtype, offset added to every id): past 2**31, near the top of uint32, past 2**32, past 2**63
BIG_IDS = [(np.uint32, 2**31), (np.uint32, 2**32 - 100), (np.uint64, 2**40), (np.uint64, 2**64 - 100)]


def _shifted(ids: np.ndarray, dtype, offset: int) -> np.ndarray:
    """``ids`` with every nonzero one moved up by ``offset``, as ``dtype``."""
    big = np.asarray(ids).astype(dtype)
    big[big > 0] += dtype(offset)
    return big


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_distinct_pairs_of_large_ids_are_those_of_small_ones_shifted(dtype, offset):
    rng = np.random.default_rng(1)
    first, second = rng.integers(1, 6, 200), rng.integers(1, 9, 200)
    rows, counts = np.unique(np.stack([first, second], axis=1), axis=0, return_counts=True)
    firsts, seconds, found = distinct_pairs(_shifted(first, dtype, offset),
                                            _shifted(second, dtype, offset), counts=True)
    assert firsts.tolist() == _shifted(rows[:, 0], dtype, offset).tolist()
    assert seconds.tolist() == _shifted(rows[:, 1], dtype, offset).tolist()
    assert found.tolist() == counts.tolist()


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS)
def test_planes_touching_across_a_slab_border_pair_large_ids(dtype, offset):
    rng = np.random.default_rng(2)
    before, after = rng.integers(0, 5, (2, 9, 9))
    structure = ndi.generate_binary_structure(3, 3)
    expected = _touching(before, after, structure)
    found = _touching(_shifted(before, dtype, offset), _shifted(after, dtype, offset), structure)
    assert len(expected) > 10
    assert found.tolist() == _shifted(expected, dtype, offset).tolist()


def _two_time_points() -> tuple[np.ndarray, np.ndarray]:
    """Objects 1, 2, 3 moved a pixel, as 4, 3, 5 after (each spans a slab border)."""
    before, after = np.zeros((2, 12, 12), np.int64)
    before[1:4, 1:4], before[5:9, 4:7], before[10:12, 0:2] = 1, 2, 3
    after[1:4, 2:5], after[5:9, 3:6], after[10:12, 1:3] = 4, 3, 5
    return before, after


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS[:3])
def test_objects_with_large_ids_are_matched_over_time_as_small_ones(monkeypatch, dtype, offset):
    """(ids below 2**63: what ``Objects`` holds)"""
    monkeypatch.setattr(link_pairs, "SLAB_PIXELS", 36)  # overlaps counted 3 rows at a time
    before, after = _two_time_points()
    small = matched_ids(before, after)
    found = matched_ids(_shifted(before, dtype, offset), _shifted(after, dtype, offset))
    assert small == {4: 1, 3: 2, 5: 3}
    assert found == {new + offset: old + offset for new, old in small.items()}


@pytest.mark.parametrize(("dtype", "offset"), BIG_IDS[:3])
def test_a_series_seeded_with_large_ids_goes_on_under_them(dtype, offset):
    before, after = _two_time_points()
    engine = np.zeros_like(after, dtype)  # (the engine's ids: 1..N)
    engine[after > 0] = after[after > 0] - 2
    linker = TimeLinker(2)
    linker.seed(0, _shifted(before, dtype, offset))
    linker.link(1, engine)
    assert [int(engine[2, 3]), int(engine[6, 4]), int(engine[11, 2])] == [offset + 1, offset + 2, offset + 3]
