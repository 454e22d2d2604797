"""Memory of instance labelling on big stacks: one pass over the whole stack (as before
``models/batched_labels.py``) against batches of connected object groups.

    python benchmarks/bench_labels_memory.py [--tiles 4] [--folder DIR] [--write]

Two stacks, their masks (objects, interior) as a network predicts them, saved as .npy and
memory-mapped by the measured process, as the pipeline's scratch masks are:

* nuclei: the cells3d reference nuclei of ``tests/data`` (30 x 256 x 128, anisotropic 2:1)
  tiled ``tiles`` x ``tiles`` in Y and X (and 2x in Z), a 1-px blurred boundary band;
* tissue: a confluent 3D sheet of Voronoi cells (no background: all object pixels form one
  group as large as the stack, above ``GIANT_PIXELS``: labelled by its interior
  components), 2-px boundary band;
* no-boundary: touching nuclei whose boundary is never predicted, so that their interiors
  form one component as large as the stack (labelled block by block).

Each variant runs ``labels_from_masks`` with the default model's options in a fresh process
(peak RSS growth over the process after imports, ``VmHWM``; Linux; and the peak of its
anonymous part, ``RssAnon`` sampled every 20 ms: the rest are pages of files, the masks and
the scratch files, which the kernel can write back and drop); the labels are compared
(share of object pixels on which the two agree once objects are matched: 1.0 = the same
objects). ``--write`` puts the table into ``benchmarks/results/labels_memory.md``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OPTIONS = dict(grow=1.5, min_size_fraction=0.05, seed_height_fraction=0.2, sampling=(2.0, 1.0, 1.0))

CHILD = """
import json, sys, time
import numpy as np
from unet_studio.models.postprocess import labels_from_masks
folder, variant, options = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
objects = np.load(folder + "/objects.npy", mmap_mode="r")
interior = np.load(folder + "/interior.npy", mmap_mode="r")
sizes = {} if variant.startswith("batched") else {"batch_pixels": objects.size, "giant_pixels": objects.size}
def high_water():  # VmHWM, of this process only (ru_maxrss may include the forking parent's)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
def anonymous():  # RssAnon: memory only this process holds (file-backed pages the kernel
    for line in open("/proc/self/status"):  # can write back and drop are not in it)
        if line.startswith("RssAnon"):
            return int(line.split()[1]) / 1024
import threading
peak_anon, running = [anonymous()], [True]
def sample():
    while running[0]:
        peak_anon.append(max(peak_anon[-1], anonymous()))
        time.sleep(0.02)
sampler = threading.Thread(target=sample, daemon=True)
anon_before = anonymous()
before = high_water()
sampler.start()
start = time.perf_counter()
labels = labels_from_masks(objects, interior, **sizes, **options)
seconds = time.perf_counter() - start
running[0] = False
sampler.join()
grown = high_water() - before
np.save(folder + "/labels_" + variant + ".npy", np.asarray(labels))
print(json.dumps({"seconds": seconds, "grown_mib": grown, "objects": int(labels.max()),
                  "anon_mib": peak_anon[-1] - anon_before}))
"""


def nuclei_masks(tiles: int):
    import tifffile
    from scipy import ndimage as ndi

    from unet_studio.models.training.targets import instance_targets

    labels = tifffile.imread(ROOT / "tests/data/default_cells3d_labels.tif").astype(np.int32)
    interior = np.tile(instance_targets(labels) == 1, (2, tiles, tiles))
    objects = np.tile(ndi.binary_dilation(labels > 0), (2, tiles, tiles))
    return objects, interior


def tissue_masks(shape=(72, 512, 512), n_cells: int = 1300, seed: int = 0):
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 1, (n_cells, 3)) * np.asarray(shape)
    grid = np.indices(shape).reshape(3, -1).T
    cells = cKDTree(centres * (2, 1, 1)).query(grid * (2, 1, 1))[1].reshape(shape)
    edge = np.zeros(shape, bool)
    for axis in range(3):
        step = np.diff(cells, axis=axis) != 0
        for lead in (slice(1, None), slice(0, -1)):
            index = [slice(None)] * 3
            index[axis] = lead
            edge[tuple(index)] |= step
    return np.ones(shape, bool), ~edge


def no_boundary_masks(shape=(72, 512, 512), n_blobs: int = 9000, seed: int = 0):
    """Touching nuclei whose boundary is never predicted: overlapping ellipsoids (radius 7,
    3.5 planes in Z) whose interiors join into one component as large as the stack, above
    ``GIANT_PIXELS`` (labelled block by block: ``models/huge_components.py``)."""
    rng = np.random.default_rng(seed)
    interior = np.zeros(shape, bool)
    z, y, x = np.ogrid[-4:5, -7:8, -7:8]
    ball = (2 * z) ** 2 + y**2 + x**2 <= 49
    for centre in rng.uniform(0, 1, (n_blobs, 3)) * (np.asarray(shape) - ball.shape):
        corner = tuple(int(c) for c in centre)
        interior[tuple(slice(c, c + n) for c, n in zip(corner, ball.shape))] |= ball
    from scipy import ndimage as ndi

    return ndi.binary_dilation(interior), interior


def measure(name: str, masks, folder: Path, variants=("one pass", "batched"),
            threads=(None,)) -> list[str]:
    """One row per variant (and per labelling thread count of the batched one)."""
    import os

    objects, interior = masks
    np.save(folder / "objects.npy", objects)
    np.save(folder / "interior.npy", interior)
    del objects, interior
    objects = np.load(folder / "objects.npy", mmap_mode="r")
    runs = [(variant, None) for variant in variants if variant != "batched"]
    runs += [("batched", count) for count in threads if "batched" in variants]
    results, saved = {}, {}
    for variant, count in runs:
        label = variant if count is None else f"{variant}, {count} thread{'s' * (count > 1)}"
        key = variant.replace(" ", "_") + ("" if count is None else f"_{count}")
        env = dict(os.environ)
        if count is not None:
            env["UNET_STUDIO_LABEL_THREADS"] = str(count)
        done = subprocess.run([sys.executable, "-c", CHILD, str(folder), key, json.dumps(OPTIONS)],
                              capture_output=True, text=True, check=True, env=env)
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
        saved[label] = folder / f"labels_{key}.npy"
    from unet_studio.models.metrics import partition_agreement

    first = next(label for label in saved if label != "one pass")
    same = (partition_agreement(np.load(saved["one pass"]), np.load(saved[first]))
            if "one pass" in saved else float("nan"))
    for label in saved:  # thread counts never change a label
        if label not in ("one pass", first):
            assert np.array_equal(np.load(saved[label]), np.load(saved[first])), label
    pixels = objects.size
    rows = []
    for variant, result in results.items():
        rows.append(f"| {name} {'x'.join(map(str, objects.shape))} ({pixels / 1e6:.1f} M px) | {variant} "
                    f"| {result['seconds']:.1f} | {result['grown_mib']:.0f} MiB "
                    f"({result['grown_mib'] * 2**20 / pixels:.1f} B/px) "
                    f"| {result['anon_mib']:.0f} MiB | {result['objects']} "
                    f"| {same:.5f} |")
        print(rows[-1], flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, default=4, help="nuclei: tiles in Y and X")
    parser.add_argument("--folder", default=None, help="where the masks are written")
    parser.add_argument("--only", nargs="*", choices=["nuclei", "tissue", "no-boundary"],
                        help="the stacks measured (default: all)")
    parser.add_argument("--no-boundary-scale", type=int, default=1,
                        help="no-boundary: the stack this many times larger along each axis")
    parser.add_argument("--batched-only", action="store_true",
                        help="skip one pass (for stacks it would need too much memory for)")
    parser.add_argument("--threads", type=int, nargs="*", default=[None],
                        help="labelling threads of the batched runs (one row each; default: "
                             "one per core, up to 8)")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    header = ["| stack | labelling | seconds | peak RSS growth | of it anonymous | objects | agreement |",
              "|---|---|---|---|---|---|---|"]
    print("\n".join(header), flush=True)
    rows = []
    if args.folder:
        Path(args.folder).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        stacks = {"nuclei": lambda: nuclei_masks(args.tiles), "tissue": tissue_masks,
                  "no-boundary": no_boundary_masks}
        if args.no_boundary_scale > 1:  # more nuclei in a larger stack, as dense
            k = args.no_boundary_scale
            stacks["no-boundary"] = lambda: no_boundary_masks((72 * k, 512 * k, 512 * k), 9000 * k**3)
        variants = ("batched",) if args.batched_only else ("one pass", "batched")
        for name in args.only or list(stacks):
            rows += measure(name, stacks[name](), Path(folder), variants, args.threads)
    if args.write:
        command = "python benchmarks/bench_labels_memory.py " + " ".join(sys.argv[1:])
        text = ("## Instance labels of big stacks: memory\n\n"
                f"Command: `{command}`\n\n" + "\n".join(header + rows) + "\n")
        out = ROOT / "benchmarks/results/labels_memory.md"
        out.write_text(text, "utf-8")
        print(f"written to {out}")


if __name__ == "__main__":
    main()
