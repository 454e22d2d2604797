"""What is on screen runs first: tile order around a region, and the same result in any order.

Also the pipeline's streaming of provisional labels tile by tile (issue 5)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from unet_studio.models.inference import iter_predict_image, predict_image, predict_tiled
from unet_studio.models.provisional import provisional_labels
from unet_studio.models.tile_order import order_tiles, tile_priority
from unet_studio.models.tiling import NetGeometry, make_plan

DATA = Path(__file__).resolve().parents[1] / "data"


def geometry(divisor=8, halo=16):
    return NetGeometry(2, (divisor,) * 2, (halo,) * 2, (0,) * 2, "same", True)


def _meets(region, first) -> bool:
    return all(r.start < f.stop and f.start < r.stop for r, f in zip(region, first))


def test_plan_ordered_around_a_region_has_the_same_tiles_visible_slice_first():
    outers = [(z,) for z in range(4)]
    plain = make_plan("exact", (100, 120), 24, geometry(), outers=outers)
    first = (slice(2, 3), slice(40, 70), slice(10, 50))  # slice 2, a field of view
    ordered = make_plan("exact", (100, 120), 24, geometry(), outers=outers, first=first)
    assert sorted(map(repr, ordered.tiles)) == sorted(map(repr, plain.tiles))
    assert ordered.tiles != plain.tiles
    zs = [t.outer[0] for t in ordered.tiles]
    per_slice = len(plain) // 4
    assert zs[:per_slice] == [2] * per_slice  # the visible slice, all of it, first
    assert set(zs[per_slice:3 * per_slice]) == {1, 3}  # then its neighbours
    meets = [_meets(t.region, first) for t in ordered.tiles[:per_slice]]
    assert meets == sorted(meets, reverse=True) and meets[0] and not meets[-1]
    # within the field of view, nearest its centre first
    centre = np.array([55.0 - 0.5, 30.0 - 0.5])
    inside = [t for t in ordered.tiles if _meets(t.region, first)]
    distances = [np.sum((np.array([(c.start + c.stop - 1) / 2 for c in t.core]) - centre) ** 2)
                 for t in inside]
    assert distances == sorted(distances)


def test_order_without_a_region_is_the_plan_order_and_bad_regions_are_refused():
    plan = make_plan("exact", (64, 64), 16, geometry())
    assert order_tiles(plan.tiles, None) == plan.tiles
    with pytest.raises(ValueError, match="one slice per tile axis"):
        tile_priority(plan.tiles[0].region, (slice(0, 1),))


@pytest.fixture(scope="module")
def tiny_net():
    import torch

    from unet_studio.models.registry import build_model

    torch.manual_seed(0)
    return build_model("unet", spatial_dims=2, base_channels=4, depth=2).eval()


def test_prediction_ordered_around_a_region_equals_the_plain_run(tiny_net):
    image = np.random.default_rng(1).random((90, 130)).astype(np.float32)
    plain = predict_tiled(tiny_net, image, tile_shape=16, device="cpu")
    ordered = predict_tiled(tiny_net, image, tile_shape=16, device="cpu",
                            first=(slice(70, 71), slice(100, 120)))
    np.testing.assert_array_equal(plain, ordered)


def instance_net(image: np.ndarray):
    """The tiny U-Net with its background output shifted so that about 40 % of ``image``
    (Y, X) is foreground: random weights give blobs that follow the intensities, so the
    labels have many objects (an untouched random net calls everything foreground)."""
    import torch

    from unet_studio.models.normalize import normalize_intensity, percentile_range
    from unet_studio.models.registry import build_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, base_channels=4, depth=2).eval()
    lo, hi = percentile_range(image, 1.0, 99.8)
    logits = predict_tiled(net, normalize_intensity(image, lo, hi), device="cpu")
    others = np.logaddexp(logits[1], logits[2]) - logits[0]
    last = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        last.bias[0] += float(np.quantile(others, 0.6))
    return net


@pytest.fixture(scope="module")
def nuclei():
    return tifffile.imread(DATA / "gui_nuclei3d_img.tif")[:4]  # (Z, Y, X) = (4, 96, 96)


def _run(net, image, **options):
    steps = []
    generator = iter_predict_image(net, image, axes="ZYX", tile_shape=16, device="cpu",
                                   **options)
    while True:
        try:
            steps.append(next(generator))
        except StopIteration as stop:
            return steps, stop.value


def test_streamed_labels_arrive_per_tile_visible_first_and_end_equal(nuclei):
    net = instance_net(nuclei[2])
    plain = predict_image(net, nuclei, axes="ZYX", tile_shape=16, device="cpu")
    assert plain.max() >= 5  # real objects, not one blob

    out = np.zeros(nuclei.shape, np.int32)
    seen = []  # (slice of the tile, labelled pixels of slice 2 so far)
    first = {"Z": slice(2, 3), "Y": slice(20, 60), "X": slice(30, 90)}
    generator = iter_predict_image(net, nuclei, axes="ZYX", tile_shape=16, device="cpu",
                                   out=out, first=first, provisional=True)
    for step in generator:
        if step.stage == "predict":
            seen.append((step.region[0].start, int((out[2] > 0).sum())))
    np.testing.assert_array_equal(out, plain)  # the watershed replaced every provisional id
    per_slice = len(seen) // 4
    assert [z for z, _ in seen[:per_slice]] == [2] * per_slice
    growing = [count for _, count in seen[:per_slice]]
    assert growing[0] < growing[-1] and growing == sorted(growing)  # arriving tile by tile
    assert 0.5 * (plain[2] > 0).sum() < growing[-1]


def test_provisional_labels_are_unique_per_tile_and_stay_inside_objects():
    objects = np.zeros((20, 30), bool)
    objects[2:8, 2:10] = objects[12:18, 5:25] = True
    interior = np.zeros_like(objects)
    interior[4:6, 4:8] = interior[14:16, 8:22] = True
    labels, count = provisional_labels(objects, interior)
    assert count == 2 and labels.dtype == np.int32
    assert set(np.unique(labels[objects])) <= {0, 1, 2} and not labels[~objects].any()
    assert labels[3, 3] == labels[5, 5] != labels[15, 15] == labels[12, 6]
    empty, none = provisional_labels(objects, np.zeros_like(objects))
    assert none == 0 and not empty.any()


def test_the_time_point_on_screen_is_labelled_first_set_aside_and_linked_in_time_order(
        nuclei, monkeypatch):  # fmt: skip
    """A series with the last time point on screen: labelled first (shown at once), its
    labels set aside (here on disk: the threshold at 0 bytes) until time points 0, 1, 2 are
    linked, then linked in its turn: the ids of a run without ``first``."""
    from unet_studio.models import stack_run

    net = instance_net(nuclei[2])
    plain = predict_image(net, nuclei, axes="TYX", tile_shape=32, device="cpu")
    assert len(set(np.unique(plain[0])) & set(np.unique(plain[3])) - {0}) >= 2  # tracks
    monkeypatch.setattr(stack_run, "SET_ASIDE_BYTES", 0)
    out = np.zeros(nuclei.shape, np.int32)
    generator = iter_predict_image(net, nuclei, axes="TYX", tile_shape=32, device="cpu",
                                   out=out, first={"T": slice(3, 4)})
    labelled = [step.region[0].start for step in generator if step.stage == "postprocess"]
    assert labelled == [3, 0, 1, 2, 3]
    np.testing.assert_array_equal(out, plain)
