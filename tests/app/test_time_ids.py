"""Reviewed objects' ids carried through a series segmented again (``app.time_ids``)."""

from __future__ import annotations

import numpy as np

from unet_studio.app.time_ids import adopt_kept_ids


def _series():
    """Time point 1 reviewed: nucleus 50 there. The engine's run around it: track 1 at time
    point 0, and the same nucleus as track 2 from time point 2 on (its linking broke)."""
    labels = np.zeros((4, 20, 30), np.int32)
    kept = np.zeros(labels.shape, bool)
    labels[1, 5:10, 5:10], kept[1] = 50, True
    labels[0, 5:10, 5:10] = 1
    labels[2:4, 5:10, 6:11] = 2
    return labels, kept


def test_a_track_broken_next_to_a_reviewed_time_point_takes_its_id_on_both_sides():
    labels, kept = _series()
    adopt_kept_ids(labels, (slice(None),) * 3, kept, 0)
    assert [int(labels[t, 7, 8]) for t in range(4)] == [50, 50, 50, 50]


def test_two_tracks_alive_at_one_time_point_never_share_the_reviewed_id():
    """Track 1 is seen again at time point 3 beside track 2: they are two objects, so only
    the first takes the reviewed id."""
    labels, kept = _series()
    labels[3, 14:19, 20:25] = 1
    adopt_kept_ids(labels, (slice(None),) * 3, kept, 0)
    assert labels[0, 7, 7] == 50 and labels[3, 16, 22] == 50
    assert labels[2, 7, 8] == 2 and labels[3, 7, 8] == 2
