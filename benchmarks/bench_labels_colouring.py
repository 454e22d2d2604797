"""Colouring a large 2D labels plane on the GUI thread: napari's numpy path against the
compiled one (``PartSegCore-compiled-backend``, a dependency), in one run on the same layer.

Run on a fresh image makes a labels layer of the image's size, and a cancelled run or an
accepted prediction refreshes it: napari turns every label of the plane into a texture
index each time, on the GUI thread (a QA measured 8-10 s stalls at Run on a 16k x 16k
mosaic). Needs a display (Xvfb):

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_labels_colouring.py --write
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

RESULT = Path(__file__).resolve().parent / "results" / "labels_colouring.md"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384, help="side of the labels plane")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true", help=f"write {RESULT.name}")
    args = parser.parse_args()

    import napari
    from napari.utils.colormap_backend import ColormapBackend, set_backend
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    viewer = napari.Viewer(show=True)
    # Labels as a run leaves them: objects over the plane (ids up to a few thousand).
    labels = np.zeros((args.size, args.size), np.int32)
    step = 64
    labels[::step, ::step] = np.arange(1, labels[::step, ::step].size + 1).reshape(
        labels[::step, ::step].shape)
    app.processEvents()

    def timed(action) -> float:
        started = time.perf_counter()
        action()
        app.processEvents()
        return time.perf_counter() - started

    def add_and_refresh() -> tuple[float, float]:
        added = timed(lambda: viewer.add_labels(labels, name="labels"))
        layer = viewer.layers["labels"]
        refreshed = timed(lambda: layer.refresh(thumbnail=False, extent=False, highlight=False))
        viewer.layers.remove(layer)
        app.processEvents()
        return added, refreshed

    times = {ColormapBackend.pure_python: [], ColormapBackend.partsegcore: []}
    for _ in range(args.repeats):  # (alternated: the machine's load falls on both alike)
        for backend, measured in times.items():
            set_backend(backend)
            measured.append(add_and_refresh())
    set_backend(ColormapBackend.fastest_available)
    viewer.close()

    def median(backend, which: int) -> float:
        return statistics.median(pair[which] for pair in times[backend])

    numpy_add, numpy_refresh = (median(ColormapBackend.pure_python, i) for i in (0, 1))
    fast_add, fast_refresh = (median(ColormapBackend.partsegcore, i) for i in (0, 1))
    text = f"""## Colouring a large labels plane (napari's numpy path vs the compiled one)

Command: `QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_labels_colouring.py --write`
(napari {napari.__version__}, software OpenGL under Xvfb, {args.size} x {args.size} int32 labels;
medians of {args.repeats}, the two backends alternated in one run).

| on the GUI thread | numpy (napari without the backend) | PartSegCore-compiled-backend | ratio |
|---|---|---|---|
| adding the labels layer (Run on a fresh image) | {numpy_add:.2f} s | {fast_add:.2f} s | {numpy_add / fast_add:.1f}x |
| a full refresh (cancel, accept, undo of a big edit) | {numpy_refresh:.2f} s | {fast_refresh:.2f} s | {numpy_refresh / fast_refresh:.1f}x |
"""
    print(text)
    if args.write:
        RESULT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
