"""Instance labels -> 3-class targets, and the 2015 U-Net border weight map."""

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.models.training.targets import (
    BOUNDARY,
    FOREGROUND,
    IGNORE,
    border_weights,
    boundary_mask,
    instance_targets,
    semantic_targets,
)


def _two_touching_squares():
    labels = np.zeros((12, 14), dtype=np.int32)
    labels[2:8, 1:6] = 3
    labels[2:8, 6:11] = 7  # touches object 3 along column 5|6
    return labels


def test_boundary_is_the_inner_ring_and_the_seam_between_touching_objects():
    labels = _two_touching_squares()
    target = instance_targets(labels)
    assert target[labels == 0].max() == 0
    # Seam: both sides of the touching columns are boundary.
    assert (target[2:8, 5] == BOUNDARY).all() and (target[2:8, 6] == BOUNDARY).all()
    # Interior of each square is foreground; its outer ring is boundary.
    assert (target[3:7, 2:5] == FOREGROUND).all()
    assert (target[2, 1:11] == BOUNDARY).all() and (target[7, 1:11] == BOUNDARY).all()
    assert (target[2:8, 1] == BOUNDARY).all() and (target[2:8, 10] == BOUNDARY).all()


def test_image_edge_is_not_a_boundary():
    labels = np.zeros((6, 6), dtype=np.int32)
    labels[:, :3] = 1  # object cut by the top, bottom and left edges
    target = instance_targets(labels)
    assert (target[:, :2] == FOREGROUND).all()
    assert (target[:, 2] == BOUNDARY).all()


def test_wider_boundary():
    labels = np.zeros((1, 12), dtype=np.int32)
    labels[0, 2:10] = 1
    target = instance_targets(labels, boundary_width=2)
    assert target[0].tolist() == [0, 0, 2, 2, 1, 1, 1, 1, 2, 2, 0, 0]


def test_unreviewed_pixels_are_ignored_and_draw_no_boundary():
    labels = _two_touching_squares()
    reviewed = np.zeros(labels.shape, dtype=bool)
    reviewed[:, :6] = True  # object 3 fully; object 7 not at all
    target = instance_targets(labels, reviewed)
    assert (target[~reviewed] == IGNORE).all()
    # Without knowing object 7, column 5 is not a seam; the rest of object 3 is as before.
    assert (target[3:7, 5] == FOREGROUND).all()
    other = labels.copy()
    other[~reviewed] = np.random.default_rng(0).integers(0, 9, size=(~reviewed).sum())
    assert np.array_equal(instance_targets(other, reviewed), target)


def test_leading_axes_are_independent_slices():
    plane = _two_touching_squares()
    stack = np.stack([plane, np.roll(plane, 3, axis=1)])
    per_slice = boundary_mask(stack, spatial_dims=2)
    assert np.array_equal(per_slice[0], boundary_mask(plane))
    assert np.array_equal(per_slice[1], boundary_mask(stack[1]))
    assert boundary_mask(stack).sum() > per_slice.sum()  # 3D adds Z neighbours


def test_semantic_labels_pass_through_and_are_checked():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    reviewed = np.array([[True, True, True], [False, True, True]])
    target = semantic_targets(labels, reviewed, num_classes=3)
    assert target.tolist() == [[0, 1, 2], [IGNORE, 1, 0]]
    with pytest.raises(ValueError, match="0..2"):
        semantic_targets(labels + 1, num_classes=3)


def _reference_weights(labels, w0, sigma):
    """Brute force: an unbounded distance transform per object, sorted per pixel."""
    ids = [i for i in np.unique(labels) if i > 0]
    dists = np.stack([ndi.distance_transform_edt(labels != i) for i in ids])
    dists.sort(axis=0)
    return 1.0 + w0 * np.exp(-((dists[0] + dists[1]) ** 2) / (2 * sigma**2))


def test_border_weights_match_the_formula_in_a_gap():
    labels = np.zeros((9, 14), dtype=np.int32)
    labels[2:7, 0:5] = 1
    labels[2:7, 7:12] = 2  # a 2-pixel gap at columns 5 and 6
    weights = border_weights(labels, w0=10, sigma=5)
    expected = 1 + 10 * np.exp(-((1 + 2) ** 2) / 50)
    assert weights[4, 5] == pytest.approx(expected, rel=1e-5)
    assert weights[4, 6] == pytest.approx(expected, rel=1e-5)
    assert weights[4, 5] > weights[0, 13]


def test_border_weights_agree_with_brute_force_on_random_blobs():
    rng = np.random.default_rng(3)
    blobs = ndi.gaussian_filter(rng.random((64, 64)), 3) > 0.52
    labels, count = ndi.label(blobs)
    assert count >= 3
    labels = np.where(labels > 0, labels * 5 + 100, 0)  # ids need not be sequential
    ours = border_weights(labels, w0=10, sigma=4)
    reference = _reference_weights(labels, 10, 4)
    # Beyond d1 + d2 = 3 sigma ours drops the term, worth at most w0 * exp(-4.5).
    assert np.abs(ours - reference).max() <= 10 * np.exp(-4.5) + 1e-4


def test_border_weights_without_w0_are_constant():
    labels = _two_touching_squares()
    assert (border_weights(labels, w0=0) == 1).all()
