"""Object matching scores on hand-made label images with known answers."""

import numpy as np
import pytest

from unet_studio.models.metrics import (
    OverlapTable,
    match,
    object_overlaps,
    object_scores,
    object_scores_many,
)


def _scene():
    """gt: three 10x10 squares. pred: one exact, one shifted (IoU 0.6), one missing, one extra."""
    gt = np.zeros((40, 60), dtype=np.uint16)
    pred = np.zeros_like(gt)
    gt[2:12, 2:12] = 1
    pred[2:12, 2:12] = 9
    gt[2:12, 20:30] = 2
    pred[2:12, 22:32] = 4  # overlap 10x8 = 80, union 120 -> IoU 2/3
    gt[20:30, 2:12] = 3  # missed
    pred[20:30, 40:50] = 5  # false positive
    return pred, gt


def test_known_scores():
    pred, gt = _scene()
    scores = object_scores(pred, gt)
    # IoU 0.5: TP 2, FP 1, FN 1.  IoU 0.75: TP 1, FP 2, FN 2.
    assert scores["f1_50"] == pytest.approx(4 / 6)
    assert scores["ap_50"] == pytest.approx(2 / 4)
    assert scores["f1_75"] == pytest.approx(2 / 6)
    assert scores["ap_75"] == pytest.approx(1 / 5)
    assert scores["mean_matched_iou"] == pytest.approx((1 + 2 / 3) / 2)
    assert (scores["n_pred"], scores["n_true"]) == (3, 3)
    assert scores["precision_50"] == pytest.approx(2 / 3)
    assert scores["recall_50"] == pytest.approx(2 / 3)


def test_ids_do_not_matter_and_3d_works():
    pred, gt = _scene()
    shuffled = np.where(pred > 0, pred * 1000 + 7, 0)
    assert object_scores(shuffled, gt) == object_scores(pred, gt)
    pred3, gt3 = np.stack([pred] * 4), np.stack([gt] * 4)
    assert object_scores(pred3, gt3)["f1_50"] == pytest.approx(4 / 6)


def test_identical_and_empty():
    _, gt = _scene()
    perfect = object_scores(gt, gt)
    assert perfect["f1_75"] == perfect["ap_75"] == perfect["mean_matched_iou"] == 1.0
    empty = np.zeros_like(gt)
    assert object_scores(empty, empty)["f1_50"] == 1.0
    nothing_found = object_scores(empty, gt)
    assert nothing_found["f1_50"] == 0.0 and nothing_found["n_true"] == 3


def test_an_exact_tie_at_half_is_matched_once():
    # One predicted pixel pair overlapping two one-pixel objects with IoU exactly 0.5 each.
    gt = np.array([[1, 2]])
    pred = np.array([[5, 5]])
    overlaps = object_overlaps(pred, gt)
    assert sorted(overlaps.iou.tolist()) == [0.5, 0.5]
    p, t, _ = match(overlaps, 0.5)
    assert len(p) == len(t) == 1
    assert object_scores(pred, gt)["f1_50"] == pytest.approx(2 / 3)


def test_low_threshold_uses_the_optimal_assignment():
    # pred A overlaps gt 1 (IoU 0.25) and gt 2 (0.2); pred B overlaps only gt 1 (IoU 0.31).
    # Matching each prediction to its best object would pair A-1 and leave B and gt 2 out;
    # the optimal assignment pairs A-2 and B-1.
    gt = np.zeros((1, 40), dtype=int)
    pred = np.zeros_like(gt)
    gt[0, 0:10], gt[0, 20:30] = 1, 2
    pred[0, 4:16], pred[0, 17:25] = 3, 3  # A: 6 px in gt1, 5 in gt2
    pred[0, 0:4], pred[0, 30:33] = 4, 4
    overlaps = object_overlaps(pred, gt)
    p, t, _ = match(overlaps, 0.15)
    assert sorted(zip(p.tolist(), t.tolist())) == [(0, 1), (1, 0)]
    assert len(p) == 2


def test_many_frames_are_matched_per_frame():
    pred, gt = _scene()
    together = object_scores_many([(pred, gt), (gt, gt)])
    # Frame 1: TP 2 FP 1 FN 1, frame 2: TP 3 -> TP 5, FP 1, FN 1.
    assert together["f1_50"] == pytest.approx(10 / 12)
    assert together["n_true"] == 6


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        object_scores(np.zeros((3, 3), int), np.zeros((3, 4), int))


def _assert_same_overlaps(got, want):
    assert (got.n_pred, got.n_true) == (want.n_pred, want.n_true)
    for name in ("pred", "true", "iou"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name))


def test_a_table_summed_over_any_blocks_equals_the_whole_image():
    """Blocks in any order, of any shape, even interleaved rows (every third one): the same
    pairs, in the same order, with the same IoUs, as the whole image."""
    pred, gt = _scene()
    pred = pred.astype(np.uint64) * 2**40  # (large ids, kept exact)
    whole = object_overlaps(pred, gt)
    for blocks in ([np.s_[20:], np.s_[:7], np.s_[7:20]],
                   [np.s_[:, 25:], np.s_[:, :3], np.s_[:, 3:25]],
                   [np.s_[i::3] for i in (2, 0, 1)]):
        table = OverlapTable()
        for block in blocks:
            table.add(pred[block], gt[block])
        _assert_same_overlaps(table.overlaps(), whole)


def test_an_object_split_between_blocks_is_counted_once():
    # True 8 pixels, predicted 6 of them: IoU 0.75 whole, 1.0 and 0.5 in the two halves.
    gt = np.array([[1, 1, 1, 1, 1, 1, 1, 1]])
    pred = np.array([[2, 2, 2, 2, 2, 2, 0, 0]])
    table = OverlapTable()
    table.add(pred[:, :4], gt[:, :4])
    table.add(pred[:, 4:], gt[:, 4:])
    overlaps = table.overlaps()
    assert (overlaps.n_pred, overlaps.n_true) == (1, 1)
    assert overlaps.iou.tolist() == [0.75]


def test_an_empty_table_has_no_objects():
    table = OverlapTable()
    table.add(np.zeros((3, 3), np.uint8), np.zeros((3, 3), np.uint8))
    _assert_same_overlaps(table.overlaps(), object_overlaps(np.zeros((3, 3)), np.zeros((3, 3))))
    assert OverlapTable().overlaps().n_pred == 0


@pytest.mark.parametrize("bad", [np.array([[0, -1]], np.int32),
                                 np.array([[0, 2**63 + 1]], np.uint64),
                                 np.array([[0, 1.5]])])
def test_a_table_refuses_ids_it_cannot_count(bad):
    with pytest.raises(ValueError, match="ids"):
        OverlapTable().add(np.ones_like(bad, dtype=np.uint8), bad)
