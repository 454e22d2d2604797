"""The labelling's distance maps (``models.distance``) against scipy's exact transform."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from unet_studio.models import distance
from unet_studio.models.distance import distance_map


def _masks(rng):
    field = ndi.gaussian_filter(rng.random((12, 40, 52)), (1.0, 2.0, 2.0))
    yield field > np.quantile(field, 0.4)  # a 3D sheet of blobs
    yield (ndi.gaussian_filter(rng.random((90, 70)), 3) > 0.5)  # 2D blobs
    thin = np.ones((3, 30, 30), bool)  # lines along Z with no background in them
    thin[:, 15, 15] = False
    yield thin
    yield rng.random((7, 9, 11)) < 0.97  # scattered background pixels


@pytest.mark.skipif(distance._edt is None, reason="the edt package is not installed")
def test_distance_maps_equal_scipy():
    """Whole-number pixel sizes (and none): the same float32 values as scipy's, exactly;
    fractional ones within float32 rounding."""
    rng = np.random.default_rng(5)
    for mask in _masks(rng):
        assert mask.any() and not mask.all()
        for sampling in (None, (2.0, 1.0, 1.0)[-mask.ndim:], (3.0, 1.0, 2.0)[-mask.ndim:]):
            expected = ndi.distance_transform_edt(mask, sampling=sampling).astype(np.float32)
            found = distance_map(mask, sampling)
            assert found.dtype == np.float32
            np.testing.assert_array_equal(found, expected)
        fractional = (2.9, 0.65, 0.65)[-mask.ndim:]
        expected = ndi.distance_transform_edt(mask, sampling=fractional).astype(np.float32)
        np.testing.assert_allclose(distance_map(mask, fractional), expected, rtol=2e-7)


def test_edge_cases_give_scipys_values(monkeypatch):
    """1D and no background at all (scipy itself answers), no mask pixel, and the package
    missing: scipy's values."""
    rng = np.random.default_rng(6)
    cases = [rng.random(50) < 0.8, np.ones((4, 6), bool), np.zeros((3, 4, 5), bool)]
    for mask in cases:
        expected = ndi.distance_transform_edt(mask).astype(np.float32)
        np.testing.assert_array_equal(distance_map(mask), expected)
    monkeypatch.setattr(distance, "_edt", None)
    mask = next(_masks(rng))
    np.testing.assert_array_equal(distance_map(mask, (2.0, 1.0, 1.0)),
                                  ndi.distance_transform_edt(mask, sampling=(2.0, 1.0, 1.0)).astype(np.float32))
