"""Ray picking on bare napari Labels layers (no window): world/data conversion with
anisotropic scale and translation, a labels layer under a 4D world, lazy arrays."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from napari.layers import Labels

from unet_studio.plugins.napari_picking import click_coordinate, first_labelled_voxel, ray_voxels


def _labels() -> np.ndarray:
    data = np.zeros((10, 12, 12), dtype=np.int32)
    data[6:8, 4:8, 4:8] = 5  # near a camera looking down z (from high z)
    data[1:3, 4:8, 4:8] = 6
    data[4, 10, 10] = 7  # a single voxel
    return data


def _event(position, view_direction, dims_displayed=(0, 1, 2)):
    """What napari hands a mouse callback: world position and view ray, displayed axes."""
    return SimpleNamespace(position=position, view_direction=view_direction,
                           dims_displayed=list(dims_displayed))  # fmt: skip


@pytest.mark.parametrize("scale, translate", [((1, 1, 1), (0, 0, 0)), ((3.0, 0.5, 0.5), (10, -2, 4))])
def test_click_lands_on_the_first_labelled_voxel(scale, translate):
    layer = Labels(_labels(), scale=scale, translate=translate)
    world = lambda z, y, x: tuple(layer.data_to_world((z, y, x)))  # noqa: E731
    down = _event(world(5, 5, 6), (-1.0, 0, 0))
    up = _event(world(5, 5, 6), (1.0, 0, 0))
    assert click_coordinate(layer, down) == (7.0, 5.0, 6.0)
    assert click_coordinate(layer, up) == (1.0, 5.0, 6.0)
    # A thin object is not stepped over, and a ray through background gives background.
    assert click_coordinate(layer, _event(world(4, 10, 10), (-1.0, 0, 0))) == (4.0, 10.0, 10.0)
    empty = click_coordinate(layer, _event(world(5, 1, 1), (-1.0, 0, 0)))
    assert layer.data[tuple(int(c) for c in empty)] == 0
    # napari showing label 6 alone: the click passes through the unseen 5.
    layer.selected_label, layer.show_selected_label = 6, True
    assert click_coordinate(layer, down) == (2.0, 5.0, 6.0)


def test_labels_under_a_4d_world_and_2d_views():
    layer = Labels(_labels())
    # World axes (T, Z, Y, X): the labels' axis 0 is world axis 1.
    event = _event((2.0, 5.0, 5.0, 6.0), (0.0, -1.0, 0.0, 0.0), dims_displayed=(1, 2, 3))
    assert click_coordinate(layer, event) == (7.0, 5.0, 6.0)
    # A 2D view: the point itself, the hidden axis' index included.
    flat = _event((3.0, 5.0, 6.0), None, dims_displayed=(1, 2))
    assert click_coordinate(layer, flat) == (3.0, 5.0, 6.0)
    # A ray that misses the data.
    assert click_coordinate(layer, _event((5.0, 50.0, 50.0), (0.0, 0.0, 1.0))) is None


def test_oblique_ray_and_lazy_arrays():
    layer = Labels(_labels())
    direction = -np.array([1.0, 0.2, 0.1]) / np.linalg.norm([1.0, 0.2, 0.1])
    voxels = ray_voxels(layer, (8.0, 5.0, 5.0), direction, [0, 1, 2])
    steps = np.abs(np.diff(voxels, axis=0))
    assert steps.max() <= 1 and (steps.sum(axis=1) >= 1).all()  # neighbours, no repeats

    class Lazy:  # basic slicing only, like a zarr array
        def __init__(self, array):
            self.array, self.shape = array, array.shape

        def __getitem__(self, key):
            if not all(isinstance(k, slice) for k in key):
                raise IndexError("basic slicing only")
            return self.array[key]

    np.testing.assert_array_equal(
        first_labelled_voxel(Lazy(layer.data), voxels), first_labelled_voxel(layer.data, voxels)
    )
