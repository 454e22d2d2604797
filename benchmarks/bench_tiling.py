"""Tiled inference: exactness, overhead against one whole-image pass, MONAI, memory.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_tiling.py [--size 2048] [--base 8]
        [--repeats 3] [--cores 512 1024 auto] [--memory-gb 0.5] [--memory-base 4]
        [--memory-depth 2] [--folder DIR] [--bytes-per-pixel] [--skip-monai] [--skip-memory]

Sections (each prints a markdown table; ratios are measured in one run, interleaved):
1. exactness: max |tiled - untiled| for random-weight networks with BatchNorm (random running
   statistics), 2D and 3D, same and valid padding, odd image sizes, several tile sizes.
2. overhead: whole-image throughput vs ``predict_tiled`` on a ``size``² image (core sizes, or
   "auto": the automatic tile of ``models.tile_size``).
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


def timed(function) -> tuple[float, object]:
    """CPU seconds of this (single-threaded) process (robust to other jobs on the machine),
    and what ``function`` returned."""
    start = time.process_time()
    result = function()
    return time.process_time() - start, result


def monai_predict(net, image, window):
    from monai.inferers import sliding_window_inference

    x = torch.from_numpy(image)[None, None]
    with torch.inference_mode():
        y = sliding_window_inference(x, roi_size=window, sw_batch_size=1, predictor=net,
                                     overlap=0.25, mode="gaussian")
    return y[0].numpy()


def auto_core(net) -> tuple[int, ...]:
    """The core ``predict_tiled`` chooses for ``net`` on the CPU when ``tile_shape`` is None."""
    from unet_studio.models.tile_runner import InferenceSession
    from unet_studio.models.tile_size import choose_tile_shape

    with InferenceSession(net, "cpu") as session:
        return choose_tile_shape(session, net, NetGeometry.from_net(net))


def speed_variants(net, image, cores: list[str], with_monai: bool) -> tuple[dict, dict]:
    """name -> function, and name -> plan for the tiled variants ("auto": tile_shape=None)."""
    geometry = NetGeometry.from_net(net)
    runs, plans = {"untiled": lambda: untiled(net, image)}, {}
    for core in cores:
        shape = None if core == "auto" else int(core)
        name = f"tiled core {core}" if shape else f"tiled auto (core {auto_core(net)[0]})"
        plans[name] = make_plan("exact", image.shape, shape or auto_core(net), geometry)
        runs[name] = (lambda t=shape: predict_tiled(net, image, tile_shape=t, device="cpu"))
        if with_monai:
            window = plans[name].window_shape
            runs[f"MONAI roi {window[0]}"] = (lambda w=window: monai_predict(net, image, w))
    return runs, plans


def bench_speed(size: int, base: int, repeats: int, cores: list[str], with_monai: bool) -> None:
    net = random_bn_net("unet", out_channels=3, spatial_dims=2, depth=4, base_channels=base)
    image = np.random.default_rng(1).random((size, size), dtype=np.float32)
    geometry = NetGeometry.from_net(net)
    runs, plans = speed_variants(net, image, cores, with_monai)
    times, results = {name: [] for name in runs}, {}
    for _ in range(repeats):  # interleaved, so load changes hit every variant alike
        for name, run in runs.items():
            seconds, results[name] = timed(run)
            times[name].append(seconds)
            print(f"  {name}: {seconds:.2f} CPU s", file=sys.stderr, flush=True)
    reference = results["untiled"]
    base_time = statistics.median(times["untiled"])
    print(f"\n## Speed: unet 2D depth 4 base {base} ({net.flops_per_pixel() / 1e6:.3f} MFLOP/px), "
          f"{size}x{size}, halo {geometry.halo[0]}, CPU, {torch.get_num_threads()} thread(s), "
          f"median CPU seconds of {repeats}\n")
    print("| variant | tiles x window | median CPU s | Mpx/s | throughput vs untiled | "
          "max rel diff | mean rel diff |")
    print("|---|---|---|---|---|---|---|")
    for name in runs:
        median = statistics.median(times[name])
        layout = "1 x whole"
        if name in plans:
            layout = f"{len(plans[name])} x {plans[name].window_shape[0]}"
        elif name.startswith("MONAI"):
            layout = f"roi {name.split()[-1]}"
        diff = mean_diff = "0 (reference)"
        if name != "untiled":
            error = np.abs(results[name] - reference)
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


def bench_memory(gigabytes: float, base: int, depth: int = 2, folder: str | None = None) -> None:
    import tifffile

    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    side = 2048
    planes = max(1, int(gigabytes * 2**30 / (side * side * 2)))
    with tempfile.TemporaryDirectory(dir=folder) as folder:
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
        net = build_model("unet", spatial_dims=2, out_channels=3, depth=depth, base_channels=base)
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
          f"-> uint8 mask TIFF, unet 2D depth {depth} base {base}, CPU\n")
    print(f"exit {process.returncode}, {elapsed:.0f} s, output {size_out:.1f} MiB on disk; "
          f"peak VmHWM {peaks.get('VmHWM', 0) / 2**20:.0f} MiB, peak RssAnon "
          f"{peaks.get('RssAnon', 0) / 2**20:.0f} MiB, peak RssFile "
          f"{peaks.get('RssFile', 0) / 2**20:.0f} MiB")
    if process.returncode:
        print(errors)


PEAK_PROBE = """
import resource, sys, torch
from unet_studio.models.registry import build_model
from unet_studio.models.tile_size import host_bytes_per_pixel
from unet_studio.models.tiling import NetGeometry
base, side = int(sys.argv[1]), int(sys.argv[2])
net = build_model("unet", spatial_dims=2, out_channels=3, base_channels=base, depth=4).eval()
x = torch.zeros(1, 1, side, side)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with torch.inference_mode():
    net(x)
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(grown / side**2, host_bytes_per_pixel(net, NetGeometry.from_net(net)))
"""


def bench_bytes_per_pixel() -> None:
    """Peak RSS growth of one CPU forward per window pixel (fresh process each), against the
    estimate ``models.tile_size`` sizes tiles with."""
    print("\n## CPU memory per window pixel (unet 2D depth 4, fp32, one forward)\n")
    print("| base | window | measured peak B/px | estimate B/px |")
    print("|---|---|---|---|")
    for base in (8, 32):
        for side in (512, 1024):
            result = subprocess.run([sys.executable, "-c", PEAK_PROBE, str(base), str(side)],
                                    capture_output=True, text=True, check=True)
            measured, estimate = (float(v) for v in result.stdout.split())
            print(f"| {base} | {side} | {measured:.0f} | {estimate:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--base", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cores", nargs="+", default=["512", "1024"],
                        help='core sizes to compare; "auto" = the automatic tile')
    parser.add_argument("--memory-gb", type=float, default=0.5)
    parser.add_argument("--folder", default=None, help="where the memory test writes its "
                        "temporary stack (default: the system temporary folder)")
    parser.add_argument("--memory-base", type=int, default=4, help="memory test: base width "
                        "(the network only has to be cheap: the test measures the I/O)")
    parser.add_argument("--memory-depth", type=int, default=2)
    parser.add_argument("--skip-exactness", action="store_true")
    parser.add_argument("--bytes-per-pixel", action="store_true",
                        help="also measure CPU peak memory per window pixel")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--skip-monai", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    if not args.skip_exactness:
        bench_exactness()
    if not args.skip_speed:
        bench_speed(args.size, args.base, args.repeats, args.cores, not args.skip_monai)
    if args.bytes_per_pixel:
        bench_bytes_per_pixel()
    if not args.skip_memory:
        bench_memory(args.memory_gb, base=args.memory_base, depth=args.memory_depth,
                     folder=args.folder)


if __name__ == "__main__":
    main()
