"""Post-processing: touching objects split, holes filled, tiny objects dropped, 2D and 3D."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.models.postprocess import (
    instance_labels,
    labels_from_masks,
    probabilities_from_logits,
    semantic_mask,
    softmax,
)


def as_probabilities(foreground: np.ndarray, boundary: np.ndarray | None = None) -> np.ndarray:
    """(background, foreground, boundary) probabilities from binary masks."""
    boundary = np.zeros_like(foreground, bool) if boundary is None else boundary
    fg = (foreground & ~boundary).astype(np.float32)
    bd = boundary.astype(np.float32)
    return np.stack([1 - fg - bd, fg, bd])


def discs(shape, centres, radius):
    grid = np.indices(shape)
    masks = [((grid - np.reshape(c, (-1,) + (1,) * len(shape))) ** 2).sum(0) < radius**2
             for c in centres]
    return masks


def test_two_touching_discs_become_two_labels():
    a, b = discs((64, 96), [(32, 30), (32, 57)], 15)
    assert (a & b).any()  # they overlap: one connected blob
    labels = instance_labels(as_probabilities(a | b))
    assert labels.dtype == np.int32 and labels.max() == 2
    assert len(np.unique(labels[a & ~b])) == 1 and len(np.unique(labels[b & ~a])) == 1
    assert labels[32, 30] != labels[32, 57]


def test_boundary_channel_separates_touching_objects():
    a, b = discs((60, 90), [(30, 28), (30, 60)], 17)
    contact = (a & b) | (np.abs(np.indices((60, 90))[1] - 44) <= 1) & (a | b)
    labels = instance_labels(as_probabilities(a | b, boundary=contact))
    assert labels.max() == 2
    assert (labels[a | b] > 0).all()  # boundary pixels are given to an object, not dropped


def test_two_touching_spheres_become_two_labels_in_3d():
    a, b = discs((36, 40, 64), [(18, 20, 20), (18, 20, 41)], 11)
    labels = instance_labels(as_probabilities(a | b))
    assert labels.shape == (36, 40, 64) and labels.max() == 2
    assert labels[18, 20, 20] != labels[18, 20, 41]


def test_anisotropic_sampling_still_splits_flattened_spheres():
    a, b = discs((12, 40, 64), [(6, 20, 20), (6, 20, 41)], 11)
    labels = instance_labels(as_probabilities(a | b), sampling=(3.0, 1.0, 1.0))
    assert labels.max() == 2


def test_ring_is_one_object_with_its_hole_filled():
    outer, inner = discs((64, 64), [(32, 32), (32, 32)], 15)[0], discs((64, 64), [(32, 32)], 4)[0]
    labels = instance_labels(as_probabilities(outer & ~inner))
    assert labels.max() == 1
    assert (labels[inner] == 1).all()
    unfilled = instance_labels(as_probabilities(outer & ~inner), fill_holes=False)
    assert (unfilled[inner] == 0).all()


def test_small_objects_removed_and_labels_sequential():
    big1, big2 = discs((80, 80), [(20, 20), (60, 60)], 8)
    (small,) = discs((80, 80), [(20, 60)], 2)
    labels = instance_labels(as_probabilities(big1 | big2 | small), min_size=30)
    assert sorted(np.unique(labels)) == [0, 1, 2]
    assert labels[20, 60] == 0


def test_an_elongated_object_across_the_whole_image_stays_one_label():
    mask = np.zeros((50, 400), bool)
    mask[20:30, 3:397] = True
    assert instance_labels(as_probabilities(mask)).max() == 1


def test_object_made_only_of_boundary_is_kept():
    objects = np.zeros((30, 30), bool)
    objects[10:13, 5:25] = True
    labels = labels_from_masks(objects, np.zeros_like(objects), min_size=1)
    assert labels.max() == 1 and (labels[objects] == 1).all()


def test_empty_prediction_gives_empty_labels():
    probabilities = np.zeros((3, 20, 20), np.float32)
    probabilities[0] = 1
    assert instance_labels(probabilities).max() == 0


def test_instance_labels_need_three_channels():
    with pytest.raises(ValueError, match="3 channels"):
        instance_labels(np.zeros((2, 8, 8), np.float32))


def test_semantic_mask_argmax_and_threshold():
    logits = np.zeros((3, 4, 5), np.float32)
    logits[2, :2] = 5
    logits[1, 2:] = 5
    assert np.array_equal(semantic_mask(softmax(logits)), np.repeat([[2], [2], [1], [1]], 5, 1))
    single = probabilities_from_logits(np.array([[[-3.0, 0.5, 3.0]]], np.float32))
    assert np.array_equal(semantic_mask(single, threshold=0.5), [[0, 1, 1]])
    assert np.array_equal(semantic_mask(single, threshold=0.9), [[0, 0, 1]])


def test_softmax_is_stable_for_large_logits():
    probabilities = softmax(np.array([[1000.0], [0.0], [-1000.0]], np.float32))
    assert np.isfinite(probabilities).all() and probabilities[0, 0] == pytest.approx(1.0)
