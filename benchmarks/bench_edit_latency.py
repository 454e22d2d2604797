"""The longest freeze of the GUI thread of a real napari window per edit of big labels:
a brush stroke, a merge of two objects, the edits of every object (Shift+I, Fill holes,
Relabel 1..N, computed in a worker and applied as one undo step), and the undo of each.

A napari window (under Xvfb here) with the Correct panel holds the labels of
``bench_stack_edits.py`` (64 x 1024 x 1024, 625 objects) over an image of that shape, with
the autosave project, the reviewed marks and their overlay as in the app. A QTimer ticks
every 5 ms on the GUI thread from the start of an action until the event loop has been idle
for 300 ms after it; the longest gap between two ticks is how long painting and scrolling
waited. Each action runs ``--repeats`` times (a stroke in a new place each time); the
median and the worst are reported. First the undo and redo of the only edit made (a
stroke): the reviewed marks become empty and come back. The stroke is napari's brush as its mouse drag calls it
(15 dabs of the default brush in one stroke: one undo step, reported as 15 edits)::

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_edit_latency.py [--repeats 3] [--json out.json]
        [--before before.json] [--write]

``--json`` keeps this run's figures; ``--before`` puts another run's figures (the code
before a change) beside them in the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from results_file import write_result

TICK_MS = 5
SETTLE_MS = 300


class Ticks:
    """A 5 ms QTimer on the GUI thread; :meth:`longest_ms` is the longest stall since."""

    def __init__(self):
        from qtpy.QtCore import QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))
        self.timer.start()

    def longest_ms(self, start: float) -> float:
        ticks = [start] + [t for t in self.ticks if t >= start]
        return 1000 * max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0)


def wait(ms: int) -> None:
    from qtpy.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def stroke(layer, row: int) -> None:
    """A brush stroke of 15 dabs across row ``row`` of the middle plane, as napari's mouse
    drag paints it (one undo step)."""
    layer.selected_label = 7
    layer._begin_stroke()  # (napari's drag does this at the press, then paints per move)
    for x in range(100, 160, 4):
        layer.paint((32, row, x), 7, refresh=True)
    layer._commit_stroke()


def merge(session) -> None:
    """Merge two neighbouring objects of the middle plane (found and applied at the press)."""
    from unet_studio.app.corrections import merge_labels_edit

    labels = session.host.current_labels()
    centres = [(32, 20 + 40 * (k // 25), 26 + 40 * (k % 25)) for k in range(625)]  # (off the holes)
    picked = [c for c in centres if labels[c]][:2]  # (objects on a run of slices with 32)
    session.apply_edit(merge_labels_edit(labels, [int(labels[c]) for c in picked], near=picked))


def in_worker(panel, press) -> None:
    press()
    while panel.tools.stack_edits.busy:
        wait(5)


def actions(session, panel, layer) -> dict:
    rows = iter(range(300, 1000, 12))
    return {
        "brush stroke (15 dabs)": lambda: stroke(layer, next(rows)),
        "merge two objects": lambda: merge(session),
        "Shift+I (625 objects)": lambda: in_worker(
            panel, lambda: panel.keys.press("interpolate all", (32, 1, 1))),
        "Fill holes": lambda: in_worker(panel, panel.fill_button.click),
        "Relabel 1..N": lambda: in_worker(panel, panel.relabel_button.click),
    }


def measure(ticks: Ticks, action) -> float:
    wait(SETTLE_MS)
    start = time.perf_counter()
    action()
    wait(SETTLE_MS)
    return ticks.longest_ms(start)


def run(repeats: int) -> dict[str, list[float]]:
    import napari

    sys.path.insert(0, str(Path(__file__).parent))
    from bench_stack_edits import SHAPE, stack_labels

    from unet_studio.app.qt.correct_panel import CorrectPanel
    from unet_studio.plugins.widgets import session_for

    os.environ["UNET_STUDIO_HOME"] = tempfile.mkdtemp()
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1400, 900)
    viewer.add_image(np.zeros(SHAPE, np.uint8), name="stack")
    session = session_for(viewer)
    session.show_labels(stack_labels())
    viewer.dims.set_point(0, SHAPE[0] // 2)
    panel = CorrectPanel(session)
    layer = session.host.labels_layer()
    ticks = Ticks()
    stroke(layer, 200)  # (the first edit adds the overlay layer: napari's one-off cost)
    wait(1000)
    figures: dict[str, list[float]] = {}
    for _ in range(repeats):  # (the marks emptied and back: the overlay hidden and shown)
        figures.setdefault("undo of the only edit (no marks left)", []).append(measure(ticks, layer.undo))
        figures.setdefault("its redo", []).append(measure(ticks, layer.redo))
    for name, action in actions(session, panel, layer).items():
        for _ in range(repeats):
            figures.setdefault(name, []).append(measure(ticks, action))
            figures.setdefault(f"undo of {name}", []).append(measure(ticks, layer.undo))
        print(f"{name}: {figures[name]} ms; undo: {figures[f'undo of {name}']} ms", flush=True)
    session.close_project()
    viewer.close()
    return figures


def table(figures: dict, before: dict | None) -> str:
    def cell(values):
        return f"{statistics.median(values):.0f} ({max(values):.0f})" if values else "-"

    head = "| action, 64 x 1024 x 1024 labels, napari window | "
    if before:
        lines = [head + "before: longest stall, ms | after |", "|---|---|---|"]
        lines += [f"| {k} | {cell(before.get(k, []))} | {cell(v)} |" for k, v in figures.items()]
    else:
        lines = [head + "longest stall, ms |", "|---|---|"]
        lines += [f"| {k} | {cell(v)} |" for k, v in figures.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="keep this run's figures here")
    parser.add_argument("--before", type=Path, help="figures of a run before a change")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    figures = run(args.repeats)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), "utf-8")
    before = json.loads(args.before.read_text("utf-8")) if args.before else None
    text = table(figures, before)
    print(text)
    if args.write:
        note = (f"\n\nMedian (worst) of {args.repeats} runs of each on the 2-core VM (software "
                "OpenGL), a napari window of 1400 x 900.")
        write_result("edit_latency", "Edits of big labels in napari: the longest freeze of "
                     "the GUI thread", text + note)


if __name__ == "__main__":
    main()
