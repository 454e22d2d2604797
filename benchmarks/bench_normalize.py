"""Intensity percentiles of whole stacks: the exact streamed pass against np.percentile and
the strided subsample it replaced (error and time).

    python benchmarks/bench_normalize.py --data ../shared/data [--repeats 5] [--gib 1]
                                         [--folder /var/tmp] [--write]

Three sets, each at the 1st and 99.8th percentiles (the default model's):

(a) the real stacks in ``--data`` (see its README), each as it is and tiled 4 x 4 in Y and X
    (a tiled stack is what the QA pass found the strided estimate off on), in memory; and
    the files as they are opened by the CLI (zlib TIFFs, decoded as they are read);
(b) a synthetic stack that fools a stride: sparse bright nuclei, every voxel of them on odd
    coordinates, on a dim noisy background (24 x 512 x 512, above the old 4 M-pixel sample,
    so that the old code read every other voxel), as uint16 and as float32 (two passes);
(c) the cells3d nuclei stack tiled 2 x 8 x 8 into ``--gib`` GiB of uint16 (an uncompressed
    ImageJ TIFF on disk, opened memory-mapped with ``open_stack`` as the CLI opens it), each
    method in a fresh process: seconds, peak RSS growth (``VmHWM``) and file pages left.

Error: the estimate minus ``np.percentile`` of all pixels, relative to the stack's 1-99.8
range (what a normalised pixel is off by) and in grey levels. "strided (old)" is the
earlier ``percentile_range``, reproduced here: per-axis strides that keep ~4 M pixels,
read in one strided read (the earlier code read a memory map's sample in groups of planes,
which changes its peak RSS, not its figures).
Times are medians of ``--repeats`` runs.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile
from results_file import write_result

ROOT = Path(__file__).resolve().parents[1]
Q = (1.0, 99.8)
OLD_MAX_SAMPLES = 1 << 22


def strided_estimate(image) -> np.ndarray:
    """The earlier code's estimate: a strided view of ~4 M pixels, the reduction shared
    evenly by the axes, as float32, then ``np.nanpercentile``."""
    shape = tuple(image.shape)
    steps = [1] * len(shape)
    axes = [a for a in range(len(shape)) if shape[a] > 1]
    if math.prod(shape) > OLD_MAX_SAMPLES and axes:
        per_axis = (math.prod(shape) / OLD_MAX_SAMPLES) ** (1.0 / len(axes))
        steps = [max(1, min(n, math.ceil(per_axis))) if a in axes else 1
                 for a, n in enumerate(shape)]
    sample = np.asarray(image[tuple(slice(None, None, s) for s in steps)], dtype=np.float32)
    return np.nanpercentile(sample, Q)


def exact_estimate(image) -> np.ndarray:
    from unet_studio.models.normalize import percentile_range

    return np.array(percentile_range(image, *Q), dtype=np.float64)


def numpy_reference(image) -> np.ndarray:
    return np.percentile(image, Q)


METHODS = {"exact (streamed)": exact_estimate, "strided (old)": strided_estimate,
           "np.percentile": numpy_reference}


def timed(method, image, repeats: int) -> tuple[float, np.ndarray]:
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        found = method(image)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), np.asarray(found, dtype=np.float64)


def error_text(found: np.ndarray, exact: np.ndarray) -> str:
    """``1st / 99.8th`` errors: percent of the 1-99.8 range and grey levels."""
    span = max(exact[1] - exact[0], 1e-12)
    return " / ".join(f"{100 * (f - e) / span:+.2f} % ({f - e:+.4g})" for f, e in zip(found, exact))


def rows_for(name: str, image: np.ndarray, repeats: int) -> list[str]:
    exact = numpy_reference(image)
    rows = []
    for label, method in METHODS.items():
        seconds, found = timed(method, image, repeats)
        rows.append(f"| {name} | {image.dtype} {'x'.join(map(str, image.shape))} | {label} "
                    f"| {error_text(found, exact)} | {seconds:.3f} |")
        print(rows[-1], flush=True)
    return rows


def real_stacks(data: Path) -> list[tuple[str, np.ndarray]]:
    stacks = []
    for path in sorted(data.glob("*_img.tif")):
        image = tifffile.imread(path)
        stacks.append((path.stem, image))
        tiled = np.tile(image, (1,) * (image.ndim - 2) + (4, 4))
        stacks.append((f"{path.stem} tiled 4x4", tiled))
    return stacks


def stride_fooling_stack(shape=(24, 512, 512)) -> np.ndarray:
    """Dim noisy background, bright nuclei on 0.8 % of the voxels, all on odd coordinates."""
    rng = np.random.default_rng(0)
    stack = rng.normal(100, 10, shape).clip(0).astype(np.uint16)
    z, y, x = np.ogrid[1:shape[0]:2, 1:shape[1]:2, 1:shape[2]:2]
    bright = ((y // 2) % 8 < 2) & ((x // 2) % 8 < 2) & (z >= 0)
    odd = stack[1::2, 1::2, 1::2]
    odd[bright] = rng.normal(3000, 300, int(bright.sum())).astype(np.uint16)
    return stack


def lazy_rows(data: Path, repeats: int) -> list[str]:
    """The real files as the CLI and the reader open them (zlib TIFFs, read lazily): every
    method decodes what it reads, the exact pass every plane."""
    from unet_studio.app.io import open_stack

    rows = []
    for path in sorted(data.glob("*_img.tif")):
        with open_stack(path) as stack:
            exact = numpy_reference(stack.to_numpy())
            for label in ("exact (streamed)", "strided (old)"):
                seconds, found = timed(METHODS[label], stack.data, repeats)
                rows.append(f"| {path.stem} | {label} | {error_text(found, exact)} | {seconds:.3f} |")
                print(rows[-1], flush=True)
    return ["| file | method | error at 1st / 99.8th | seconds |", "|---|---|---|---|", *rows]


CHILD = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[3])
from bench_normalize import METHODS
from unet_studio.app.io import open_stack

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024

data = open_stack(sys.argv[1]).data
method = METHODS[sys.argv[2]]
before, start = status("VmRSS"), time.perf_counter()
found = method(data)
seconds = time.perf_counter() - start
print(seconds, status("VmHWM") - before, status("RssFile"), *np.asarray(found, dtype=float))
"""


def disk_stack(folder: Path, gib: float) -> Path:
    """cells3d nuclei (60 x 256 x 256) tiled in Z, Y and X to about ``gib`` GiB, written
    plane by plane to an uncompressed ImageJ TIFF."""
    base = tifffile.imread(ROOT / "resources" / "samples" / "nuclei3d.tif")
    base = base if base.ndim == 3 else base.reshape(-1, *base.shape[-2:])
    side = 8
    planes = max(1, round(gib * 2**30 / (base[0].nbytes * side * side)))
    path = folder / "stack.tif"
    stack = tifffile.memmap(path, shape=(planes, side * base.shape[1], side * base.shape[2]),
                            dtype=base.dtype, imagej=True, metadata={"axes": "ZYX"})
    for z in range(planes):
        stack[z] = np.tile(base[z % base.shape[0]], (side, side))
    stack.flush()
    del stack
    return path


def disk_rows(folder: Path, gib: float, repeats: int) -> list[str]:
    path = disk_stack(folder, gib)
    runs = {label: [] for label in METHODS}
    for _ in range(repeats):  # (alternating, each a fresh process: its own peak)
        for label in METHODS:
            done = subprocess.run([sys.executable, "-c", CHILD, str(path), label,
                                   str(Path(__file__).parent)],
                                  capture_output=True, text=True, check=True)
            runs[label].append([float(v) for v in done.stdout.split()])
    exact = np.array(runs["np.percentile"][0][3:])
    rows = []
    for label, measured in runs.items():
        seconds, growth, resident = (statistics.median(r[i] for r in measured) for i in range(3))
        rows.append(f"| {label} | {error_text(np.array(measured[0][3:]), exact)} | {seconds:.2f} "
                    f"| {growth:.0f} MiB | {resident:.0f} MiB |")
        print(rows[-1], flush=True)
    size = path.stat().st_size / 2**30
    with tifffile.TiffFile(path) as tif:
        shape = tif.series[0].shape
    return [f"`{'x'.join(map(str, shape))}` uint16, {size:.2f} GiB on disk:", "",
            "| method | error at 1st / 99.8th | seconds | peak RSS growth | file pages after |",
            "|---|---|---|---|---|", *rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gib", type=float, default=1.0, help="size of the stack on disk (c)")
    parser.add_argument("--folder", type=Path, default=None, help="where (c) is written")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/normalize.md")
    args = parser.parse_args()
    header = ["| stack | pixels | method | error at 1st / 99.8th: % of range (grey levels) "
              "| seconds |", "|---|---|---|---|---|"]
    real = [row for name, image in real_stacks(args.data) for row in rows_for(name, image, args.repeats)]
    lazy = lazy_rows(args.data, args.repeats)
    stride = stride_fooling_stack()
    synthetic = [*rows_for("stride-fooling nuclei", stride, args.repeats),
                 *rows_for("stride-fooling nuclei", stride.astype(np.float32), args.repeats)]
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        disk = disk_rows(Path(folder), args.gib, args.repeats)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    body = "\n".join([
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, NumPy {np.__version__}; load average at the end {load} "
        f"(a busy machine slows every method alike); medians of {args.repeats} runs. Error: "
        "the estimate minus `np.percentile` of every pixel, in percent of the stack's 1-99.8 "
        "range and in grey levels.", "",
        "### (a) Real stacks (`--data`), as they are and tiled 4 x 4 in Y and X", "",
        *header, *real, "",
        "The same files opened as the CLI opens them (zlib TIFFs, read lazily):", "",
        *lazy, "",
        "### (b) Synthetic: sparse bright nuclei on odd coordinates (a stride of 2 misses them)",
        "", *header, *synthetic, "",
        "### (c) A stack on disk, memory-mapped, each method in a fresh process", "", *disk, "",
    ])
    print(body)
    if args.write:
        write_result("normalize", "Intensity percentiles: exact streamed pass vs strided sample",
                     body)


if __name__ == "__main__":
    main()
