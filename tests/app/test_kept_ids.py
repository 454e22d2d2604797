"""A new prediction around reviewed regions: an object their edge cuts keeps one id."""

from __future__ import annotations

import numpy as np
import pytest

from unet_studio.app.kept_ids import adopt_touching_ids, edge_contacts


@pytest.mark.parametrize("slab_pixels", [7, 1 << 22])
def test_contacts_across_the_edge_are_counted_once_per_face(slab_pixels):
    labels = np.zeros((4, 3, 3), np.int32)
    labels[:, 1, 1] = 5  # a column through the planes, plane 2 kept
    labels[2, 1, 2] = 6  # kept, touching 5's kept pixel only (no face across the edge)
    kept = np.zeros(labels.shape, bool)
    kept[2] = True
    assert edge_contacts(labels, kept, slab_pixels=slab_pixels) == {(5, 5): 2}


@pytest.mark.parametrize("slab_pixels", [50, 1 << 22])
def test_a_nucleus_cut_by_a_reviewed_plane_goes_on_under_its_kept_id(slab_pixels):
    """Plane 2 is reviewed (nuclei 7 and 8, the user's); the new prediction's nucleus 1
    above and below 7 takes 7, its neighbour 2 that only grazes 7 keeps its own id, and 8
    (drawn where the network finds nothing) stays alone."""
    labels = np.zeros((5, 12, 12), np.int32)
    labels[:, 2:6, 2:6] = 1  # the engine's nucleus, through every plane
    labels[:, 2:6, 6:10] = 2  # its neighbour, touching it
    kept = np.zeros(labels.shape, bool)
    kept[2] = True
    labels[2] = 0
    labels[2, 2:6, 2:6] = 7
    labels[2, 2:6, 6:10] = 9  # the user's id of the neighbour
    labels[2, 8:11, 2:5] = 8
    labels[:, 8:11, 2:5][[0, 1, 3, 4]] = 0
    before = labels[2].copy()
    adopt_touching_ids(labels, kept, slab_pixels=slab_pixels)
    np.testing.assert_array_equal(labels[2], before)
    for z in (0, 1, 3, 4):
        assert (labels[z, 2:6, 2:6] == 7).all() and (labels[z, 2:6, 6:10] == 9).all()


def test_a_new_object_between_two_kept_ones_takes_neither_when_it_is_nobodys_main_part():
    """2D: a new object touching two kept objects about equally is no continuation of
    either: it keeps its id."""
    labels = np.zeros((6, 12), np.int32)
    kept = np.zeros(labels.shape, bool)
    kept[:, :4] = kept[:, 8:] = True
    labels[1:5, 1:4], labels[1:5, 8:11] = 3, 4
    labels[1:5, 4:8] = 20
    adopt_touching_ids(labels, kept)
    assert (labels[1:5, 4:8] == 20).all()


def test_the_live_destination_keeps_one_id_for_a_nucleus_cut_by_a_reviewed_plane():
    """Through the Segment panel's destination: a whole stack predicted again around a
    reviewed plane (the R key) gives each nucleus one id, not one above and one in it."""
    from unet_studio.app.qt.live_labels import LiveLabelsDestination
    from unet_studio.app.reviewed import ReviewedRegions

    live = np.zeros((5, 12, 12), np.int32)
    live[:, 2:6, 2:6] = 3  # the first run's nucleus 3
    regions = ReviewedRegions(live.shape)
    regions.mark_slice(2)
    out = LiveLabelsDestination(live, (slice(None),) * 3, regions)
    engine = np.zeros(live.shape, np.int32)
    engine[:, 2:6, 2:6] = 1  # the engine numbers from 1: first a clash, given a fresh id
    engine[:, 8:11, 8:11] = 3  # another nucleus holding 3, the kept id: it must not keep it
    out[...] = engine
    out.finish()
    assert (live[:, 2:6, 2:6] == 3).all()
    other = live[0, 9, 9]  # (plane 2 reviewed as background there: it stays so)
    assert other not in (0, 3) and (live[[0, 1, 3, 4], 8:11, 8:11] == other).all()


@pytest.mark.parametrize("dtype, base", [(np.uint32, 2**32 - 100), (np.int64, 2**40)])
def test_kept_ids_past_31_bits_are_counted_as_themselves(dtype, base):
    """A kept id imported from another tool (uint32 near 2**32, int64 past 2**40): the faces
    are counted for that id, not for one cut to 32 bits or turned negative."""
    labels = np.zeros((3, 6, 6), dtype)
    labels[:, 1:4, 1:4] = 1  # the new prediction's object through the planes
    kept = np.zeros(labels.shape, bool)
    kept[1] = True
    labels[1, 1:4, 1:4] = base + 7  # the user's id of it in the reviewed plane
    assert edge_contacts(labels, kept) == {(1, base + 7): 18}
    adopt_touching_ids(labels, kept)
    assert (labels[:, 1:4, 1:4] == base + 7).all()
