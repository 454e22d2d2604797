"""Opening big stacks reads no pixels: open time, RSS growth and bytes read, per format.

Run: ``.venv/bin/python benchmarks/bench_io.py [--repeats 5] [--folder DIR]``. Builds, in a
temporary folder on the same disk, a 2 GiB sparse ImageJ TIFF (memory-mapped path), a 1 GiB
tiled zlib TIFF of zeros (chunked path) and a 2 GiB OME-Zarr with an empty level 0 and pyramid
metadata, then reports the median time of ``open_stack`` and of reading one 512x512 plane.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from unet_studio.app.io import open_stack
from unet_studio.app.io.zarr_write import add_pyramid, create_ome_zarr


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * 4096


def bytes_read() -> int:
    with open("/proc/self/io") as handle:
        return int(next(line for line in handle if line.startswith("rchar")).split()[1])


def make_files(folder: Path) -> dict[str, Path]:
    imagej = folder / "sparse_2gib.tif"
    tifffile.imwrite(imagej, shape=(128, 2048, 4096), dtype=np.uint16, imagej=True,
                     metadata={"axes": "ZYX"})
    tiled = folder / "tiled_zlib_1gib.tif"
    tile = np.zeros((512, 512), np.uint16)  # tifffile takes an iterator of tiles for tiled files
    tifffile.imwrite(tiled, (tile for _ in range(32 * 8 * 8)), shape=(32, 4096, 4096), dtype=np.uint16,
                     tile=(512, 512), compression="zlib", metadata={"axes": "ZYX"})
    zarr_path = folder / "empty_2gib.ome.zarr"
    scale, units = {"Z": 1.0, "Y": 0.5, "X": 0.5}, {"Z": "micrometer", "Y": "micrometer", "X": "micrometer"}
    group, _ = create_ome_zarr(zarr_path, (64, 4096, 4096), np.uint16, axes="ZYX", scale=scale,
                               units=units, kind="image")
    add_pyramid(group, "ZYX", scale, units, 1)
    return {"ImageJ TIFF, 2 GiB, uncompressed (memmap)": imagej,
            "TIFF, 1 GiB, zlib 512x512 tiles (chunked)": tiled,
            "OME-Zarr, 2 GiB, blosc chunks": zarr_path}


def measure(path: Path, repeats: int) -> dict[str, float]:
    opens, reads, rss_growth, read_bytes = [], [], [], []
    for _ in range(repeats):
        rss, read = rss_bytes(), bytes_read()
        start = time.perf_counter()
        stack = open_stack(path)
        opens.append(time.perf_counter() - start)
        rss_growth.append(rss_bytes() - rss)
        read_bytes.append(bytes_read() - read)
        start = time.perf_counter()
        np.array(stack.data[stack.shape[0] // 2, 1024:1536, 1024:1536], copy=True)
        reads.append(time.perf_counter() - start)
        stack.close()
    return {"open_ms": 1e3 * statistics.median(opens), "plane_ms": 1e3 * statistics.median(reads),
            "rss_mib": statistics.median(rss_growth) / 2**20, "read_kib": statistics.median(read_bytes) / 1024,
            "size_gib": stack.data.size * stack.dtype.itemsize / 2**30}


def output_pass(folder: Path, planes: int) -> None:
    """``open_output`` of a (planes, 2048, 2048) uint8 mask: time to fill it plane by plane
    (as tiles would), time of the compression pass at the end, file size and peak RSS."""
    import resource

    from scipy import ndimage

    from unet_studio.app.io import open_output

    rng = np.random.default_rng(0)
    blobs = (ndimage.gaussian_filter(rng.random((2048, 2048), dtype=np.float32), 8) > 0.5)
    target = folder / "mask.tif"
    start = time.perf_counter()
    with open_output(target, (planes, 2048, 2048), np.uint8, axes="ZYX", kind="mask") as out:
        for z in range(planes):
            out[z] = np.roll(blobs, z, axis=0)
        filled = time.perf_counter()
    done = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nopen_output {planes}x2048x2048 uint8 ({planes * 4} MiB): fill {filled - start:.1f} s, "
          f"compression pass {done - filled:.1f} s, file {target.stat().st_size / 2**20:.1f} MiB, "
          f"peak RSS of the process {peak:.0f} MiB")


SAMPLE_SCRIPT = """
import sys, time
import numpy as np
from unet_studio.app.io import open_stack
from unet_studio.models.normalize import percentile_range

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

data = open_stack(sys.argv[1]).data
step = max(1, round((data.size / (1 << 22)) ** (1 / 3)))  # (~4 M samples, as the earlier code)
before, start = status("VmHWM"), time.perf_counter()
if sys.argv[2] == "plain":  # the earliest code: one strided read of the memory map
    sample = np.asarray(data[::step, ::step, ::step], dtype=np.float32)
    size = sample.size
else:  # the product now: an exact streamed pass over every pixel (bench_normalize.py)
    percentile_range(data)
    size = data.size
print(time.perf_counter() - start, status("VmHWM") - before, status("RssFile"), size)
"""


def percentile_sampling(folder: Path, gib: float, repeats: int) -> None:
    """Peak RSS of the percentile read of a memory-mapped stack of ``gib`` GiB: the plain
    strided read (earliest code) against the product's exact streamed pass over every pixel
    (pages released every 64 MiB; ``benchmarks/bench_normalize.py`` has its errors), each in
    a fresh process, alternating."""
    import subprocess
    import sys

    planes = max(1, round(gib * 2**30 / (2048 * 2048 * 2)))
    path = folder / "stack.tif"
    rng = np.random.default_rng(0)
    plane = rng.integers(100, 4000, (2048, 2048), dtype=np.uint16)
    tifffile.imwrite(path, (np.roll(plane, z, axis=1) for z in range(planes)),
                     shape=(planes, 2048, 2048), dtype=np.uint16, imagej=True,
                     metadata={"axes": "ZYX"})
    rows = {"plain": [], "streamed": []}
    for _ in range(repeats):
        for variant in rows:
            done = subprocess.run([sys.executable, "-c", SAMPLE_SCRIPT, str(path), variant],
                                  capture_output=True, text=True, check=True)
            rows[variant].append([float(v) for v in done.stdout.split()])
    print(f"\npercentile read of a {planes}x2048x2048 uint16 stack "
          f"({planes * 8 / 1024:.2f} GiB), medians of {repeats}:")
    print("| read | seconds | peak RSS growth | RssFile after | pixels read |")
    print("|---|---|---|---|---|")
    for variant, runs in rows.items():
        seconds, growth, resident, size = (statistics.median(r[i] for r in runs) for i in range(4))
        print(f"| {variant} | {seconds:.2f} | {growth:.0f} MiB | {resident:.0f} MiB | {size:.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--folder", type=Path, default=None, help="where to build the files")
    parser.add_argument("--output-planes", type=int, default=0, help="instead, time open_output's "
                        "compression pass on a mask of this many 2048x2048 planes (128: 512 MiB)")
    parser.add_argument("--percentile-gib", type=float, default=0.0, help="instead, compare the "
                        "peak RSS of the percentile read of a memory-mapped stack this big")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        if args.percentile_gib:
            percentile_sampling(Path(folder), args.percentile_gib, args.repeats)
            return
        if args.output_planes:
            output_pass(Path(folder), args.output_planes)
            return
        files = make_files(Path(folder))
        print("| file | pixels | open (median) | RSS growth on open | bytes read on open | one 512x512 plane |")
        print("|---|---|---|---|---|---|")
        for label, path in files.items():
            r = measure(path, args.repeats)
            print(f"| {label} | {r['size_gib']:.1f} GiB | {r['open_ms']:.1f} ms | {r['rss_mib']:.2f} MiB "
                  f"| {r['read_kib']:.0f} KiB | {r['plane_ms']:.1f} ms |")


if __name__ == "__main__":
    main()
