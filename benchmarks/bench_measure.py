"""Per-object measurements of big stacks: time and peak memory of ``unet-studio measure``.

    python benchmarks/bench_measure.py [--tiles 2 8] [--write]

The stack is the cells3d reference nuclei of ``tests/data`` (30 x 256 x 128, 2:1 anisotropic)
tiled ``n`` x ``n`` in Y and X and 4x in Z (120 planes), each tile's ids shifted so that
every copy is its own object, written as an uncompressed ImageJ TIFF (read memory-mapped,
as big stacks are); the image under it is a uint16 stack of the same shape. Each size runs
``unet-studio measure LABELS --image IMAGE -o CSV`` in a fresh process; the figures are its
wall time, peak RSS (``VmHWM``) and file-backed resident pages at its end. What should hold:
the peak does not grow with the stack (it is read slab by slab), only the table does.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "measure.md"


def write_stacks(folder: Path, tiles: int) -> tuple[Path, Path, int, tuple[int, ...]]:
    """Labels and image TIFFs of the tiled nuclei, written plane by plane (never whole in
    memory); returns their paths, the object count and the shape."""
    base = tifffile.imread(ROOT / "tests/data/default_cells3d_labels.tif").astype(np.int32)
    per_tile = int(base.max())  # (the id offset between copies)
    distinct = len(np.unique(base)) - 1
    depth = 4
    shape = (depth * base.shape[0], tiles * base.shape[1], tiles * base.shape[2])
    labels_path, image_path = folder / f"labels_{tiles}.tif", folder / f"image_{tiles}.tif"
    labels = tifffile.memmap(labels_path, shape=shape, dtype=np.uint16, imagej=True,
                             metadata={"axes": "ZYX"})
    image = tifffile.memmap(image_path, shape=shape, dtype=np.uint16, imagej=True,
                            metadata={"axes": "ZYX"})
    rng = np.random.default_rng(0)
    for z in range(shape[0]):
        plane = base[z % base.shape[0]]
        copy = z // base.shape[0]
        row = np.concatenate([np.where(plane > 0, plane + (copy * tiles + i) * tiles * per_tile, 0)
                              for i in range(tiles)], axis=1)
        labels[z] = np.concatenate([np.where(row > 0, row + j * per_tile, 0)
                                    for j in range(tiles)], axis=0)
        image[z] = (1000 + 800 * (labels[z] > 0) + rng.integers(0, 50, shape[1:])).astype(np.uint16)
    labels.flush()
    image.flush()
    del labels, image
    return labels_path, image_path, depth * tiles * tiles * distinct, shape


def measure_child(labels: Path, image: Path, out: Path) -> tuple[float, float, float, str]:
    """(seconds, peak RSS MiB, of it file-backed pages at the end MiB, the command's summary
    line) of one fresh process."""
    code = ("import sys; from unet_studio.app.cli import main; rc = main(sys.argv[1:]); "
            "status = dict(line.split(':', 1) for line in open('/proc/self/status')); "
            "print('memory', status['VmHWM'].split()[0], status['RssFile'].split()[0], "
            "file=sys.stderr); sys.exit(rc)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, "measure", str(labels), "--image", str(image),
                           "-o", str(out), "--overwrite"], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    memory = next(line for line in done.stderr.splitlines() if line.startswith("memory "))
    peak_kib, file_kib = (int(v) for v in memory.split()[1:])
    return seconds, peak_kib / 1024, file_kib / 1024, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--folder", default=None, help="where the stacks are written")
    parser.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for tiles in sorted(args.tiles):  # ascending: each child's peak shows in RUSAGE_CHILDREN
            labels, image, objects, shape = write_stacks(Path(folder), tiles)
            stack_mib = labels.stat().st_size / 2**20 + image.stat().st_size / 2**20
            seconds, peak, file_pages, line = measure_child(labels, image,
                                                            Path(folder) / "objects.csv")
            assert line.startswith(f"{objects} objects"), line
            pixels = int(np.prod(shape))
            rows.append(f"| {'x'.join(map(str, shape))} ({pixels / 1e6:.0f} M px) | {objects} "
                        f"| {stack_mib:.0f} MiB | {seconds:.1f} | {peak:.0f} MiB "
                        f"| {file_pages:.0f} MiB | {pixels / seconds / 1e6:.1f} |")
            print(rows[-1], flush=True)
            labels.unlink()
            image.unlink()
    text = "\n".join([
        "## Per-object measurements of big stacks",
        "",
        f"Command: `python benchmarks/bench_measure.py --tiles {' '.join(map(str, args.tiles))} --write`",
        "",
        f"Machine: {platform.machine()}, {platform.python_version()}; each size a fresh "
        "`unet-studio measure LABELS --image IMAGE -o CSV` process (uint16 labels and image, "
        "uncompressed ImageJ TIFFs on disk, read memory-mapped).",
        "",
        "| stack | objects | labels + image on disk | seconds | peak RSS | file pages at the end "
        "| M px/s (including start-up) |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
    ])
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
        print("written to", RESULTS)


if __name__ == "__main__":
    main()
