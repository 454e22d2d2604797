"""Longest stall of the Qt event loop while a prediction and a fine-tune run in the background.

A QTimer ticks every 10 ms on the GUI thread of a real napari window (under Xvfb here); the
longest gap between two ticks while the engine works is the longest time the user's
clicks, scrolls and repaints would have waited. The bound is 100 ms.

The prediction is the Segment panel's Run on a bundled sample stack with the default model
(or, if none is bundled yet, a residual U-Net of base width 16 with random weights: the same
amount of work); the fine-tune is the Train panel's on the reviewed half of that stack.

    QT_API=pyside6 OMP_NUM_THREADS=1 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_gui_responsiveness.py [--repeats 3] [--write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "gui.md"
TICK_MS = 10
BOUND_MS = 100.0


class Heartbeat:
    """Records the GUI thread's timer ticks; ``max_gap_ms`` is the longest stall."""

    def __init__(self):
        from qtpy.QtCore import QTimer

        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(lambda: self.ticks.append(time.perf_counter()))

    def __enter__(self):
        self.ticks.clear()
        self.timer.start()
        return self

    def __exit__(self, *exc):
        self.timer.stop()

    @property
    def max_gap_ms(self) -> float:
        gaps = [b - a for a, b in zip(self.ticks, self.ticks[1:])]
        return 1000 * max(gaps, default=0.0)

    @property
    def p99_gap_ms(self) -> float:
        gaps = sorted(b - a for a, b in zip(self.ticks, self.ticks[1:]))
        return 1000 * gaps[int(0.99 * (len(gaps) - 1))] if gaps else 0.0


def wait_for(condition, timeout: float) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the background work did not finish in time")
        QApplication.processEvents()
        time.sleep(0.002)


def wait_for_warm_up() -> None:
    """Let the app's start-up imports finish, as they would while a user looks around."""
    import threading

    for thread in threading.enumerate():
        if thread.name == "unet-studio warm-up":
            wait_for(lambda t=thread: not t.is_alive(), 300)


def model_folder(temp: Path):
    """The bundled default model, else a same-sized stand-in with random weights."""
    from unet_studio.app.model_library import ModelLibrary

    info = ModelLibrary(home=temp / "home").default()
    if info is not None:
        return info.path, f"bundled model {info.name}"
    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import save_model

    net = build_model("residual_unet", spatial_dims=2, base_channels=16, depth=4)
    return save_model(net, temp / "stand-in", metadata={"name": "stand-in"}), \
        "residual_unet base 16 depth 4 (random weights; no bundled model yet)"


def run_once(session, segment, train, budget_s: float) -> dict:
    """One prediction of the whole stack, then one fine-tune; the stall of each (ms)."""
    from unet_studio.models.training import FinetuneConfig

    figures = {}
    with Heartbeat() as beat:
        start = time.perf_counter()
        segment.run()
        wait_for(lambda: segment.worker is None, 900)
        figures["predict_s"] = time.perf_counter() - start
    figures["predict_stall_ms"], figures["predict_p99_ms"] = beat.max_gap_ms, beat.p99_gap_ms
    labels = session.host.current_labels()
    half = tuple(slice(0, n // 2) for n in labels.shape)
    session.ensure_reviewed().mark_region(half)
    session.reviewed_changed_by_user()
    with Heartbeat() as beat:
        start = time.perf_counter()
        train.start(config=FinetuneConfig(max_seconds=budget_s, batch_size=4, patch_size=128))
        wait_for(lambda: train.worker is None, budget_s * 10 + 300)
        figures["train_s"] = time.perf_counter() - start
    figures["train_stall_ms"], figures["train_p99_ms"] = beat.max_gap_ms, beat.p99_gap_ms
    train.reject()
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sample", default="hela_timelapse", choices=("hela_timelapse", "nuclei3d"))
    parser.add_argument("--train-seconds", type=float, default=10.0)
    parser.add_argument("--write", action="store_true", help=f"write the figures to {RESULTS}")
    args = parser.parse_args(argv)

    import napari

    with tempfile.TemporaryDirectory() as temp:
        temp = Path(temp)
        os.environ["UNET_STUDIO_HOME"] = str(temp / "home")
        from unet_studio.app.launcher import open_studio
        from unet_studio.plugins.widgets import session_for

        viewer = open_studio(show=True, load_sample=False)
        viewer.window._qt_window.resize(1400, 900)
        viewer.open_sample("unet-studio", args.sample)
        session = session_for(viewer)
        folder, model_text = model_folder(temp)
        session.set_model(str(folder))
        wait_for_warm_up()
        docks = viewer.window.dock_widgets
        segment, train = docks["Segment (unet-studio)"], docks["Train (unet-studio)"]
        runs = []
        for index in range(args.repeats):
            runs.append(run_once(session, segment, train, args.train_seconds))
            print(f"run {index + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in runs[-1].items()),
                  flush=True)  # fmt: skip
        session.close_project()
        viewer.close()
    summary = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    worst = {k: max(r[k] for r in runs) for k in runs[0]}
    section = format_section(args, model_text, summary, worst, runs, napari.__version__)
    print(section)
    if args.write:
        write_section(args.sample, section)
    ok = worst["predict_stall_ms"] <= BOUND_MS and worst["train_stall_ms"] <= BOUND_MS
    return 0 if ok else 1


HEADER = """# GUI responsiveness (issues 5 and 6)

Longest gap between ticks of a 10 ms QTimer on the GUI thread of a shown napari window
(Xvfb, Mesa llvmpipe software OpenGL) while the Segment panel predicts a whole sample stack
(automatic tiles, CPU) and while the Train panel then fine-tunes on the reviewed half of it.
Bound: 100 ms. Run 1 includes the first prediction of the image (its labels layer is
created); runs 2 and 3 re-predict with reviewed regions present. One section per sample.

What keeps the GUI thread free: the engine runs in its own thread pool at lower CPU
priority (nice +10); labels stream into the layer being corrected (no preview layer added
and removed); panels redraw at most twice a second and never through QProgressBar's
synchronous repaint; tidying the streamed labels happens in the worker; imports that would
hold the interpreter lock mid-work (pandas for napari's Labels, torch and its optimiser
stack) are done in the background at start-up; the loaded network is reused between runs.
Under software OpenGL napari's activity-dock progress is not used: its animated busy
indicator alone recomposites the window many times a second (~80 ms per frame measured
here), and every redraw of the window costs 50-80 ms on this shared 2-core machine; that
redraw when new labels arrive, and the engine's post-processing holding the interpreter
lock, are what remains of the longest stalls.
"""


def write_section(sample: str, section: str) -> None:
    """Replace this sample's section of the results file, keeping the others."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    parts = text.split("\n## ")
    kept = [parts[0]] + [p for p in parts[1:] if not p.startswith(f"`{sample}`")]
    RESULTS.write_text("\n## ".join(kept).rstrip() + "\n\n" + section)


def format_section(args, model_text, median, worst, runs, napari_version) -> str:
    command = ('QT_API=pyside6 OMP_NUM_THREADS=1 xvfb-run -a -s "-screen 0 1600x1000x24" '
               f".venv/bin/python benchmarks/bench_gui_responsiveness.py --repeats {args.repeats} "
               f"--sample {args.sample} --train-seconds {args.train_seconds:g} --write")
    per_run = "; ".join(
        f"run {i + 1}: {r['predict_stall_ms']:.0f} / {r['train_stall_ms']:.0f} ms"
        for i, r in enumerate(runs)
    )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return "\n".join([
        f"## `{args.sample}` sample",
        "",
        f"Model: {model_text}; fine-tune budget {args.train_seconds:g} s; napari "
        f"{napari_version}; median (worst) of {args.repeats} runs; machine load average "
        f"{load} (2 cores shared with other work).",
        "",
        "| work in the background | longest stall | 99th percentile gap | duration |",
        "|---|---|---|---|",
        f"| prediction | {median['predict_stall_ms']:.0f} ms ({worst['predict_stall_ms']:.0f} ms) "
        f"| {median['predict_p99_ms']:.0f} ms | {median['predict_s']:.1f} s |",
        f"| fine-tuning | {median['train_stall_ms']:.0f} ms ({worst['train_stall_ms']:.0f} ms) "
        f"| {median['train_p99_ms']:.0f} ms | {median['train_s']:.1f} s |",
        "",
        f"Longest stall per run (prediction / fine-tuning): {per_run}.",
        "",
        f"Command: `{command}`",
        "",
    ])


if __name__ == "__main__":
    sys.exit(main())
