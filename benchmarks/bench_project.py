"""How long the caller waits when the project autosaves an edit, and how long saving takes.

Measures on a (64, 1024, 1024) uint32 label stack (256 MiB):
* caller time of ``Project.record_edit`` for a small 2D edit (a 20x30 brush stroke) and
  for a big 3D edit (a 20x100x100 object merged) - what the GUI thread pays;
* background time until such an edit is on disk (``flush``);
* caller time of ``attach_labels`` (a full snapshot, e.g. after a prediction) and the
  background time to write the whole stack with 2,000 objects;
* time to reopen the project and restore the stack.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_project.py [--repeats 30]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from unet_studio.app.label_edit import edit_from_region
from unet_studio.app.project import Project

SHAPE = (64, 1024, 1024)


def populated_stack(seed: int = 0) -> np.ndarray:
    """2,000 boxy 'nuclei' of 10-20 px spread over the stack."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(SHAPE, np.uint32)
    for i in range(1, 2001):
        z, y, x = rng.integers(0, 60), rng.integers(0, 1000), rng.integers(0, 1000)
        d, h, w = rng.integers(2, 5), rng.integers(10, 21), rng.integers(10, 21)
        labels[z : z + d, y : y + h, x : x + w] = i
    return labels


def timed(function, *args) -> float:
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def bench(repeats: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {k: [] for k in ("small", "small_disk", "big", "big_disk")}
    with tempfile.TemporaryDirectory() as folder:
        project = Project.create(Path(folder) / "p", autosave_delay=0.0)
        ref = project.add_image("big.tif", axes="ZYX")
        labels = populated_stack()
        results["attach"] = [timed(project.attach_labels, ref.id, labels)]
        results["attach_disk"] = [timed(project.flush)]
        for i in range(repeats):
            z = i % SHAPE[0]
            stroke = (z, slice(300, 320), slice(400 + i, 430 + i))
            edit = edit_from_region(labels, stroke, np.full((20, 30), 5000 + i, np.uint32))
            edit.apply_to(labels)
            results["small"].append(timed(project.record_edit, ref.id, edit))
            results["small_disk"].append(timed(project.flush))
            box = (slice(20, 40), slice(600, 700), slice(600 + i, 700 + i))
            edit = edit_from_region(labels, box, np.full((20, 100, 100), 9000 + i, np.uint32))
            edit.apply_to(labels)
            results["big"].append(timed(project.record_edit, ref.id, edit))
            results["big_disk"].append(timed(project.flush))
        project.close()
        start = time.perf_counter()
        restored = Project.open(Path(folder) / "p").labels(ref.id)
        results["reopen"] = [time.perf_counter() - start]
        assert np.array_equal(restored, labels)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    results = bench(args.repeats)
    print(f"{'measure':<14}{'median ms':>12}{'max ms':>10}  (n)")
    for name, values in results.items():
        median, worst = statistics.median(values) * 1e3, max(values) * 1e3
        print(f"{name:<14}{median:>12.2f}{worst:>10.2f}  ({len(values)})")


if __name__ == "__main__":
    main()
