"""Removing a layer in the app: the GUI thread's stall with the launcher's frozen start-up
objects (``app.qt.gui_thread_gc.freeze_startup_objects``) against the same app with them
walked by every full collection, in one run.

napari runs a full garbage collection at every layer removal (and viewer close) on the GUI
thread; its cost grows with every object Python tracks: napari, Qt, the window, torch. The
launcher freezes what exists before it opens an image. Here: the app as the launcher starts
it on the sample, then torch imported (as the warm-up does), then the median time of
``viewer.layers.remove`` on a small points layer: as launched, then with nothing frozen
(``gc.unfreeze``), then with everything frozen (torch and the sample too: an upper bound).
Needs a display (Xvfb):

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_layer_removal.py --write
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import tempfile
import time

import numpy as np
from results_file import write_result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--removals", type=int, default=15, help="per case")
    parser.add_argument("--write", action="store_true", help="write results/layer_removal.md")
    args = parser.parse_args()
    os.environ.setdefault("UNET_STUDIO_HOME", tempfile.mkdtemp(prefix="bench-home-"))

    from qtpy.QtWidgets import QApplication

    from unet_studio.app.launcher import open_studio

    started = time.perf_counter()
    viewer = open_studio([], load_sample=True, show=True)
    opened = time.perf_counter() - started
    app = QApplication.instance()
    for _ in range(20):
        app.processEvents()
    import torch  # noqa: F401  (the session's warm-up imports it after the start)

    frozen_count = gc.get_freeze_count()

    def removal_seconds() -> list[float]:
        times = []
        for i in range(args.removals):
            layer = viewer.add_points(np.random.default_rng(i).random((5, 3)) * 50, name="p")
            app.processEvents()
            began = time.perf_counter()
            viewer.layers.remove(layer)
            times.append(time.perf_counter() - began)
            app.processEvents()
        return times

    launched = removal_seconds()
    unfrozen = len(gc.get_objects())  # (gc.get_objects leaves the frozen ones out)
    gc.unfreeze()
    walked = removal_seconds()
    gc.collect()
    gc.freeze()
    everything = removal_seconds()
    viewer.close()

    ms = lambda values: f"{1000 * statistics.median(values):.0f} ms"  # noqa: E731
    body = (
        f"The app started by the launcher on the `nuclei3d` sample (start: {opened:.1f} s), torch "
        f"imported after: {frozen_count:,} objects frozen by the launcher's start (before any "
        f"image), {unfrozen:,} not. Median GUI-thread time of removing a small "
        f"points layer, {args.removals} removals per case, in this order; load average "
        f"{os.getloadavg()[0]:.1f} at the end:\n\n"
        "| objects frozen | layer removal (median) |\n|---|---|\n"
        f"| none | {ms(walked)} |\n"
        f"| the launcher's start-up objects (as launched) | {ms(launched)} |\n"
        f"| all, torch and the sample too (an upper bound) | {ms(everything)} |\n\n"
        f"None / as launched: {statistics.median(walked) / statistics.median(launched):.1f}x."
    )
    print(body)
    if args.write:
        write_result("layer_removal", "Removing a layer: napari's full collection and the frozen start-up objects", body)


if __name__ == "__main__":
    main()
