"""The box of the reviewed pixels is found without a copy of the whole mask (a big stack's
uint8 copy cost seconds and its size again in memory)."""

import tracemalloc

import numpy as np
from scipy import ndimage as ndi

from unet_studio.models.training import examples


def _grown(box, margin, shape):
    return tuple(slice(max(s.start - margin, 0), min(s.stop + margin, n)) for s, n in zip(box, shape))


def test_the_reviewed_box_is_the_bounding_box_of_the_reviewed_pixels(monkeypatch):
    monkeypatch.setattr(examples, "BOX_SLAB_ELEMENTS", 50, raising=False)  # (many slabs)
    rng = np.random.default_rng(3)
    for shape in [(9,), (7, 11), (13, 5, 6), (3, 4, 5, 6)]:
        for density in (0.002, 0.05):
            mask = rng.random(shape) < density
            mask[tuple(n // 2 for n in shape)] = True
            expected = _grown(ndi.find_objects(mask.astype(np.uint8))[0], 2, shape)
            assert examples.reviewed_box(mask, 2) == expected
    assert examples.reviewed_box(np.zeros((4, 5), bool), 1) is None


def test_the_reviewed_box_of_a_stack_allocates_far_less_than_the_mask(monkeypatch):
    monkeypatch.setattr(examples, "BOX_SLAB_ELEMENTS", 1 << 16, raising=False)
    mask = np.zeros((64, 256, 256), bool)  # 4 MiB
    mask[40, 100:120, 30:50] = True
    tracemalloc.start()
    try:
        box = examples.reviewed_box(mask, (0, 4, 4))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert box == (slice(40, 41), slice(96, 124), slice(26, 54))
    assert all(isinstance(s.start, int) and isinstance(s.stop, int) for s in box)
    assert peak < mask.nbytes // 8, f"{peak} bytes allocated for a {mask.nbytes}-byte mask"
