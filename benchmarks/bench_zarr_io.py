"""OME-Zarr input and output at TIFF speed: ``unet-studio predict`` timed per format.

Run: ``.venv/bin/python benchmarks/bench_zarr_io.py [--repeats 3] [--baseline DIR] [--write]``.
Builds, in a temporary folder, one (Z, N, N) uint16 stack of blurred blobs and noise as an
uncompressed ImageJ TIFF, an OME-Zarr in 16-plane chunks (what unet-studio writes, see
``zarr_write.chunk_shape``) and the same OME-Zarr in 1-plane chunks, and a small random
2D U-Net (fast, so that reading and writing show; a real model only adds the same network
time to every row). Each case is one ``unet-studio predict`` in a fresh process: the wall
and CPU time of the command (model loading included, interpreter start-up not) and the
process's peak RSS.
``--baseline DIR``: DIR holds another copy of the ``unet_studio`` package (e.g. the code
before a change); every case then runs with both, alternating, in the same run.

``--chunk-order``: instead, the tile order over an OME-Zarr whose chunks under one plane
outgrow the chunk cache (``--order-chunk`` px square, 16 planes deep, read through a cache
of ``--order-cache-mb`` MiB set by ``UNET_STUDIO_CHUNK_CACHE_MB``, the same number of
chunks as 256 MiB holds of 16 x 512 x 512 ones: the 4096 x 4096 case scaled down): the
plane-by-plane order (the engine is handed no chunks) against the chunk order, alternating,
with the default cache as the reference; the table adds how many chunks were decoded.
Written to ``benchmarks/results/zarr_chunk_order.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = """
import json, os, resource, sys, time
import torch  # (imported before the clock starts: the same for every case)
from unet_studio.app.cli import main
from unet_studio.app.io import chunk_cache
caches, made = [], chunk_cache.ChunkCache.__init__
def counted(self, *args, **kwargs):  # every cache of the run, to count its decodes
    made(self, *args, **kwargs)
    caches.append(self)
chunk_cache.ChunkCache.__init__ = counted
if os.environ.get("BENCH_PLANE_ORDER"):  # the order before: the engine hears of no chunks
    from unet_studio.app import predict_files
    predict_files.input_chunks = lambda stack: None
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start, cpu_start = time.perf_counter(), cpu()
code = main(sys.argv[1:])
seconds, cpu_seconds = time.perf_counter() - start, cpu() - cpu_start
print(json.dumps({"code": code, "seconds": seconds, "cpu_seconds": cpu_seconds,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "decodes": sum(cache.misses for cache in caches)}))
"""


def make_stack(planes: int, side: int) -> np.ndarray:
    from scipy import ndimage

    rng = np.random.default_rng(0)
    blobs = ndimage.gaussian_filter(rng.random((side, side), dtype=np.float32), 6)
    blobs = (blobs - blobs.min()) / (blobs.max() - blobs.min())
    return np.stack([(np.roll(blobs, 3 * z, axis=0) * 3000 + 200
                      + rng.normal(0, 40, (side, side))).clip(0, 65535).astype(np.uint16)
                     for z in range(planes)])


def make_inputs(folder: Path, stack: np.ndarray) -> dict[str, Path]:
    """The stack as an uncompressed TIFF, and as OME-Zarr in 16- and 1-plane chunks."""
    import tifffile

    tiff = folder / "stack.tif"
    tifffile.imwrite(tiff, stack, imagej=True, metadata={"axes": "ZYX"})
    paths = {"TIFF": tiff}
    for depth in (16, 1):
        paths[f"OME-Zarr, {depth}-plane chunks"] = make_ome_zarr(
            folder / f"stack_z{depth}.ome.zarr", stack, (depth, 512, 512))
    return paths


def make_ome_zarr(path: Path, stack: np.ndarray, chunks: tuple[int, ...]) -> Path:
    import numcodecs
    import zarr

    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    group.create_array("0", data=stack, chunks=chunks,
                       compressors=numcodecs.Blosc(cname="zstd", clevel=5,
                                                   shuffle=numcodecs.Blosc.BITSHUFFLE),
                       chunk_key_encoding={"name": "v2", "separator": "/"})
    group.attrs["multiscales"] = [{"version": "0.4", "datasets": [{"path": "0"}], "axes": [
        {"name": a, "type": "space"} for a in "zyx"]}]
    return path


def make_model(folder: Path, base_channels: int) -> Path:
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.weights import save_model

    torch.manual_seed(0)
    net = build_model("unet", spatial_dims=2, in_channels=1, out_channels=3,
                      base_channels=base_channels, depth=2)
    return save_model(net, folder / "small_unet", task=TaskSpec())


def run_case(source: Path, target: Path, model: Path, args, package: Path | None,
             env_extra: dict | None = None) -> dict:
    env = {**os.environ, "UNET_STUDIO_HOME": str(target.parent), **(env_extra or {})}
    if package is not None:  # the other copy of unet_studio comes first on the path
        env["PYTHONPATH"] = str(package)
    command = [sys.executable, "-c", CHILD, "predict", str(source), "-o", str(target),
               "--model", str(model), "--device", "cpu", "--tile", str(args.tile),
               "--output-type", args.output_type, "--overwrite"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["code"] != 0:
        raise RuntimeError(f"predict failed: {done.stderr}")
    return result


def cases(inputs: dict[str, Path], folder: Path) -> list[tuple[str, Path, Path]]:
    """(label, input, output): every input into a .tif, and the TIFF into a .zarr."""
    rows = [(f"{name} -> .tif", path, folder / f"out_{i}.tif")
            for i, (name, path) in enumerate(inputs.items())]
    rows.append(("TIFF -> .zarr", inputs["TIFF"], folder / "out.zarr"))
    return rows


def measure(rows, model: Path, args, versions: dict[str, Path | None]) -> dict:
    """{(label, version): [results]}; versions alternate within each repeat."""
    results = {}
    for _ in range(args.repeats):
        for label, source, target in rows:
            for version, package in versions.items():
                result = run_case(source, target, model, args, package)
                results.setdefault((label, version), []).append(result)
                print(f"{label}, {version}: {result['seconds']:.1f} s, CPU "
                      f"{result['cpu_seconds']:.1f} s, {result['peak_mib']:.0f} MiB",
                      file=sys.stderr, flush=True)
    return results


def table(rows, results: dict, versions) -> str:
    """Medians per case and version: wall time, CPU time (user + system, all threads: the
    work done, which other jobs on a shared machine disturb far less) and peak RSS."""
    columns = ([f"wall {v}" for v in versions] + [f"CPU {v}" for v in versions]
               + [f"peak RSS {v}" for v in versions])
    lines = ["| case | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for label, _, _ in rows:
        medians = {(key, v): statistics.median(r[key] for r in results[(label, v)])
                   for key in ("seconds", "cpu_seconds", "peak_mib") for v in versions}
        cells = ([f"{medians['seconds', v]:.1f} s" for v in versions]
                 + [f"{medians['cpu_seconds', v]:.1f} s" for v in versions]
                 + [f"{medians['peak_mib', v]:.0f} MiB" for v in versions])
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def measure_order(source: Path, folder: Path, model: Path, args) -> dict:
    """{(order, cache MiB): [results]}: the plane and the chunk order, alternating, each with
    the small cache and the default one."""
    results = {}
    for _ in range(args.repeats):
        for cache_mb in (args.order_cache_mb, 256):
            for order in ("plane order", "chunk order"):
                env = {"UNET_STUDIO_CHUNK_CACHE_MB": str(cache_mb)}
                if order == "plane order":
                    env["BENCH_PLANE_ORDER"] = "1"
                result = run_case(source, folder / "out.tif", model, args, None, env)
                results.setdefault((order, cache_mb), []).append(result)
                print(f"{order}, {cache_mb} MiB: {result['seconds']:.1f} s, CPU "
                      f"{result['cpu_seconds']:.1f} s, {result['peak_mib']:.0f} MiB, "
                      f"{result['decodes']} chunks decoded", file=sys.stderr, flush=True)
    return results


def order_table(results: dict) -> str:
    lines = ["| tile order | chunk cache | wall | CPU | peak RSS | chunks decoded |",
             "|---|---|---|---|---|---|"]
    for (order, cache_mb), runs in results.items():
        median = {key: statistics.median(r[key] for r in runs)
                  for key in ("seconds", "cpu_seconds", "peak_mib", "decodes")}
        lines.append(f"| {order} | {cache_mb:g} MiB | {median['seconds']:.1f} s | "
                     f"{median['cpu_seconds']:.1f} s | {median['peak_mib']:.0f} MiB | "
                     f"{median['decodes']:.0f} |")
    return "\n".join(lines)


def run_chunk_order(args) -> None:
    """The ``--chunk-order`` comparison (see the module's docstring)."""
    side = args.order_chunk
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        folder = Path(folder)
        stack = make_stack(args.planes, args.side)
        source = make_ome_zarr(folder / "stack.ome.zarr", stack, (16, side, side))
        results = measure_order(source, folder, make_model(folder, args.base_channels), args)
    chunks = -(-args.planes // 16) * (-(-args.side // side)) ** 2
    chunk_mib = 16 * side * side * 2 / 2**20
    body = (f"{args.planes}x{args.side}x{args.side} uint16 OME-Zarr ({stack.nbytes / 2**20:.0f} "
            f"MiB) in {chunks} chunks of 16x{side}x{side} ({chunk_mib:g} MiB; "
            f"{(args.side // side) ** 2 * chunk_mib:g} MiB under one plane), "
            f"{args.output_type} output to a TIFF, tiles of {args.tile} px, a random 2D U-Net "
            f"({args.base_channels} base channels, depth 2) on the CPU; medians of "
            f"{args.repeats} runs, each in a fresh process, orders alternating. \"plane order\": "
            f"the engine is handed no chunks (the order before); \"chunk order\": it is "
            f"(`models/chunk_order.py`). The small cache ({args.order_cache_mb:g} MiB) holds "
            f"{int(args.order_cache_mb // chunk_mib)} chunks; the default 256 MiB holds 32 of "
            f"the 16x512x512 uint16 chunks the app writes, fewer than the 64 under a 4096x4096 "
            f"plane.\n\n"
            + order_table(results))
    print(body)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from results_file import write_result

        write_result("zarr_chunk_order", "OME-Zarr input: tiles in chunk order", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=32)
    parser.add_argument("--side", type=int, default=1024)
    parser.add_argument("--tile", type=int, default=128, help="tile core size (--tile of predict)")
    parser.add_argument("--base-channels", type=int, default=4, help="width of the small U-Net")
    parser.add_argument("--output-type", default="probabilities",
                        choices=("labels", "mask", "probabilities"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline", type=Path, default=None,
                        help="folder holding another unet_studio package to compare with")
    parser.add_argument("--folder", type=Path, default=None, help="where to build the files")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/zarr_io.md")
    parser.add_argument("--chunk-order", action="store_true",
                        help="compare the plane and the chunk tile order instead")
    parser.add_argument("--order-chunk", type=int, default=128, help="chunk side (px)")
    parser.add_argument("--order-cache-mb", type=float, default=16,
                        help="the small chunk cache (MiB)")
    args = parser.parse_args()
    if args.chunk_order:
        run_chunk_order(args)
        return
    versions = {"after": None} if args.baseline is None else {"before": args.baseline, "after": None}
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        folder = Path(folder)
        stack = make_stack(args.planes, args.side)
        rows = cases(make_inputs(folder, stack), folder)
        results = measure(rows, make_model(folder, args.base_channels), args, versions)
    body = (f"{args.planes}x{args.side}x{args.side} uint16 stack "
            f"({stack.nbytes / 2**20:.0f} MiB), {args.output_type} output, tiles of "
            f"{args.tile} px, a random 2D U-Net ({args.base_channels} base channels, depth 2) "
            f"on the CPU; medians of {args.repeats} runs, each in a fresh process, versions "
            f"alternating (CPU: user + system time of the process; peak RSS: its high-water "
            f"mark).\n\n" + table(rows, results, versions))
    print(body)
    if args.write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from results_file import write_result

        write_result("zarr_io", "OME-Zarr input and output against TIFF", body)


if __name__ == "__main__":
    main()
