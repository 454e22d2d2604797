"""Instance labels in batches of connected object groups: the same objects as one pass over
the whole stack, in bounded memory, with working arrays on disk when they are too big."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from unet_studio.models.batched_labels import block_shape, group_batches
from unet_studio.models.metrics import partition_agreement
from unet_studio.models.postprocess import labels_from_masks
from unet_studio.models.scratch import RAM_LIMIT_ENV, scratch_zeros


def _masks_of(labels: np.ndarray, widen: int = 1):
    """(objects, interior) as a network predicts them: a blurred boundary band."""
    from unet_studio.models.training.targets import instance_targets

    interior = instance_targets(labels) == 1
    objects = ndi.binary_dilation(labels > 0, iterations=widen)
    return objects, interior


@pytest.fixture(scope="module")
def nuclei_masks(test_data_dir):
    """Masks of real 3D nuclei (cells3d reference, (Z, Y, X)) with a 1-px blurred band."""
    labels = tifffile.imread(test_data_dir / "default_cells3d_labels.tif").astype(np.int32)
    return _masks_of(labels)


def test_batches_give_the_objects_of_one_pass(nuclei_masks):
    """Many small batches (each group in its own box) against one batch over the whole
    stack, with the default model's options: the same objects, pixel for pixel except
    watershed ties between touching objects."""
    objects, interior = nuclei_masks
    options = dict(grow=1.5, min_size_fraction=0.05, seed_height_fraction=0.2,
                   sampling=(2.0, 1.0, 1.0))
    whole = labels_from_masks(objects, interior, batch_pixels=objects.size, **options)
    batched = labels_from_masks(objects, interior, batch_pixels=4096, **options)
    assert len(group_batches(ndi.find_objects(ndi.label(objects, np.ones((3, 3, 3)))[0]),
                             objects.shape, 4096)) > 4  # really in batches
    assert whole.max() >= 5 and batched.max() == whole.max()
    np.testing.assert_array_equal(batched > 0, whole > 0)
    assert partition_agreement(whole, batched) > 0.999
    assert batched.dtype == np.int32 and set(np.unique(batched)) == set(range(whole.max() + 1))


def test_a_group_larger_than_a_batch_stays_whole():
    """A long object across the whole image is one group, labelled in its own box."""
    objects = np.zeros((40, 400), bool)
    objects[18:23, 5:395] = True
    interior = np.zeros_like(objects)
    interior[19:22, 6:394] = True
    labels = labels_from_masks(objects, interior, min_size=1, batch_pixels=256)
    assert labels.max() == 1 and (labels[objects] == 1).all()


def test_working_arrays_go_to_a_temporary_file_above_the_ram_limit(nuclei_masks, monkeypatch):
    objects, interior = nuclei_masks
    in_ram = labels_from_masks(objects, interior, min_size=8)
    monkeypatch.setenv(RAM_LIMIT_ENV, "0.05")  # 50 KiB
    assert isinstance(scratch_zeros((64, 64, 64), np.int32), np.memmap)
    assert not isinstance(scratch_zeros((8, 8), np.int32), np.memmap)
    on_disk = labels_from_masks(objects, interior, min_size=8)
    assert isinstance(on_disk, np.memmap)
    np.testing.assert_array_equal(on_disk, in_ram)
    monkeypatch.setenv(RAM_LIMIT_ENV, "lots")
    with pytest.raises(ValueError, match=RAM_LIMIT_ENV):
        scratch_zeros((4, 4), np.int32)


def test_blocks_halve_the_longest_side_until_they_fit():
    assert block_shape((60, 256, 256), 1 << 20) == (60, 128, 128)
    assert block_shape((10, 10), 1000) == (10, 10)
    assert block_shape((1, 4096, 4096), 1 << 20) == (1, 1024, 1024)


def _confluent_sheet(shape, n_cells: int, seed: int = 0):
    """A tissue with no background: Voronoi cells, the boundary band 2 px wide."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (n_cells, len(shape))) * np.asarray(shape)
    grid = np.indices(shape).reshape(len(shape), -1).T
    from scipy.spatial import cKDTree

    cells = (cKDTree(centres).query(grid)[1] + 1).reshape(shape).astype(np.int32)
    edge = np.zeros(shape, bool)
    for axis in range(len(shape)):
        step = np.diff(cells, axis=axis) != 0
        lead = [slice(None)] * len(shape)
        lead[axis] = slice(1, None)
        edge[tuple(lead)] |= step
        lead[axis] = slice(0, -1)
        edge[tuple(lead)] |= step
    return cells, np.ones(shape, bool), ~edge


@pytest.mark.parametrize("shape, n_cells", [((256, 256), 60), ((24, 96, 96), 40)])
def test_a_confluent_sheet_labelled_by_its_interior_components(shape, n_cells, monkeypatch):
    """All object pixels form one group as large as the image: labelled in batches of its
    interior components (band pixels left over filled slab by slab), each cell comes out
    whole, as in one pass."""
    from unet_studio.models import giant_groups

    monkeypatch.setattr(giant_groups, "LEFTOVER_SLAB_PIXELS", 4096)
    cells, objects, interior = _confluent_sheet(shape, n_cells)
    options = dict(min_size=4, seed_height_fraction=0.2)
    whole = labels_from_masks(objects, interior, batch_pixels=objects.size, **options)
    pieces = labels_from_masks(objects, interior, batch_pixels=2048, giant_pixels=4096, **options)
    assert whole.max() == n_cells
    assert pieces.max() == whole.max() and (pieces > 0).all()
    assert partition_agreement(whole, pieces) > 0.99
    assert partition_agreement(cells, pieces) > 0.97
