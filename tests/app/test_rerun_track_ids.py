"""A whole series segmented again over unreviewed labels of an earlier run: the new run's
tracks stand as a fresh run makes them. The labels shown before lend their ids to the same
objects (``app.shown_ids``) but never cut one of the run's tracks nor join two of them
(QA: phase-contrast E. coli, Segment at other settings and back, 33 tracks became 35)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from skimage.draw import disk
from skimage.measure import label

from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.models.time_links import TimeLinker

SHAPE = (4, 48, 64)  # (T, Y, X)
# Three discs drifting right: each is one track over the four time points.
CENTRES = [(10, 10), (24, 30), (38, 12)]


def _foreground() -> np.ndarray:
    mask = np.zeros(SHAPE, bool)
    for t in range(SHAPE[0]):
        for y, x in CENTRES:
            mask[t][disk((y, x + 3 * t), 5, shape=SHAPE[1:])] = True
    return mask


def _linked(frames: np.ndarray) -> np.ndarray:
    """The engine's labels: each time point 1..N, linked over time in time order."""
    labels = frames.astype(np.int32)
    linker = TimeLinker(labels.shape[0])
    for t in range(labels.shape[0]):
        linker.link(t, labels[t])
    return labels


def _streamed(shown: np.ndarray, engine: np.ndarray) -> np.ndarray:
    """A run of the whole series streamed into labels showing ``shown`` (nothing reviewed),
    as the Segment panel streams it (``LiveLabelsDestination``)."""
    live = shown.copy()
    destination = LiveLabelsDestination(live, (slice(None),) * live.ndim, None, None, time_axis=0)
    for t in range(engine.shape[0]):
        destination[t] = engine[t]
    destination.finish()
    return live


def _same_tracks(a: np.ndarray, b: np.ndarray) -> bool:
    """The same objects over time: one id of ``a`` is one id of ``b`` and the other way."""
    if not np.array_equal(a > 0, b > 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def test_an_earlier_run_linked_otherwise_lends_ids_but_not_its_tracks():
    """The labels shown come from a run that linked nothing (each time point numbered on
    its own, in another order): the discs keep one id each over time, an id they were shown
    with, and no two discs share one."""
    foreground = _foreground()
    shown = np.stack([label(frame) for frame in foreground]).astype(np.int32)
    shown[1:] = np.where(shown[1:] > 0, 4 - shown[1:], 0)  # (other numbers after time point 0)
    engine = _linked(np.stack([label(frame) for frame in foreground]))
    again = _streamed(shown, engine)
    assert _same_tracks(again, engine)
    assert set(np.unique(again).tolist()) <= set(np.unique(shown).tolist())


@pytest.fixture(scope="module")
def hela_runs(test_data_dir):
    """HeLa nuclei (T, Y, X) = (2, 160, 160), segmented by the bundled default model through
    the Segment panel's own path (``iter_segment`` streaming into ``LiveLabelsDestination``):
    ``run(labels, **settings)`` segments the whole series into ``labels`` (in place)."""
    from unet_studio.app.host import HostImage, ViewState
    from unet_studio.app.model_library import bundled_models_dir
    from unet_studio.app.qt.segment_logic import SegmentRequest, iter_segment, plan_job
    from unet_studio.models.generators import drain
    from unet_studio.models.weights import load_model

    image = tifffile.imread(test_data_dir / "train_img.tif")
    model = bundled_models_dir() / "default"
    net = load_model(model)
    host_image = HostImage(image, "TYX", {"T": 1.0, "Y": 1.0, "X": 1.0}, "hela")
    view = ViewState((0, 0, 0), (1, 2), (slice(0, 1), slice(0, 160), slice(0, 160)))

    def run(labels: np.ndarray, **settings) -> np.ndarray:
        request = SegmentRequest(model_path=model, device="cpu", **settings)
        job = plan_job(host_image, request, view, "YX", 1)
        live = LiveLabelsDestination(labels, job.target, None, None, time_axis=job.time_axis)
        drain(iter_segment(job, None, live, net))
        return labels.copy()

    return image.shape, run


def test_segmenting_again_at_other_settings_gives_the_tracks_of_a_fresh_run(hela_runs):
    """Default settings, then a deeper split with a larger minimum size over them, then the
    defaults again: each run has the tracks a run into empty labels has (the defaults again
    even the same labels, ids included, as when nothing came between)."""
    shape, run = hela_runs
    other = {"min_size": 100, "seed_height": 1.0}
    fresh_default = run(np.zeros(shape, np.int32))
    fresh_other = run(np.zeros(shape, np.int32), **other)
    assert not _same_tracks(fresh_default, fresh_other)  # (the settings change the objects)

    labels = np.zeros(shape, np.int32)
    first = run(labels)
    assert _same_tracks(run(labels, **other), fresh_other)
    assert _same_tracks(run(labels), fresh_default)
    np.testing.assert_array_equal(run(labels), run(labels))  # (identical runs back to back)
    np.testing.assert_array_equal(first, fresh_default)


def _segmented_again_alone(labels: np.ndarray, t: int, objects: np.ndarray) -> np.ndarray:
    """Time point ``t`` of ``labels`` segmented again on its own ("Run on: current time
    point"), the engine finding ``objects`` there, numbered 1..N in an order of its own."""
    live = labels.copy()
    destination = LiveLabelsDestination(live, (slice(t, t + 1), slice(None), slice(None)),
                                        None, None, time_axis=0)
    ids = np.unique(objects[objects > 0])
    renumber = np.zeros(int(objects.max()) + 1, np.int32)
    renumber[ids] = np.random.default_rng(t).permutation(len(ids)) + 1
    destination[(slice(0, 1),)] = renumber[objects][None]
    destination.finish()
    return live


def test_a_time_point_segmented_again_into_the_same_objects_keeps_every_id():
    """Two discs tracked over four time points, a third whose track the user cut at time
    point 2 (a new id from there: another cell came in where it left), and a cell that
    leaves after time point 0 beside one that comes in at 1. Each time point segmented again
    alone, into the same objects: every id stays as it was (paired anew with its
    neighbours, the disc after the cut took the old id back, the cut undone, and the cell
    that left took the id of the one that came: their tracks joined)."""
    labels = np.zeros(SHAPE, np.int32)
    for t in range(SHAPE[0]):
        for track, (y, x) in ((1, (10, 10)), (2, (38, 12))):
            labels[t][disk((y, x + 2 * t), 5, shape=SHAPE[1:])] = track
        cell = 3 if t < 2 else 7  # (the user's cut)
        labels[t][disk((24, 30 + 4 * t), 5, shape=SHAPE[1:])] = cell
        if t == 0:  # a cell that leaves after time point 0...
            labels[t][disk((38, 40), 5, shape=SHAPE[1:])] = 9
        else:  # ...and one that comes in beside it at time point 1
            labels[t][disk((38, 44 + 2 * t), 5, shape=SHAPE[1:])] = 11
    for t in range(SHAPE[0]):
        again = _segmented_again_alone(labels, t, labels[t])
        np.testing.assert_array_equal(again, labels, err_msg=f"time point {t}")
