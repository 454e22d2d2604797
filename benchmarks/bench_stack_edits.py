"""The longest freeze of the GUI thread during the Correct panel's edits of every object:
Shift+I (fill between the painted slices of every object), Fill holes, Relabel 1..N.

A Correct panel on the in-memory FakeHost (a session with its autosave project, as in the
app, without napari's drawing) holds labels of 64 x 1024 x 1024: 625 round objects, each
on a run of slices but painted on every 4th one only (gaps to fill), with a hole in some
planes, their ids not 1..N. A QTimer ticks every 5 ms on the GUI thread from the key press
or click until the edit is applied (and undone again for the next action); the longest gap
between two ticks is the longest the user's painting and scrolling would have waited. Each
action runs twice in one run: computed at the press (as before the change; the threshold
raised past the stack) and in a worker thread (as now); ``--repeats N`` runs each N times
and reports the median (and the worst) stall, ``--worker-only`` skips the runs at the press:

    QT_API=pyside6 xvfb-run -a .venv/bin/python benchmarks/bench_stack_edits.py \\
        [--repeats 1] [--worker-only] [--write]

``bench_edit_latency.py`` measures the same edits (and single ones) in a real napari window.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from results_file import write_result

SHAPE = (64, 1024, 1024)
GRID = 25  # objects per row and column: 625
TICK_MS = 5


def stack_labels(shape=SHAPE, grid=GRID, painted_every=4, seed=0) -> np.ndarray:
    """Round objects on random runs of slices, painted every ``painted_every``-th slice,
    a small hole on every 8th plane; ids 3, 6, 9, ..."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.int32)
    step = shape[1] // grid
    yy, xx = np.mgrid[0:step, 0:step]
    radius2 = (yy - step // 2) ** 2 + (xx - step // 2) ** 2
    disc, hole = radius2 < (step // 2 - 3) ** 2, radius2 < 4
    for index in range(grid * grid):
        gy, gx = divmod(index, grid)
        first = int(rng.integers(0, shape[0] // 2))
        last = min(shape[0], first + int(rng.integers(8, shape[0] // 2)))
        for z in range(first, last, painted_every):
            plane = labels[z, gy * step : (gy + 1) * step, gx * step : (gx + 1) * step]
            plane[disc] = 3 * (index + 1)
            if z % 8 == 0:
                plane[hole] = 0
    return labels


def measure(panel, qtbot_wait, action) -> tuple[float, float, str]:
    """(longest GUI stall in ms, seconds until applied, what it said) of ``action()``."""
    from qtpy.QtCore import QTimer

    ticks = []
    timer = QTimer()
    timer.setInterval(TICK_MS)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    qtbot_wait(50)
    start = time.perf_counter()
    ticks.append(start)
    said = action()
    runner = getattr(panel.tools, "stack_edits", None)
    in_worker = runner is not None and runner.busy
    while in_worker and runner.busy:
        qtbot_wait(5)
    # (a key returns what it did at once; a worker's result is told in the status line)
    said = panel.tool_status.text() if in_worker or not said else said
    done = time.perf_counter()
    qtbot_wait(20)
    timer.stop()
    ticks = [t for t in ticks if t >= start]
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    return 1000 * max(gaps, default=0.0), done - start, said


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--worker-only", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    from qtpy.QtCore import QEventLoop, QTimer
    from qtpy.QtWidgets import QApplication

    from unet_studio.app.host import FakeHost, full_view
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.app.qt.session import StudioSession

    app = QApplication.instance() or QApplication([])

    def wait(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    home = Path(tempfile.mkdtemp())
    os.environ["UNET_STUDIO_HOME"] = str(home)
    labels = stack_labels()
    host = FakeHost()
    host.add_image(np.zeros(SHAPE, np.uint8), "ZYX", name="stack")
    session = StudioSession(host, library=ModelLibrary(home=home))
    session.show_labels(labels)
    host.view = full_view(SHAPE, (32, 0, 0))
    panel = CorrectPanel(session)
    actions = {"Shift+I (625 objects)": lambda: panel.keys.press("interpolate all", (32, 1, 1)),
               "Fill holes": lambda: panel.fill_button.click(),
               "Relabel 1..N": lambda: panel.relabel_button.click()}
    from unet_studio.app.qt import stack_edit_runner

    rows = []
    off_thread = stack_edit_runner.SYNC_PIXELS
    places = (("at the press", labels.size), ("worker thread", off_thread))
    for name, action in actions.items():
        # At the press (as before: the threshold raised past the stack), then in a worker.
        for where, threshold in places[1:] if args.worker_only else places:
            stack_edit_runner.SYNC_PIXELS = threshold
            runs = []
            for _ in range(args.repeats):
                runs.append(measure(panel, wait, action))
                if host.undo_stack:
                    host.undo()
            stalls = [run[0] for run in runs]
            stall = f"{statistics.median(stalls):.0f}" + (f" ({max(stalls):.0f})" if len(runs) > 1 else "")
            seconds, said = statistics.median(run[1] for run in runs), runs[-1][2]
            rows.append(f"| {name} | {where} | {stall} | {seconds:.2f} | {(said or '')[:60]} |")
            print(rows[-1], flush=True)
    stack_edit_runner.SYNC_PIXELS = off_thread
    session.close_project()
    app.processEvents()
    header = ["| action, 64 x 1024 x 1024 labels | computed | longest GUI stall (ms) "
              "| until applied (s) | said |", "|---|---|---|---|---|"]
    print("\n".join(header + rows))
    if args.write:
        runs = "One run" if args.repeats == 1 else f"The median (worst) of {args.repeats} runs"
        note = (f"\n\n{runs} of each on the 2-core VM. In a worker thread, what is left on the GUI "
                "thread is applying the result as one undo step and noting its reviewed marks; "
                "handing the chunks it changed to the autosave (whose thread reads them) and the "
                "redraw of the marks each follow in a turn of their own; \"until applied\" is the same work either way.")
        write_result("stack_edits", "Edits of every object: the longest freeze of the GUI thread",
                     "\n".join(header + rows) + note)


if __name__ == "__main__":
    main()
