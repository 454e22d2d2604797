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


def _chain_of_discs(shape=(200, 600), radius: int = 6, spacing: int = 10):
    """Touching discs along a winding path, their interiors joined by necks: one interior
    component (no boundary predicted between them) whose box spans the image."""
    rows, cols = np.indices(shape)
    discs = np.zeros(shape, np.int32)
    for index, x in enumerate(range(radius + 2, shape[1] - radius - 2, spacing), 1):
        y = shape[0] / 2 + 40 * np.sin(x / shape[1] * 2 * np.pi)
        discs[((rows - y) ** 2 + (cols - x) ** 2 <= radius**2) & (discs == 0)] = index
    interior = discs > 0
    return discs, ndi.binary_dilation(interior), interior


def test_a_huge_interior_component_is_labelled_block_by_block(monkeypatch):
    """One interior component whose box is above the giant size: labelled in blocks of its
    box (both axes cut), the discs cut by block borders joined again: the objects of one
    pass."""
    from unet_studio.models import huge_components

    discs, objects, interior = _chain_of_discs()
    options = dict(min_size=4, seed_height=1.0)
    whole = labels_from_masks(objects, interior, batch_pixels=objects.size, **options)
    calls = []
    original = huge_components.HugeComponent._block_labels
    monkeypatch.setattr(huge_components.HugeComponent, "_block_labels",
                        lambda self, *a: calls.append(a[0]) or original(self, *a))
    monkeypatch.setattr(huge_components, "DEPTH_CAP", 8)  # (the discs are 6 deep)
    pieces = labels_from_masks(objects, interior, batch_pixels=1024, giant_pixels=4096, **options)
    assert len(calls) >= 8 and len({c[0].start for c in calls}) >= 2  # blocks in both axes
    assert whole.max() == discs.max()
    assert pieces.max() == whole.max()
    np.testing.assert_array_equal(pieces > 0, whole > 0)
    # (the necks between discs are flat: which disc a neck pixel joins is a watershed tie)
    assert partition_agreement(whole, pieces) > 0.98
    assert partition_agreement(discs, pieces) > 0.95


def test_a_long_thin_structure_across_a_stack_is_one_object(monkeypatch):
    """A tube winding through the whole stack (a neurite): its box is huge although it holds
    few pixels; block by block (empty blocks skipped) it is still one object, as in one
    pass."""
    from unet_studio.models import huge_components

    shape = (80, 112, 112)
    z, y, x = np.indices(shape)
    t = z / shape[0] * np.pi  # half a turn of a helix, ~1.6 px further each plane
    tube = (y - 56 - 40 * np.cos(t)) ** 2 + (x - 56 - 40 * np.sin(t)) ** 2 <= 9
    assert ndi.label(tube)[1] == 1
    objects = ndi.binary_dilation(tube)
    options = dict(min_size=4, seed_height=2.0)  # (lower, its surface's steps split it)
    whole = labels_from_masks(objects, tube, batch_pixels=objects.size, **options)
    monkeypatch.setattr(huge_components, "DEPTH_CAP", 4)  # (the tube is 3 deep): small blocks
    blocks = []
    original = huge_components.HugeComponent.blocks
    monkeypatch.setattr(huge_components.HugeComponent, "blocks",
                        lambda self: (blocks.append(core) or core for core in original(self)))
    pieces = labels_from_masks(objects, tube, batch_pixels=2048, giant_pixels=8192, **options)
    starts = {tuple(s.start for s in core) for core in blocks}
    assert len({start[0] for start in starts}) >= 2 and len(starts) == len(blocks) >= 4
    assert whole.max() == 1 and pieces.max() == 1
    np.testing.assert_array_equal(pieces > 0, whole > 0)


def test_touching_nuclei_without_a_predicted_boundary_keep_one_pass_outlines(monkeypatch):
    """3D nuclei touching with no boundary predicted between them (one interior component
    across the stack), anisotropic, the band limited by ``grow``: block by block, the
    objects and their outlines are those of one pass. (Band pixels beyond ``grow`` on the
    objects' outer surface are background there; they used to be given to the nearest
    object when the group was too large for one piece.)"""
    from unet_studio.models import huge_components

    rng = np.random.default_rng(3)
    interior = np.zeros((20, 96, 96), bool)
    z, y, x = np.ogrid[-2:3, -5:6, -5:6]
    ball = (2 * z) ** 2 + y**2 + x**2 <= 25
    for corner in (rng.uniform(0, 1, (120, 3)) * (np.asarray(interior.shape) - ball.shape)).astype(int):
        interior[tuple(slice(c, c + n) for c, n in zip(corner, ball.shape))] |= ball
    objects = ndi.binary_dilation(interior)
    options = dict(grow=1.5, min_size_fraction=0.05, seed_height_fraction=0.2, sampling=(2.0, 1.0, 1.0))
    whole = labels_from_masks(objects, interior, batch_pixels=objects.size, **options)
    monkeypatch.setattr(huge_components, "DEPTH_CAP", 6)  # (the balls are 5 deep): 2+ blocks
    blocks = []
    original = huge_components.HugeComponent.blocks
    monkeypatch.setattr(huge_components.HugeComponent, "blocks",
                        lambda self: (blocks.append(core) or core for core in original(self)))
    pieces = labels_from_masks(objects, interior, batch_pixels=2048, giant_pixels=8192, **options)
    assert len({tuple(s.start for s in core) for core in blocks}) >= 2
    assert (whole > 0).sum() < objects.sum() * 0.95  # grow leaves part of the band out
    outline_differs = int(((pieces > 0) != (whole > 0)).sum())
    assert outline_differs <= 0.001 * objects.sum()  # (a few enclosed pockets between crops)
    assert abs(int(pieces.max()) - int(whole.max())) <= 1 and whole.max() >= 10
    assert partition_agreement(whole, pieces) > 0.97


def test_connected_pieces_found_slab_by_slab_change_no_label(nuclei_masks, monkeypatch):
    """The whole-array steps (object groups of the stack; a giant group's interior
    components, leftovers and open reaches) label their pieces slab by slab: with slabs of
    a few planes the labels are those of one slab, pixel for pixel."""
    from unet_studio.models import slab_label

    objects, interior = nuclei_masks
    sheet_cells, sheet_objects, sheet_interior = _confluent_sheet((24, 96, 96), 40)
    cases = [((objects, interior), dict(grow=1.5, min_size_fraction=0.05,
                                        seed_height_fraction=0.2, sampling=(2.0, 1.0, 1.0))),
             ((sheet_objects, sheet_interior), dict(min_size=4, seed_height_fraction=0.2,
                                                    giant_pixels=4096))]
    for (objects_of, interior_of), options in cases:
        one_slab = labels_from_masks(objects_of, interior_of, batch_pixels=2048, **options)
        monkeypatch.setattr(slab_label, "SLAB_PIXELS", 3 * 96 * 96)
        slabs = labels_from_masks(objects_of, interior_of, batch_pixels=2048, **options)
        monkeypatch.undo()
        assert one_slab.max() > 10
        np.testing.assert_array_equal(slabs, one_slab)


def test_batches_labelled_on_threads_give_the_labels_of_one_thread(nuclei_masks, monkeypatch):
    """Batches computed on several threads and written in batch order (groups of the stack;
    a giant group's passes that write nothing), and a giant group's batches written at once
    where their crops do not overlap: the same labels, pixel for pixel, ids included, as
    one thread."""
    from unet_studio.models.label_threads import LABEL_THREADS_ENV, label_threads

    _, sheet_objects, sheet_interior = _confluent_sheet((24, 96, 96), 40)
    cases = [(nuclei_masks, dict(grow=1.5, min_size_fraction=0.05, seed_height_fraction=0.2,
                                 sampling=(2.0, 1.0, 1.0), batch_pixels=2048)),
             ((sheet_objects, sheet_interior), dict(min_size=4, seed_height_fraction=0.2,
                                                    batch_pixels=2048, giant_pixels=4096))]
    for (objects, interior), options in cases:
        monkeypatch.setenv(LABEL_THREADS_ENV, "1")
        one = labels_from_masks(objects, interior, **options)
        monkeypatch.setenv(LABEL_THREADS_ENV, "3")
        assert label_threads() == 3
        three = labels_from_masks(objects, interior, **options)
        assert one.max() > 10
        np.testing.assert_array_equal(three, one)
    monkeypatch.setenv(LABEL_THREADS_ENV, "many")
    with pytest.raises(ValueError, match=LABEL_THREADS_ENV):
        label_threads()


@pytest.mark.slow
@pytest.mark.parametrize("case", ["nuclei", "sheet", "huge"])
def test_labelling_counts_its_steps_to_the_end(case, nuclei_masks, monkeypatch):
    """The fraction done after each step (batches; a giant group's batches; each block of a
    huge component) rises to exactly 1 at the end, in many steps: a long labelling moves
    the bar, and can stop, all the way through."""
    from unet_studio.models import huge_components
    from unet_studio.models.batched_labels import iter_labels_in_batches
    from unet_studio.models.generators import drain, relay

    if case == "nuclei":
        (objects, interior), sizes = nuclei_masks, dict(batch_pixels=2048)
        options = dict(grow=1.5, seed_height_fraction=0.2, sampling=(2.0, 1.0, 1.0))
    elif case == "sheet":
        _, objects, interior = _confluent_sheet((24, 96, 96), 40)
        sizes, options = dict(batch_pixels=2048, giant_pixels=4096), dict(seed_height_fraction=0.2)
    else:
        _, objects, interior = _chain_of_discs()
        monkeypatch.setattr(huge_components, "DEPTH_CAP", 8)
        sizes, options = dict(batch_pixels=1024, giant_pixels=4096), dict(seed_height_fraction=0.2)
    fractions = []
    labels = drain(relay(iter_labels_in_batches(objects, interior, min_size=4, **sizes, **options),
                         fractions.append))
    assert len(fractions) > 5 and fractions == sorted(set(fractions)) and fractions[-1] == 1.0
    np.testing.assert_array_equal(labels, labels_from_masks(objects, interior, min_size=4,
                                                            **sizes, **options))
