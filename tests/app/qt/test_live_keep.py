"""A run over a series streaming into the labels, stopped keeping its time points done
(``LiveLabelsDestination.keep_finished``): the time points the engine's progress said done
stay, the others come back as they were; an engine id that a time point put back holds for
another object is renumbered, an object the same as one shown before keeps its id."""

from __future__ import annotations

import numpy as np

from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.models.generators import drain
from unet_studio.models.pipeline import ImageProgress


def _series(instances: bool = True):
    """Labels (T, Y, X) = (3, 8, 8) with an object at the top left of each time point (id 9
    at the first, then 5), and a destination over all of them, prepared (its backup read)."""
    before = np.zeros((3, 8, 8), np.int32)
    before[:, :3, :3] = 5
    before[0, :3, :3] = 9
    labels = before.copy()
    live = LiveLabelsDestination(labels, (slice(None),) * 3, time_axis=0, instances=instances)
    drain(live.iter_prepare())
    return before, labels, live


def _postprocess(live, t: int) -> None:
    live.note(ImageProgress("postprocess", t + 1, 3, (slice(t, t + 1),), 2))


def test_the_time_points_done_stay_and_the_others_come_back():
    before, labels, live = _series()
    done = np.zeros((8, 8), np.int32)
    done[:3, :3] = 2  # the object shown before (id 9), under the engine's id
    done[4:7, 4:7] = 5  # a new object under an id the time points after hold for another
    live[0] = done
    _postprocess(live, 0)
    live[1] = np.full((8, 8), 7)  # provisional labels of the time point under way
    live.keep_done = True
    live.keep_finished()
    assert live.kept_time_points == 1 and live.restored
    np.testing.assert_array_equal(labels[1:], before[1:])
    assert (labels[0, :3, :3] == 9).all()  # the same object: the id shown before
    new = labels[0, 4:7, 4:7]
    assert len(np.unique(new)) == 1 and new[0, 0] not in (0, 5, 9)  # another object


def test_a_class_map_keeps_the_time_points_whose_tiles_all_ran():
    before, labels, live = _series(instances=False)
    for t in (0, 1):
        live[t] = np.full((8, 8), 1)
        live.note(ImageProgress("predict", t + 1, 3, (slice(t, t + 1), slice(0, 8), slice(0, 8))))
    live.keep_finished()
    assert live.kept_time_points == 1
    assert (labels[0] == 1).all()
    np.testing.assert_array_equal(labels[1:], before[1:])
