"""ReviewedRegions on big stacks: the passes over the masks an edit, its undo and the
reviewed fraction cost (flat indices, a count instead of a float mean), same results."""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.reviewed import ReviewedRegions


class Recorded(np.ndarray):
    """A mask that notes how it is indexed and which ufuncs run over it."""

    log: list = []

    def __getitem__(self, key):
        Recorded.log.append(("get", key))
        return super().__getitem__(key)

    def __setitem__(self, key, value):
        Recorded.log.append(("set", key))
        super().__setitem__(key, value)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        Recorded.log.append(("ufunc", ufunc.__name__, method))
        plain = [i.view(np.ndarray) if isinstance(i, Recorded) else i for i in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(o.view(np.ndarray) if isinstance(o, Recorded) else o
                                  for o in kwargs["out"])  # fmt: skip
        return getattr(ufunc, method)(*plain, **kwargs)


def _recorded(regions: ReviewedRegions) -> None:
    for name in ("_reviewed", "_changed"):
        setattr(regions, name, np.zeros(regions.shape, bool).view(Recorded))
    Recorded.log.clear()


def _tuple_fancy(log) -> list:
    """The indexings of a mask by a tuple of index arrays (one per axis)."""
    return [entry for entry in log if entry[0] in ("get", "set") and isinstance(entry[1], tuple)
            and any(isinstance(k, np.ndarray) and k.dtype != bool for k in entry[1])]


def _scattered_edit(shape, seed=0) -> LabelEdit:
    """Pixels scattered over every plane (as filling holes of every object changes)."""
    rng = np.random.default_rng(seed)
    flat = np.unique(rng.integers(0, int(np.prod(shape)), 400))
    indices = np.unravel_index(flat, shape)
    return LabelEdit(tuple(i.astype(np.int64) for i in indices), np.zeros(flat.size, np.int32),
                     np.full(flat.size, 5, np.int32))  # fmt: skip


def test_the_reviewed_fraction_counts_instead_of_averaging():
    regions = ReviewedRegions((4, 50, 60))
    _recorded(regions)
    regions._reviewed.view(np.ndarray)[1, :10, :12] = True
    Recorded.log.clear()
    assert regions.fraction() == 120 / (4 * 50 * 60)
    assert not [e for e in Recorded.log if e[0] == "ufunc"]  # (mean(): a float sum over all)


def test_an_edit_and_its_undo_index_the_masks_flat_with_the_same_marks():
    shape = (6, 64, 80)
    edit = _scattered_edit(shape)
    expected = ReviewedRegions(shape)
    expected.record_edit(edit)  # (plain masks: the reference marks)
    regions = ReviewedRegions(shape)
    _recorded(regions)
    regions._reviewed.view(np.ndarray)[2, :5, :5] = True  # (marked before: stays)
    regions._changed.view(np.ndarray)[edit.indices[0][0], edit.indices[1][0], edit.indices[2][0]] = True
    before = regions.mask.copy(), regions.changed.copy()
    added = regions.record_edit(edit)
    assert not _tuple_fancy(Recorded.log)
    np.testing.assert_array_equal(regions.changed, expected.changed)
    np.testing.assert_array_equal(regions.mask, expected.mask | before[0])
    Recorded.log.clear()
    regions.take_back(added)
    assert not _tuple_fancy(Recorded.log)
    np.testing.assert_array_equal(regions.mask, before[0])
    np.testing.assert_array_equal(regions.changed, before[1])


def test_masks_not_in_c_order_are_marked_and_taken_back_alike():
    shape = (5, 40, 50)
    edit = _scattered_edit(shape, seed=3)
    expected = ReviewedRegions(shape)
    expected.record_edit(edit)
    regions = ReviewedRegions(shape)
    regions._reviewed = np.asfortranarray(np.zeros(shape, bool))
    regions._changed = np.zeros((5, 40, 100), bool)[:, :, ::2]  # (a strided view)
    added = regions.record_edit(edit)
    np.testing.assert_array_equal(regions.changed, expected.changed)
    np.testing.assert_array_equal(regions.mask, expected.mask)
    regions.take_back(added)
    assert not regions.any() and not regions.changed.any()


def test_any_and_count_read_the_mask_once_per_change(monkeypatch):
    """The panels ask whether anything is reviewed at every layer event: over the mask of a
    1200 x 2048 x 2048 stack each ask held the window for 1 to 5 s after every correction."""
    from unet_studio.app import reviewed as module

    passes = []
    real = np.count_nonzero
    monkeypatch.setattr(module.np, "count_nonzero",
                        lambda a, *k, **kw: passes.append(a.size) or real(a, *k, **kw))
    regions = ReviewedRegions((4, 32, 32))
    assert not regions.any() and regions.count() == 0 and passes == []  # (no mask yet)
    regions.mark_slice(2)
    for _ in range(10):
        assert regions.any() and regions.count() == 32 * 32
    assert len(passes) == 1
    regions.mark_slice(2, reviewed=False)  # (every change is counted again)
    assert not regions.any() and regions.count() == 0 and len(passes) == 2
    regions.mark_mask(np.ones((4, 32, 32), bool))
    assert regions.count() == 4 * 32 * 32
    regions.clear()
    assert not regions.any()
