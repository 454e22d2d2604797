"""An added object is one connected piece: the one under the click. Filling its holes also
fills an object it surrounds; pixels erased inside that object (a notch made with the
eraser) are not part of the object added (QA: "Added object 68" was a piece beside object 46
plus the 9 pixels erased inside 46)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.app.click_object import add_object_edit
from unet_studio.app.label_edit import apply_edit


@pytest.mark.parametrize("ndim", [2, 3])  # (a 2D frame, a whole 3D stack: found in 3D)
def test_pixels_erased_inside_a_surrounded_object_stay_background(ndim):
    grid = np.indices((40,) * ndim)
    radius = np.sqrt(((grid - 20) ** 2).sum(axis=0))
    noise = np.random.default_rng(3).normal(0, 5, radius.shape)
    image = np.where(radius <= 12, 1000.0, 50.0) + noise  # (one bright missed object)
    labels = np.where(radius <= 6, 3, 0).astype(np.int32)  # (a labelled one inside it)
    notch = radius <= 1.5
    labels[notch] = 0  # (erased in the middle of object 3)
    click = (20,) * (ndim - 1) + (29,)
    added = apply_edit(labels, add_object_edit(labels, image, click, 7)) == 7
    assert added[click] and added[(radius > 7) & (radius <= 11)].all()
    assert not added[notch].any()
    _, pieces = ndi.label(added, structure=np.ones((3,) * ndim))
    assert pieces == 1
