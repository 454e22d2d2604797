"""Connected components slab by slab: the same ids and boxes as ``scipy.ndimage.label`` and
``find_objects`` on the whole array, whatever the slab size and connectivity."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.models.mapped import PageReleaser
from unet_studio.models.slab_label import label_by_slabs


def _blobs(shape, fraction, seed):
    """Smooth random blobs covering about ``fraction`` of the array (pieces of all sizes,
    many crossing any slab border)."""
    field = ndi.gaussian_filter(np.random.default_rng(seed).random(shape), 1.0)
    return field > np.quantile(field, 1 - fraction)


@pytest.mark.parametrize("shape", [(61, 47), (19, 23, 29), (5, 6, 7, 8)])
@pytest.mark.parametrize("fraction", [0.1, 0.2])
def test_slabs_give_the_ids_and_boxes_of_one_pass(shape, fraction):
    mask = _blobs(shape, fraction, seed=len(shape))
    for connectivity in range(1, len(shape) + 1):
        structure = ndi.generate_binary_structure(len(shape), connectivity)
        expected, count = ndi.label(mask, structure)
        if connectivity == 1:
            assert count > 3  # (full connectivity may join all: one piece)
        for slab_pixels in (1, 97, 1000):  # one plane, a few planes, many
            out = np.full(shape, -7, np.int32)  # (every pixel is written)
            found, boxes = label_by_slabs(lambda core: mask[core], shape, out, structure,
                                          slab_pixels=slab_pixels)
            assert found == count >= 1
            np.testing.assert_array_equal(out, expected)
            assert boxes == ndi.find_objects(expected)


def test_a_spiral_crossing_every_slab_is_one_component():
    """Pieces joined only through later slabs (a U that closes below) get one id, numbered
    by the first pixel in raster order."""
    mask = np.zeros((12, 9), bool)
    mask[1:11, 1] = mask[1:11, 7] = mask[10, 1:8] = True  # a U: two arms join at the bottom
    mask[0, 4] = True  # a dot first in raster order
    out = np.zeros(mask.shape, np.int32)
    count, boxes = label_by_slabs(lambda core: mask[core], mask.shape, out, slab_pixels=9)
    assert count == 2 and set(np.unique(out[mask])) == {1, 2}
    assert out[0, 4] == 1 and (out[mask & (out != 1)] == 2).all()
    assert boxes[1] == (slice(1, 11), slice(1, 8))


def test_an_empty_mask_and_a_memory_mapped_output(tmp_path):
    shape = (40, 64, 64)
    out = np.memmap(tmp_path / "labels.raw", np.int32, "w+", shape=shape)
    pages = PageReleaser(out, every_bytes=1 << 14)
    released = []
    pages.release = lambda: released.append(1)  # (counts the hand-backs; pages stay)
    assert label_by_slabs(lambda core: np.zeros(out[core].shape, bool), shape, out,
                          slab_pixels=4096, pages=pages) == (0, [])
    mask = _blobs(shape, 0.4, seed=3)
    count, _ = label_by_slabs(lambda core: mask[core], shape, out, slab_pixels=4096,
                              pages=pages)
    np.testing.assert_array_equal(np.asarray(out), ndi.label(mask)[0])
    assert count == ndi.label(mask)[1] and len(released) > 10
