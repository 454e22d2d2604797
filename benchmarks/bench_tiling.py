"""Tiled inference: exactness, overhead against one whole-image pass, MONAI, memory.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_tiling.py [--size 2048] [--base 8]
        [--repeats 3] [--memory-gb 0.5] [--skip-monai] [--skip-memory]

Sections (each prints a markdown table; ratios are measured in one run, interleaved):
1. exactness: max |tiled - untiled| for random-weight networks with BatchNorm (random running
   statistics), 2D and 3D, same and valid padding, odd image sizes, several tile sizes.
2. overhead: whole-image throughput vs ``predict_tiled`` on a ``size``² image.
3. MONAI ``sliding_window_inference`` (overlap 0.25, Gaussian) with the same network and
   window: time and its deviation from the whole-image pass (needs ``monai``).
4. memory: ``unet-studio predict`` streaming a uint16 stack from disk to disk, peak RSS of
   the process (anonymous and file-backed parts sampled from /proc).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import torch

from unet_studio.models.exactness import random_bn_net
from unet_studio.models.inference import predict_tiled
from unet_studio.models.registry import build_model
from unet_studio.models.tiling import NetGeometry, make_plan


def untiled(net, image):
    """One forward over the reflect-padded image (valid nets: mirrored by their offset)."""
    shape = image.shape
    if net.padding == "valid":
        offset = NetGeometry.from_net(net).offset
        total = net.valid_input_shape(tuple(s + 2 * o for s, o in zip(shape, offset)))
        pads = [(o, t - o - s) for o, t, s in zip(offset, total, shape)]
    else:
        pads = [(0, p - s) for p, s in zip(net.valid_input_shape(shape), shape)]
    x = torch.from_numpy(np.pad(image, pads, mode="reflect"))[None, None]
    with torch.inference_mode():
        y = net(x)
    return y[0].numpy()[(slice(None), *[slice(0, s) for s in shape])]


EXACTNESS_CASES = [
    # label, registry name, build options, image shape, core sizes
    ("unet 2D same d4 b8", "unet", dict(spatial_dims=2, depth=4, base_channels=8),
     (517, 389), (48, 128)),
    ("residual_unet 2D same d3 b8", "residual_unet", dict(spatial_dims=2, depth=3, base_channels=8),
     (301, 255), (32, 96)),
    ("unet 2D valid d3 b8", "unet", dict(spatial_dims=2, depth=3, base_channels=8, padding="valid"),
     (301, 259), (40, 96)),
    ("unet 3D same d2 b4", "unet", dict(spatial_dims=3, depth=2, base_channels=4),
     (83, 61, 57), (16, 40)),
    ("unet 3D valid d2 b4", "unet", dict(spatial_dims=3, depth=2, base_channels=4, padding="valid"),
     (45, 39, 31), (8, 24)),
]


def bench_exactness() -> None:
    print("\n## Exactness (fp32, CPU)\n")
    print("| network | image | core | tiles | max abs diff | max rel diff |")
    print("|---|---|---|---|---|---|")
    rng = np.random.default_rng(0)
    for name, model, options, shape, cores in EXACTNESS_CASES:
        net = random_bn_net(model, out_channels=3, **options)
        image = rng.random(shape, dtype=np.float32)
        reference = untiled(net, image)
        geometry = NetGeometry.from_net(net)
        for core in cores:
            mode = "valid" if net.padding == "valid" else "exact"
            tiles = len(make_plan(mode, shape, core, geometry))
            out = predict_tiled(net, image, tile_shape=core, device="cpu")
            diff = np.abs(out - reference).max()
            print(f"| {name} | {'x'.join(map(str, shape))} | {core} | {tiles} | {diff:.2e} | "
                  f"{diff / np.abs(reference).max():.2e} |")


def timed(function) -> float:
    """CPU seconds of this (single-threaded) process: robust to other jobs on the machine."""
    start = time.process_time()
    function()
    return time.process_time() - start


def monai_predict(net, image, window):
    from monai.inferers import sliding_window_inference

    x = torch.from_numpy(image)[None, None]
    with torch.inference_mode():
        y = sliding_window_inference(x, roi_size=window, sw_batch_size=1, predictor=net,
                                     overlap=0.25, mode="gaussian")
    return y[0].numpy()


def bench_speed(size: int, base: int, repeats: int, cores: list[int], with_monai: bool) -> None:
    net = random_bn_net("unet", out_channels=3, spatial_dims=2, depth=4, base_channels=base)
    image = np.random.default_rng(1).random((size, size), dtype=np.float32)
    geometry = NetGeometry.from_net(net)
    runs = {"untiled": lambda: untiled(net, image)}
    plans = {}
    for core in cores:
        plans[core] = make_plan("exact", image.shape, core, geometry)
        runs[f"tiled core {core}"] = (lambda c=core: predict_tiled(net, image, tile_shape=c,
                                                                    device="cpu"))
        if with_monai:
            window = plans[core].window_shape
            runs[f"MONAI roi {window[0]}"] = (lambda w=window: monai_predict(net, image, w))
    times = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so load changes hit every variant alike
        for name, run in runs.items():
            times[name].append(timed(run))
    reference = untiled(net, image)
    base_time = statistics.median(times["untiled"])
    print(f"\n## Speed: unet 2D depth 4 base {base}, {size}x{size}, halo {geometry.halo[0]}, "
          f"CPU, {torch.get_num_threads()} thread(s), median CPU seconds of {repeats}\n")
    print("| variant | tiles x window | median CPU s | Mpx/s | throughput vs untiled | "
          "max rel diff | mean rel diff |")
    print("|---|---|---|---|---|---|---|")
    for name, run in runs.items():
        median = statistics.median(times[name])
        layout = "1 x whole"
        if name.startswith("tiled"):
            plan = plans[int(name.split()[-1])]
            layout = f"{len(plan)} x {plan.window_shape[0]}"
        elif name.startswith("MONAI"):
            layout = f"roi {name.split()[-1]}"
        diff = mean_diff = "0 (reference)"
        if name != "untiled":
            error = np.abs(run() - reference)
            diff = f"{error.max() / np.abs(reference).max():.2e}"
            mean_diff = f"{error.mean() / np.abs(reference).mean():.2e}"
        print(f"| {name} | {layout} | {median:.2f} | {size * size / median / 1e6:.2f} | "
              f"{base_time / median:.3f} | {diff} | {mean_diff} |")


def _sample_rss(pid: int, peaks: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        for line in status.splitlines():
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                peaks[key] = max(peaks.get(key, 0), int(line.split()[1]) * 1024)
        stop.wait(0.05)


def bench_memory(gigabytes: float, base: int) -> None:
    import tifffile

    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    side = 2048
    planes = max(1, int(gigabytes * 2**30 / (side * side * 2)))
    with tempfile.TemporaryDirectory(dir=Path(__file__).parent) as folder:
        folder = Path(folder)
        stack = folder / "stack.tif"
        rng = np.random.default_rng(2)
        mapped = tifffile.memmap(stack, shape=(planes, side, side), dtype=np.uint16, imagej=True,
                                 metadata={"axes": "ZYX"})
        for index in range(planes):  # filled plane by plane: the benchmark itself stays small
            mapped[index] = rng.integers(0, 4096, (side, side), dtype=np.uint16)
        mapped.flush()
        del mapped
        torch.manual_seed(0)
        net = build_model("unet", spatial_dims=2, out_channels=3, depth=2, base_channels=base)
        model = save_model(net, folder / "model", task=TaskSpec())
        command = [sys.executable, "-m", "unet_studio", "predict", str(stack), "-o",
                   str(folder / "mask.tif"), "--model", str(model), "--output-type", "mask",
                   "--axes", "ZYX", "--device", "cpu"]
        start = time.perf_counter()
        process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        peaks, stop = {}, threading.Event()
        sampler = threading.Thread(target=_sample_rss, args=(process.pid, peaks, stop))
        sampler.start()
        _, errors = process.communicate()
        stop.set()
        sampler.join()
        elapsed = time.perf_counter() - start
        size_in = stack.stat().st_size / 2**30
        size_out = (folder / "mask.tif").stat().st_size / 2**20 if process.returncode == 0 else 0
    print(f"\n## Memory: `unet-studio predict` {planes}x{side}x{side} uint16 ({size_in:.2f} GiB) "
          f"-> uint8 mask TIFF\n")
    print(f"exit {process.returncode}, {elapsed:.0f} s, output {size_out:.1f} MiB on disk; "
          f"peak VmHWM {peaks.get('VmHWM', 0) / 2**20:.0f} MiB, peak RssAnon "
          f"{peaks.get('RssAnon', 0) / 2**20:.0f} MiB, peak RssFile "
          f"{peaks.get('RssFile', 0) / 2**20:.0f} MiB")
    if process.returncode:
        print(errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--base", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--memory-gb", type=float, default=0.5)
    parser.add_argument("--skip-exactness", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-monai", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if not args.skip_exactness:
        bench_exactness()
    if not args.skip_speed:
        bench_speed(args.size, args.base, args.repeats, args.cores, not args.skip_monai)
    if not args.skip_memory:
        bench_memory(args.memory_gb, base=4)


if __name__ == "__main__":
    main()
