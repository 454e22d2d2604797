"""`unet-studio evaluate` reads both label images a slab at a time and sums the contingency
table over the slabs: the scores must equal those of the whole images in memory, whatever
the slab size (slabs smaller than the objects, cut inside a plane), frame by frame for a
time series, and the memory must not grow with the stack."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from unet_studio.app.commands.evaluate import iter_scores, score_files
from unet_studio.app.errors import InputFileError
from unet_studio.app.io import write_stack
from unet_studio.models import metrics
from unet_studio.models.generators import drain
from unet_studio.models.metrics import object_scores, object_scores_many


def blobs(shape, seed: int, level: float = 0.55) -> np.ndarray:
    """Labelled smooth random blobs: objects of many sizes, some touching, crossing planes."""
    noise = ndimage.gaussian_filter(np.random.default_rng(seed).random(shape), 2)
    labels, _ = ndimage.label(noise > np.quantile(noise, level))
    return labels


def pair(shape):
    """A ground truth and a prediction that matches some of its objects and not others."""
    true = blobs(shape, 0)
    pred = np.roll(blobs(shape, 0, 0.6), 1, axis=-1) * 3  # shrunk, shifted, other ids
    pred[..., : shape[-1] // 3] = blobs(shape, 1)[..., : shape[-1] // 3]  # unrelated objects
    return pred.astype(np.uint16), true.astype(np.int32)


def frames(labels: np.ndarray, axes: str) -> list:
    return list(labels) if axes == "TYX" else [labels]


@pytest.mark.parametrize("axes", ["ZYX", "TYX"])
@pytest.mark.parametrize("slab_pixels", [1, 7, 100, 24 * 28, 3 * 24 * 28, 10**6])
def test_any_slab_size_gives_the_whole_image_scores(axes, slab_pixels):
    pred, true = pair((6, 24, 28))
    whole = object_scores_many(zip(frames(pred, axes), frames(true, axes)))
    assert drain(iter_scores(pred, true, axes, slab_pixels=slab_pixels)) == whole
    assert 0 < whole["f1_50"] < 1  # (a scene with matches and misses)


def test_an_object_cut_by_every_slab_is_one_object():
    """A tube through all planes and a prediction covering three quarters of it: cut into
    one-plane slabs, and each plane cut in two, it is still one object with IoU 0.75 (as
    separate pieces per slab it would be 8 or 16 objects)."""
    true = np.zeros((8, 10, 12), np.uint8)
    true[:, 2:6, 3:9] = 4
    pred = np.zeros_like(true)
    pred[:6, 2:6, 3:9] = 9
    for slab_pixels in (10 * 12, 5 * 12):
        scores = drain(iter_scores(pred, true, "ZYX", slab_pixels=slab_pixels))
        assert (scores["n_pred"], scores["n_true"]) == (1, 1)
        assert scores["mean_matched_iou"] == 0.75
        assert scores["f1_50"] == 1.0 and scores["f1_75"] == 1.0


def test_a_series_gets_one_table_per_frame():
    """The prediction of each frame is the truth of the next, with the same ids: summed over
    frames they would match; frame by frame nothing does."""
    true = blobs((4, 20, 20), 2)
    true = np.stack([np.roll(true[0], 6 * t, axis=1) for t in range(4)])
    pred = np.roll(true, 1, axis=0)
    series = drain(iter_scores(pred, true, "TYX", slab_pixels=50))
    assert series == object_scores_many(zip(pred, true))
    assert series["f1_50"] < 0.5
    assert drain(iter_scores(pred, true, "ZYX", slab_pixels=50)) == object_scores(pred, true)


@pytest.mark.parametrize("merge_above", [1, 10**9])
def test_merging_the_tables_early_or_late_gives_the_same_scores(monkeypatch, merge_above):
    """Every block's parts merged at once (1) or all kept to the end (10**9)."""
    monkeypatch.setattr(metrics, "_MERGE_ABOVE_ROWS", merge_above)
    pred, true = pair((5, 30, 20))
    assert drain(iter_scores(pred, true, "ZYX", slab_pixels=33)) == object_scores(pred, true)


class CountingReads:
    """An array-like that records the largest read (in pixels) and how many were made."""

    def __init__(self, array: np.ndarray):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype
        self.largest, self.reads = 0, 0

    def __getitem__(self, key):
        block = self.array[key]
        self.largest, self.reads = max(self.largest, block.size), self.reads + 1
        return block


def test_the_files_are_read_a_slab_at_a_time():
    pred, true = pair((6, 24, 28))
    lazy_pred, lazy_true = CountingReads(pred), CountingReads(true)
    scores = drain(iter_scores(lazy_pred, lazy_true, "ZYX", slab_pixels=2 * 24 * 28))
    assert scores == object_scores(pred, true)
    assert lazy_pred.largest == lazy_true.largest == 2 * 24 * 28
    assert lazy_pred.reads == lazy_true.reads == 3


def test_a_bad_id_stops_the_reading_where_it_is_found():
    true = blobs((6, 24, 28), 3).astype(np.int16)
    true[1, 0, 0] = -2
    lazy = CountingReads(true)
    with pytest.raises(InputFileError, match=r"^truth\.tif: holds negative ids \(as low as -2\)"):
        drain(iter_scores(np.zeros_like(true), lazy, "ZYX", slab_pixels=24 * 28,
                          names=("pred.tif", "truth.tif")))
    assert lazy.reads == 2  # planes 0 and 1 of six


def test_uint64_ids_beyond_int64_in_a_late_slab_name_the_file(tmp_path):
    true = np.zeros((5, 8, 8), np.uint64)
    true[:, 2:5, 2:5] = 1
    true[4, 6, 6] = 2**63 + 1
    path = tmp_path / "truth.tif"
    tifffile.imwrite(path, true)
    with pytest.raises(InputFileError, match=f"truth.tif: holds the id {2**63 + 1}"):
        score_files(str(path), str(path), slab_pixels=64)


@pytest.mark.parametrize("compression", [None, "zlib"])  # memory-mapped; decoded by strips
@pytest.mark.parametrize("axes", ["ZYX", "TYX"])
def test_files_score_as_the_whole_images_in_memory(tmp_path, axes, compression):
    pred, true = pair((5, 40, 36))
    pred_path = write_stack(tmp_path / "pred.tif", pred, axes=axes, kind="labels")
    true_path = tmp_path / "true.tif"
    tifffile.imwrite(true_path, true, metadata={"axes": axes}, compression=compression)
    whole = object_scores_many(zip(frames(pred.astype(np.int64), axes),
                                   frames(true.astype(np.int64), axes)))
    for slab_pixels in (None, 300):
        assert score_files(str(pred_path), str(true_path), slab_pixels=slab_pixels) == whole


def test_memory_does_not_grow_with_the_stack(tmp_path, monkeypatch):
    """Peak of numpy's allocations while scoring memory-mapped (uncompressed) files: whole
    images in memory needed ~60 bytes per pixel of the pair (63 MB at 64 planes); a slab at
    a time needs a few slabs' worth whatever the depth. (The first run imports modules.)"""
    # The slabs' tables wait for a merge up to a fixed number of rows (1.5 MB at most by
    # default, a constant): here fewer, so that a growth with the depth would show.
    monkeypatch.setattr(metrics, "_MERGE_ABOVE_ROWS", 512)
    peaks = []
    for depth in (4, 16, 64):
        true = np.tile(blobs((4, 128, 128), 4).astype(np.uint16), (depth // 4, 1, 1))
        paths = [tmp_path / f"{name}{depth}.tif" for name in ("pred", "true")]
        tifffile.imwrite(paths[0], true[:, ::-1], imagej=True, metadata={"axes": "ZYX"})
        tifffile.imwrite(paths[1], true, imagej=True, metadata={"axes": "ZYX"})
        tracemalloc.start()
        score_files(*map(str, paths), slab_pixels=128 * 128)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[2] < 1.5 * peaks[1] and peaks[2] < 2**20, peaks
