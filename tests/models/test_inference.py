"""Tiled inference equals the whole-image pass, streams into any destination, and cancels cleanly.

Networks are real registry networks at tiny widths, in eval mode with BatchNorm whose
running statistics and affine parameters are random (so normalisation is not an identity).
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest
import torch

from unet_studio.models import exactness
from unet_studio.models.class_masks import softmax
from unet_studio.models.inference import (
    drain,
    iter_predict,
    iter_run_plan,
    predict_image,
    predict_tiled,
)
from unet_studio.models.postprocess import instance_labels
from unet_studio.models.task import TaskSpec
from unet_studio.models.tile_runner import InferenceSession
from unet_studio.models.tiling import NetGeometry, make_plan


def random_bn_net(name="unet", *, seed=0, **options):
    """Tiny (base 4, depth 2) unless told otherwise; see models.exactness."""
    return exactness.random_bn_net(name, seed=seed, **{"base_channels": 4, "depth": 2, **options})


def untiled(net, image: np.ndarray, flips=((),)) -> np.ndarray:
    """The network once over the whole image: reflect-padded to an accepted shape (valid
    networks: mirrored by their border offset first), cropped back to the image."""
    shape = image.shape
    if net.padding == "valid":
        offset = NetGeometry.from_net(net).offset
        total = net.valid_input_shape(tuple(s + 2 * o for s, o in zip(shape, offset)))
        pads = [(o, t - o - s) for o, t, s in zip(offset, total, shape)]
    else:
        pads = [(0, p - s) for p, s in zip(net.valid_input_shape(shape), shape)]
    x = torch.from_numpy(np.pad(image, pads, mode="reflect"))[None, None]
    with torch.no_grad():
        y = sum(net(x.flip(f)).flip(f) if f else net(x) for f in flips) / len(flips)
    return y[0].numpy()[(slice(None), *[slice(0, s) for s in shape])]


def relative_error(a, b) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


CASES = [  # (padding, spatial shape, core sizes): odd sizes, several tile sizes
    ("same", (101, 77), [8, 20]),
    ("valid", (93, 70), [8, 24]),
    ("same", (75, 21, 19), [8]),
    ("valid", (30, 11, 9), [8]),
]


@pytest.mark.parametrize("padding,shape,cores", CASES)
def test_tiled_equals_untiled_for_random_batchnorm_networks(padding, shape, cores):
    net = random_bn_net(spatial_dims=len(shape), padding=padding, out_channels=3)
    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    reference = untiled(net, image)
    for core in cores:
        mode = "exact" if padding == "same" else "valid"
        assert len(make_plan(mode, shape, core, NetGeometry.from_net(net))) > 1
        out = predict_tiled(net, image, tile_shape=core, device="cpu")
        assert out.shape == (3, *shape) and out.dtype == np.float32
        assert relative_error(out, reference) <= 1e-5


def test_a_halo_shorter_than_the_receptive_radius_is_caught():
    """The comparison above is not vacuous: half the halo gives errors far above 1e-5."""
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(1).random((101, 77), dtype=np.float32)
    geometry = NetGeometry.from_net(net)
    short = dataclasses.replace(geometry, halo=tuple(h // 2 for h in geometry.halo))
    plan = make_plan("exact", image.shape, 8, short)
    out = np.zeros((3, *image.shape), np.float32)
    with InferenceSession(net, "cpu") as session:
        drain(iter_run_plan(session, image[None], plan, out, short, batch_size=4))
    assert relative_error(out, untiled(net, image)) > 1e-3


def test_residual_unet_tiles_exactly_too():
    net = random_bn_net("residual_unet", spatial_dims=2)
    image = np.random.default_rng(2).random((83, 61), dtype=np.float32)
    assert relative_error(predict_tiled(net, image, tile_shape=12, device="cpu"),
                          untiled(net, image)) <= 1e-5


def test_tile_larger_than_image_runs_one_tile():
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(3).random((45, 38), dtype=np.float32)
    steps = list(iter_predict(net, image, tile_shape=4096, device="cpu"))
    assert len(steps) == 1 and steps[0].total == 1
    assert steps[0].region == (slice(0, 45), slice(0, 38))


def test_multichannel_input_and_training_flag_restored():
    net = random_bn_net(spatial_dims=2, in_channels=2)
    net.train()
    image = np.random.default_rng(4).random((2, 70, 66), dtype=np.float32)
    out = predict_tiled(net, image, tile_shape=16, device="cpu")
    assert net.training  # put back as it was
    net.eval()
    with torch.no_grad():
        x = torch.from_numpy(np.pad(image, [(0, 0), (0, 2), (0, 2)], mode="reflect"))[None]
        reference = net(x)[0].numpy()[:, :70, :66]
    assert relative_error(out, reference) <= 1e-5
    with pytest.raises(ValueError, match="2, \\*spatial"):
        predict_tiled(net, image[0], device="cpu")


def test_cancel_leaves_finished_regions_written_and_the_rest_untouched():
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(5).random((120, 100), dtype=np.float32)
    reference = untiled(net, image)
    out = np.full((3, *image.shape), np.nan, dtype=np.float32)
    steps = iter_predict(net, image, tile_shape=16, device="cpu", out=out, batch_size=2)
    finished = [next(steps).region for _ in range(5)]
    steps.close()
    written = np.zeros(image.shape, bool)
    for region in finished:
        written[region] = True
    assert relative_error(out[:, written], reference[:, written]) <= 1e-5
    assert np.isnan(out[:, ~written]).all() and (~written).any()
    assert not net.training


def test_output_streams_into_a_memmap(tmp_path):
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(6).random((90, 71), dtype=np.float32)
    out = np.lib.format.open_memmap(tmp_path / "out.npy", mode="w+", dtype=np.float32,
                                    shape=(3, 90, 71))
    result = predict_tiled(net, image, tile_shape=24, device="cpu", out=out)
    assert result is out
    out.flush()
    on_disk = np.load(tmp_path / "out.npy", mmap_mode="r")
    assert relative_error(np.asarray(on_disk), untiled(net, image)) <= 1e-5


def test_output_streams_into_a_zarr_array(tmp_path):
    zarr = pytest.importorskip("zarr")
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(7).random((64, 50), dtype=np.float32)
    out = zarr.open_array(str(tmp_path / "out.zarr"), mode="w", shape=(3, 64, 50),
                          chunks=(3, 32, 32), dtype="float32")
    predict_tiled(net, image, tile_shape=16, device="cpu", out=out)
    assert relative_error(out[:], untiled(net, image)) <= 1e-5


def test_out_of_memory_shrinks_batch_then_tile_and_finishes_exactly(memory_limited):
    net = random_bn_net(spatial_dims=2)
    limited = memory_limited(net, max_pixels=72 * 72)
    image = np.random.default_rng(8).random((150, 130), dtype=np.float32)
    steps = list(iter_predict(limited, image, tile_shape=64, batch_size=4, device="cpu"))
    assert limited.refused >= 2  # the batch, then the 112-pixel window, were refused
    assert steps[-1].done == steps[-1].total == len(steps)
    first_plan = make_plan("exact", image.shape, 64, NetGeometry.from_net(net))
    assert steps[-1].total > len(first_plan)  # smaller tiles took over the unfinished ones
    out = predict_tiled(limited, image, tile_shape=64, batch_size=4, device="cpu")
    assert relative_error(out, untiled(net, image)) <= 1e-5


def test_test_time_flips_match_flipped_whole_image_passes():
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(9).random((77, 58), dtype=np.float32)
    flips = [f for r in range(3) for f in itertools.combinations((2, 3), r)]
    out = predict_tiled(net, image, tile_shape=16, device="cpu", tta=True)
    assert relative_error(out, untiled(net, image, flips=flips)) <= 1e-5


def test_group_norm_network_uses_blend_mode_and_one_tile_is_exact():
    net = random_bn_net(spatial_dims=2, norm="group")
    assert not net.tile_exact
    image = np.random.default_rng(10).random((90, 80), dtype=np.float32)
    reference = untiled(net, image)
    blended = predict_tiled(net, image, tile_shape=16, device="cpu")
    assert np.isfinite(blended).all() and relative_error(blended, reference) < 1.0
    one_tile = predict_tiled(net, image, tile_shape=1000, device="cpu")
    assert relative_error(one_tile, reference) <= 1e-5


def test_pipeline_normalises_once_and_runs_a_2d_model_slice_by_slice():
    net = random_bn_net(spatial_dims=2, out_channels=3)
    stack = (np.random.default_rng(11).random((3, 61, 70)) * 3000).astype(np.uint16)
    probabilities = predict_image(net, stack, axes="ZYX", task=TaskSpec(),
                                  output_type="probabilities", tile_shape=16, device="cpu")
    lo, hi = np.percentile(stack.astype(np.float32), [1.0, 99.8])
    normalised = ((stack - np.float32(lo)) / np.float32(hi - lo)).astype(np.float32)
    reference = np.stack([softmax(untiled(net, plane)) for plane in normalised], axis=1)
    assert probabilities.shape == (3, 3, 61, 70)
    assert np.abs(probabilities - reference).max() < 1e-4
    labels = predict_image(net, stack, axes="ZYX", task=TaskSpec(), output_type="labels",
                           tile_shape=16, device="cpu")
    assert labels.dtype == np.int32 and labels.shape == (3, 61, 70)
    assert np.array_equal(labels, instance_labels(reference))


def test_pipeline_keeps_objects_crossing_tile_borders_whole():
    net = random_bn_net(spatial_dims=2, out_channels=3, seed=3)
    image = (np.random.default_rng(12).random((96, 96)) * 255).astype(np.uint8)
    tiled = predict_image(net, image, axes="YX", output_type="labels", tile_shape=16,
                          device="cpu", postprocess={"min_size": 1})
    whole = predict_image(net, image, axes="YX", output_type="labels", tile_shape=1000,
                          device="cpu", postprocess={"min_size": 1})
    assert np.array_equal(tiled, whole)
    # Some object spans the border between the first two 16-pixel cores: one label, not two.
    crossing = (tiled[:, 15] == tiled[:, 16]) & (tiled[:, 15] > 0)
    assert crossing.any()


def test_pipeline_refuses_images_that_do_not_fit_the_model():
    net2d = random_bn_net(spatial_dims=2, out_channels=3)
    net3d = random_bn_net(spatial_dims=3, out_channels=3)
    with pytest.raises(ValueError, match="3D image with axes ZYX"):
        predict_image(net3d, np.zeros((30, 30), np.float32), axes="YX",
                      task=TaskSpec(spatial_axes="ZYX"), device="cpu")
    with pytest.raises(ValueError, match="takes 1 channel"):
        predict_image(net2d, np.zeros((2, 30, 30), np.float32), axes="CYX", device="cpu")
    with pytest.raises(ValueError, match="axes"):
        predict_image(net2d, np.zeros((30, 30), np.float32), axes="ZYX", device="cpu")


def test_smallest_tile_out_of_memory_on_the_cpu_stops_with_a_memory_error(memory_limited):
    net = random_bn_net(spatial_dims=2)
    limited = memory_limited(net, max_pixels=4)
    image = np.random.default_rng(13).random((150, 50), dtype=np.float32)
    out = np.full((3, 150, 50), -7.0, np.float32)
    with pytest.raises(MemoryError, match="smallest tile on the CPU"):
        predict_tiled(limited, image, tile_shape=64, batch_size=2, device="cpu", out=out)
    # The batch, then ever smaller windows until one would not shrink (the 50-column axis is
    # shorter than any core plus the halo): then the run stops instead of looping.
    assert limited.refused >= 4
    assert (out == -7.0).all()  # nothing half-written


class _Recorder:
    """Source and session hooks that log the order of reads, launches and collections."""

    def __init__(self, image):
        self.image, self.shape, self.events = image, (1, *image.shape), []

    def __getitem__(self, key):
        self.events.append("read")
        return self.image[key[1:]][None]


class _LoggingSession(InferenceSession):
    def __init__(self, net, events):
        super().__init__(net, "cpu")
        self.events = events

    def submit(self, windows):
        self.events.append("submit")
        return super().submit(windows)

    def collect(self, handle):
        self.events.append("collect")
        return super().collect(handle)


def test_next_batch_is_read_and_launched_before_the_previous_one_is_collected():
    """The order that lets CUDA copy and compute one batch while the next is read."""
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(14).random((160, 72), dtype=np.float32)
    recorder = _Recorder(image)
    plan = make_plan("exact", image.shape, 16, NetGeometry.from_net(net))
    assert len(plan) >= 3
    out = np.zeros((3, 160, 72), np.float32)
    with _LoggingSession(net, recorder.events) as session:
        drain(iter_run_plan(session, recorder, plan, out, NetGeometry.from_net(net), 1))
    events = [e for e in recorder.events if e != "read"]
    n = len(plan)
    assert events == ["submit"] + ["submit", "collect"] * (n - 1) + ["collect"]
    first_collect = recorder.events.index("collect")
    assert recorder.events[:first_collect] == ["read", "submit", "read", "submit"]
    assert relative_error(out, untiled(net, image)) <= 1e-5


def test_transfers_off_gives_the_same_result():
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(15).random((70, 40), dtype=np.float32)
    geometry = NetGeometry.from_net(net)
    plan = make_plan("exact", image.shape, 16, geometry)
    results = []
    for overlap in (True, False):
        out = np.zeros((3, 70, 40), np.float32)
        with InferenceSession(net, "cpu", overlap=overlap) as session:
            assert not session.overlaps  # pinned, asynchronous copies exist on CUDA only
            drain(iter_run_plan(session, image[None], plan, out, geometry, 2))
        results.append(out)
    assert np.array_equal(results[0], results[1])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU exit")
def test_gpu_benchmark_says_no_gpu_in_one_line_and_exits_0(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gpu.py"
    result = subprocess.run([sys.executable, str(script), "--out", str(tmp_path / "gpu.md")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("no GPU") and len(result.stdout.splitlines()) == 1
    assert not (tmp_path / "gpu.md").exists()


def test_labelling_reports_its_batches_and_stops_when_cancelled(monkeypatch):
    """Between a stack's tiles and its labels, one "labelling" step per batch of objects:
    the bar moves on through a long labelling, and closing the run there (a cancel) stops
    it at once, its labelling threads gone, with nothing written."""
    import threading

    from unet_studio.models.label_threads import LABEL_THREADS_ENV
    from unet_studio.models.pipeline import iter_predict_image

    monkeypatch.setenv(LABEL_THREADS_ENV, "2")
    net = random_bn_net(spatial_dims=2, out_channels=3, seed=3)
    stack = (np.random.default_rng(13).random((4, 64, 64)) * 255).astype(np.uint8)
    options = dict(axes="ZYX", task=TaskSpec(), output_type="labels", tile_shape=32,
                   device="cpu", postprocess={"min_size": 1, "batch_pixels": 512, "giant_pixels": 2048})
    steps = list(iter_predict_image(net, stack, **options))
    stages = [step.stage for step in steps]
    labelling = [step.done for step in steps if step.stage == "labelling"]
    last_tile = max(step.done for step in steps if step.stage == "predict")
    assert stages[-1] == "postprocess" and len(labelling) > 5
    assert stages.index("labelling") > stages.index("predict")
    assert labelling == sorted(labelling) and last_tile < labelling[0] <= labelling[-1] <= last_tile + 1
    assert all(step.region is None for step in steps if step.stage == "labelling")
    # The last step says how many objects were labelled: the labels' ids are 1..that.
    from unet_studio.models.inference import predict_image

    labels = predict_image(net, stack, **options)
    assert steps[-1].objects == int(labels.max()) == len(np.unique(labels)) - 1 > 0
    assert all(step.objects is None for step in steps[:-1])

    out = np.full(stack.shape, -1, np.int32)
    run = iter_predict_image(net, stack, out=out, **options)
    next(step for step in run if step.stage == "labelling")
    run.close()
    assert (out == -1).all()  # (no provisional labels asked for: nothing written)
    assert not [t for t in threading.enumerate() if t.name.startswith("unet-studio-labels")]


def test_fp16_overflow_is_recomputed_in_fp32(caplog):
    """fp16 autocast (MPS, CUDA without bf16) overflows on very bright normalised pixels; the
    CPU's fp16 autocast shows the same, so the fallback is checked here without a GPU."""
    net = random_bn_net(spatial_dims=2)
    image = np.random.default_rng(16).random((48, 40), dtype=np.float32) * 1e6
    geometry = NetGeometry.from_net(net)
    plan = make_plan("exact", image.shape, 16, geometry)
    out = np.zeros((3, 48, 40), np.float32)
    with InferenceSession(net, "cpu") as session:
        session.dtype = torch.float16
        with torch.inference_mode(), session._autocast():
            raw = session._forward(torch.from_numpy(image)[None, None]).float()
        assert not torch.isfinite(raw).all()  # the case is real: plain fp16 gives inf/NaN
        drain(iter_run_plan(session, image[None], plan, out, geometry, 2))
    assert np.isfinite(out).all()
    assert relative_error(out, untiled(net, image)) <= 1e-5
    assert "recomputed in fp32" in caplog.text
