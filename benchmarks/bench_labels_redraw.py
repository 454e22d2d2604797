"""Redrawing a streamed tile of a large 2D labels layer: the region alone (``plugins.
labels_redraw``) against napari's full refresh of the plane, in one run on the same layer.

A prediction streaming into a whole-slide-sized labels layer redraws what it wrote a few
times a second; a full refresh recolours the whole plane on the GUI thread (a QA measured
6-10 s stalls on a 16k x 16k mosaic). Needs a display (Xvfb):

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_labels_redraw.py --write
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

RESULT = Path(__file__).resolve().parent / "results" / "labels_redraw.md"
TILE = 512


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=12000, help="side of the labels plane")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", action="store_true", help=f"write {RESULT.name}")
    args = parser.parse_args()

    import napari
    from qtpy.QtWidgets import QApplication

    from unet_studio.plugins.labels_redraw import redraw_region

    viewer = napari.Viewer(show=True)
    layer = viewer.add_labels(np.zeros((args.size, args.size), np.int32))
    app = QApplication.instance()
    for _ in range(20):  # (the canvas draws and sizes its texture)
        app.processEvents()
        time.sleep(0.05)

    def timed(redraw) -> float:
        started = time.perf_counter()
        redraw()
        app.processEvents()
        return time.perf_counter() - started

    full, region = [], []
    for repeat in range(args.repeats):
        y, x = TILE * (2 * repeat), TILE * (2 * repeat + 1)
        layer.data[y:y + TILE, x:x + TILE] = 2 * repeat + 1
        full.append(timed(lambda: layer.refresh(thumbnail=False, extent=False, highlight=False)))
        layer.data[x:x + TILE, y:y + TILE] = 2 * repeat + 2
        tile = (slice(x, x + TILE), slice(y, y + TILE))
        region.append(timed(lambda tile=tile: redraw_region(layer, tile)))
    viewer.close()
    full_s, region_s = statistics.median(full), statistics.median(region)
    text = f"""## Labels redraw of a streamed tile (large 2D plane)

Command: `QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python benchmarks/bench_labels_redraw.py --write`
(napari {napari.__version__}, software OpenGL under Xvfb, {args.size} x {args.size} int32 labels,
a {TILE} x {TILE} tile written in place then redrawn; medians of {args.repeats}).

| redraw | median time (GUI thread) |
|---|---|
| napari's full refresh of the plane (before) | {full_s:.2f} s |
| the tile's region only (`plugins/labels_redraw.py`) | {region_s * 1000:.0f} ms |

The region alone is {full_s / region_s:.0f}x faster here; a full refresh grows with the plane
(the QA's 16k x 16k mosaic: 6-10 s stalls at each redraw of a run).
"""
    print(text)
    if args.write:
        RESULT.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
