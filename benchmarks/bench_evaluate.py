"""Scoring big label stacks: time and peak memory of ``unet-studio evaluate``, old and new.

    python benchmarks/bench_evaluate.py [--tiles 4 8 12] [--repeat 3] [--folder DIR] [--write]

The ground truth is the cells3d reference nuclei of ``tests/data`` (30 x 256 x 128) tiled
``n`` x ``n`` in Y and X and 4x in Z (120 planes), each copy's ids shifted so that every copy
is its own object; the prediction is the same stack moved 2 pixels along X with other ids
and every 7th object missing. Both are uint16, uncompressed ImageJ TIFFs (read
memory-mapped, as big stacks are). Nuclei span ~20 planes, so at these plane sizes every
object crosses many of the slabs evaluate reads.

Each size runs in fresh processes, ``--repeat`` times each, medians reported:
- new: ``unet-studio evaluate PRED GT --json`` (slab by slab, ``app/commands/evaluate.py``);
- old: what evaluate did before, kept here as :func:`old_score_files`: both files read whole
  (``Stack.to_numpy``), cast to int64, scored by ``object_scores_many`` on the whole arrays.
  It needs ~64 bytes per pixel of the stack (both files), so it is skipped where that
  exceeds half the memory available (the table says so).
Where both run, their scores must be identical (checked). Figures: wall time including
start-up, and peak RSS (``VmHWM``).
"""

from __future__ import annotations

import argparse
import json
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
BENCHMARKS = Path(__file__).resolve().parent
OLD_BYTES_PER_PIXEL = 64  # per pixel of the stack: the pair as int64, np.unique's inverses, sorts
SHIFT = 2  # pixels the prediction is moved along X
MISSED_EVERY = 7  # every 7th true object has no prediction


def old_score_files(prediction: str, truth: str) -> dict:
    """The scoring path evaluate had before it read slabs (its checks left out): both
    files whole in memory as int64, then the whole-image metrics."""
    from unet_studio.app.io import open_stack
    from unet_studio.models.metrics import object_scores_many

    arrays = []
    for path in (prediction, truth):
        with open_stack(path) as stack:
            arrays.append(np.asarray(stack.to_numpy()).astype(np.int64, copy=False))
    return object_scores_many([tuple(arrays)])


def write_pair(folder: Path, tiles: int) -> tuple[Path, Path, tuple[int, ...]]:
    """Ground truth and prediction TIFFs, written plane by plane (never whole in memory)."""
    base = tifffile.imread(ROOT / "tests/data/default_cells3d_labels.tif").astype(np.int64)
    per_tile = int(base.max())
    shape = (4 * base.shape[0], tiles * base.shape[1], tiles * base.shape[2])
    paths = folder / f"true_{tiles}.tif", folder / f"pred_{tiles}.tif"
    true, pred = (tifffile.memmap(path, shape=shape, dtype=np.uint16, imagej=True,
                                  metadata={"axes": "ZYX"}) for path in paths)
    for z in range(shape[0]):
        plane, copy = base[z % base.shape[0]], z // base.shape[0]
        rows = [np.concatenate([np.where(plane > 0, plane + ((copy * tiles + i) * tiles + j)
                                         * per_tile, 0) for j in range(tiles)], axis=1)
                for i in range(tiles)]
        true[z] = np.concatenate(rows, axis=0)
        moved = np.roll(true[z], SHIFT, axis=1).astype(np.int64)
        pred[z] = np.where((moved > 0) & (moved % MISSED_EVERY != 0), moved + 3, 0)
    for array in (true, pred):
        array.flush()
    del true, pred
    return paths[1], paths[0], shape


def run_child(method: str, pred: Path, true: Path) -> tuple[float, float, dict]:
    """(seconds, peak RSS MiB, scores) of one fresh process scoring the pair."""
    call = ("rc = main(['evaluate', sys.argv[1], sys.argv[2], '--json'])" if method == "new" else
            "sys.path.insert(0, sys.argv[3]); from bench_evaluate import old_score_files; "
            "print(json.dumps(old_score_files(sys.argv[1], sys.argv[2]))); rc = 0")
    code = ("import json, sys; from unet_studio.app.cli import main; " + call + "; "
            "status = dict(line.split(':', 1) for line in open('/proc/self/status')); "
            "print('memory', status['VmHWM'].split()[0], file=sys.stderr); sys.exit(rc)")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(pred), str(true), str(BENCHMARKS)],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{method} failed: {done.stderr.strip()}")
    memory = next(line for line in done.stderr.splitlines() if line.startswith("memory "))
    return seconds, int(memory.split()[1]) / 1024, json.loads(done.stdout)


def available_bytes() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def medians(method: str, pred: Path, true: Path, repeat: int) -> tuple[float, float, dict]:
    runs = [run_child(method, pred, true) for _ in range(repeat)]
    assert all(r[2] == runs[0][2] for r in runs), f"{method}: scores differ between runs"
    return (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs),
            runs[0][2])


def measure_size(folder: Path, tiles: int, repeat: int) -> str:
    """One table row: the pair of ``tiles``, scored new and (where it fits) old."""
    pred, true, shape = write_pair(folder, tiles)
    pixels = int(np.prod(shape))
    file_gib = true.stat().st_size / 2**30
    seconds, peak, scores = medians("new", pred, true, repeat)
    need, available = OLD_BYTES_PER_PIXEL * pixels, available_bytes()
    if need < available / 2:
        old_seconds, old_peak, old_scores = medians("old", pred, true, repeat)
        assert old_scores == scores, (old_scores, scores)
        old = f"{old_seconds:.1f} s | {old_peak:,.0f} MiB | identical"
    else:
        old = (f"skipped (needs ~{need / 2**30:.0f} GiB, {available / 2**30:.0f} GiB "
               "available) | | ")
    for path in (pred, true):
        path.unlink()
    return (f"| {'x'.join(map(str, shape))} ({pixels / 1e6:.0f} M px) | {file_gib:.2f} GiB "
            f"| {scores['n_true']} / {scores['n_pred']} | {scores['f1_50']:.4f} "
            f"| {seconds:.1f} s | {peak:,.0f} MiB | {old} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[4, 8, 12])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and method")
    parser.add_argument("--folder", default=None, help="where the stacks are written")
    parser.add_argument("--write", action="store_true", help="write benchmarks/results/evaluate.md")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        for tiles in sorted(args.tiles):
            rows.append(measure_size(Path(folder), tiles, args.repeat))
            print(rows[-1], flush=True)
    body = "\n".join([
        f"Machine: {platform.machine()}, Python {platform.python_version()}, "
        f"{available_bytes() / 2**30:.0f} GiB available at the end; each figure the median of "
        f"{args.repeat} fresh processes (wall time including start-up; peak RSS = VmHWM). "
        "Each file of the pair is uint16, uncompressed ImageJ TIFF (memory-mapped), shown "
        "once in the table; the files were in the page cache (just written).",
        "",
        "| stack (ZYX) | each file | objects true / predicted | F1 at 0.5 | new: time "
        "| new: peak RSS | old (whole images): time | old: peak RSS | old = new scores |",
        "|---|---|---|---|---|---|---|---|---|",
        *rows,
    ])
    if args.write:
        write_result("evaluate", "Scoring big label stacks (`unet-studio evaluate`)", body)


if __name__ == "__main__":
    main()
