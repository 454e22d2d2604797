"""Resident memory of a long session: the same work repeated, RSS after each iteration (Xvfb).

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_session_drift.py --iterations 20 --write

An iteration is what a user repeats all day: open a 256x256x3 crop, Segment it, edit the
labels (a delete, a merge, a brush stroke), mark frame 0 reviewed, Train a 5 s round,
Accept (re-predict) or Reject, close the layers. Each variant runs in a fresh process (so
that none inherits another's heap; ``--jobs`` of them at a time); ``--write`` writes the
table to ``benchmarks/results/session_drift.md``; ``--variant NAME`` runs one here and
prints a JSON line per iteration.

The variants separate the parts of the loop (open/close only, Segment only, Train only)
and the allocator's share: the app's own ``malloc_trim`` after engine work
(``app/heap_release.py``) switched off, ``malloc_trim(0)`` after every iteration instead,
``MALLOC_ARENA_MAX=2``. Beside RSS each row shows glibc's own account (``mallinfo2``):
bytes malloc has handed out, and freed bytes it keeps inside its heaps, so that memory
the program holds is told apart from freed memory the allocator keeps.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
# (source file, crop): two different images, as a user moves from one to the next.
CROPS = {
    "hela": ("ctc_Fluo-N2DL-HeLa_02_5t_img.tif", (slice(0, 3), slice(200, 456), slice(300, 556))),
    "scratch": ("ndev_scratch_hoechst_10t_img.tif", (slice(0, 3), slice(0, 210), slice(0, 256))),
}
FULL = frozenset({"open", "segment", "edit", "train"})
# name -> (parts of the loop, environment, malloc_trim after each iteration, the app's own
# trim after engine work kept). "as shipped" is the app as it is; the others switch the
# app's trim off, to show what it mitigates and which part of the loop the growth is in.
VARIANTS = {
    "full, as shipped": (FULL, {}, False, True),
    "full, app trim off": (FULL, {}, False, False),
    "full, app trim off, malloc_trim/it.": (FULL, {}, True, False),
    "full, app trim off, MALLOC_ARENA_MAX=2": (FULL, {"MALLOC_ARENA_MAX": "2"}, False, False),
    # (a fixed threshold: buffers over 256 KB always mmapped, given back at once on free)
    "full, app trim off, MALLOC_MMAP_THRESHOLD_=256K": (
        FULL, {"MALLOC_MMAP_THRESHOLD_": "262144"}, False, False),
    "open/close, app trim off": (frozenset({"open"}), {}, False, False),
    "open+segment, app trim off": (frozenset({"open", "segment"}), {}, False, False),
    "train, app trim off": (frozenset({"train"}), {}, False, False),
}


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]  # fmt: skip


_libc = ctypes.CDLL("libc.so.6")
_libc.mallinfo2.restype = _MallInfo2


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def heap_mb() -> tuple[float, float]:
    """(bytes malloc has handed out, freed bytes kept inside its heaps) in MB, all arenas."""
    info = _libc.mallinfo2()
    return (info.uordblks + info.hblkhd) / 2**20, info.fordblks / 2**20


def write_crops(folder: Path) -> list[Path]:
    import tifffile

    paths = []
    for name, (source, crop) in CROPS.items():
        path = folder / f"{name}.tif"
        # (ImageJ axes: three frames of a time-lapse, not three channels)
        tifffile.imwrite(path, tifffile.imread(DATA / source)[crop], imagej=True,
                         metadata={"axes": "TYX"})  # fmt: skip
        paths.append(path)
    return paths


class Studio:
    """The studio under Xvfb and the steps of one iteration, through the real panels."""

    def __init__(self, files: list[Path]):
        from qtpy.QtWidgets import QApplication

        from unet_studio.app.launcher import open_studio

        self.app = QApplication.instance() or QApplication([])
        self.files = files
        self.viewer = open_studio([], show=True, load_sample=False)
        docks = self.viewer.window.dock_widgets
        self.segment = docks["Segment (unet-studio)"]
        self.correct = docks["Correct (unet-studio)"]
        self.train_panel = docks["Train (unet-studio)"]
        self.session = self.segment.session
        self.wait(lambda: not any(t.name == "unet-studio warm-up" for t in threading.enumerate()))

    def wait(self, condition, timeout: float = 900) -> None:
        from qtpy.QtCore import QCoreApplication, QEvent

        end = time.monotonic() + timeout
        while True:
            self.app.processEvents()
            # (without a running event loop deleteLater'd objects are never deleted)
            QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
            if condition():
                return
            if time.monotonic() > end:
                raise TimeoutError("the background work did not finish in time")
            time.sleep(0.005)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        self.wait(lambda: time.monotonic() >= end)

    def open(self, path: Path) -> None:
        self.viewer.open(str(path), plugin="unet-studio", stack=False)
        self.pump(0.2)
        self.session.select_image(path.stem)

    def run_segment(self) -> None:
        self.segment.scope_stack.setChecked(True)
        self.segment.run()
        if self.segment.worker is None:
            raise RuntimeError(f"Segment did not start: {self.segment.status.text()}")
        self.wait(lambda: self.segment.worker is None)

    def edit(self, iteration: int) -> None:
        labels = np.asarray(self.session.host.labels_layer().data)
        ids = [int(i) for i in np.unique(labels[0]) if i]
        tools = self.correct.tools
        if len(ids) >= 3:
            tools.set_mode("delete")
            tools.click((0.0, *map(float, _inside(labels[0], ids[0]))))
            tools.set_mode("merge")
            for object_id in ids[1:3]:
                tools.click((0.0, *map(float, _inside(labels[0], object_id))))
            tools.apply()
            tools.set_mode(None)
        layer = self.session.host.labels_layer()
        layer.brush_size = 5
        layer.paint((0, 20 + iteration % 10, 20), 999)
        self.session.ensure_reviewed().mark_region((slice(0, 1), slice(None), slice(None)))
        self.session.reviewed_changed_by_user()
        self.pump(0.1)

    def train(self, iteration: int) -> None:
        panel = self.train_panel
        panel.budget_edit.setText("5 s")
        panel.start()
        if panel.worker is None:
            raise RuntimeError(f"Train did not start: {panel.status.text()}")
        self.wait(lambda: panel.worker is None)
        if panel._state == "review":
            (panel.accept_button if iteration % 2 == 0 else panel.reject_button).click()
            self.wait(lambda: self.segment.worker is None)

    def close_layers(self) -> None:
        for layer in list(self.viewer.layers)[::-1]:
            self.viewer.layers.remove(layer)
        self.pump(0.2)
        if self.session.project is not None:
            self.session.project.flush(30)

    def iterate(self, iteration: int, parts: frozenset[str]) -> None:
        path = self.files[iteration % len(self.files)]
        if parts == {"train"}:  # Train alone: the image and its reviewed frame stay open
            if iteration == 0:
                self.open(path)
                self.run_segment()
                self.edit(iteration)
            self.train(iteration)
            return
        self.open(path)
        if "segment" in parts:
            self.run_segment()
        if "edit" in parts:
            self.edit(iteration)
        if "train" in parts:
            self.train(iteration)
        self.pump(0.2)
        self.close_layers()


def _inside(plane: np.ndarray, object_id: int) -> np.ndarray:
    points = np.argwhere(plane == object_id)
    return points[len(points) // 2]


def run_variant(name: str, iterations: int) -> None:
    """One variant in this process: a JSON line per iteration on stdout."""
    parts, _, trim_each_iteration, app_trim = VARIANTS[name]
    if not app_trim:
        from unet_studio.app import heap_release

        heap_release.release_freed_heap = lambda: False  # (workers call it through the module)
    work = Path(tempfile.mkdtemp(prefix="unet-studio-drift-"))
    os.environ["UNET_STUDIO_HOME"] = str(work / "home")
    studio = Studio(write_crops(work))
    for iteration in range(iterations):
        start = time.monotonic()
        studio.iterate(iteration, parts)
        gc.collect()
        if trim_each_iteration:
            _libc.malloc_trim(0)
        in_use, kept = heap_mb()
        print(json.dumps({
            "iteration": iteration, "rss_mb": round(rss_mb(), 1), "in_use_mb": round(in_use, 1),
            "kept_mb": round(kept, 1), "threads": len(os.listdir("/proc/self/task")),
            "py_objects": len(gc.get_objects()), "seconds": round(time.monotonic() - start, 1),
        }), flush=True)  # fmt: skip
    studio.session.close_project()
    os._exit(0)  # (the numbers are out; tearing the viewer down measures nothing)


def run_child(name: str, iterations: int) -> list[dict]:
    env = {**os.environ, **VARIANTS[name][1]}
    command = [sys.executable, __file__, "--variant", name, "--iterations", str(iterations)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    rows = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or len(rows) != iterations:
        raise RuntimeError(f"variant {name} failed:\n{done.stderr[-3000:]}")
    print(name, json.dumps(rows[-1]), flush=True)
    return rows


def slope(rows: list[dict], key: str) -> float:
    """MB per iteration: least squares over the iterations after the first two (warm-up)."""
    x = np.array([row["iteration"] for row in rows[2:]], float)
    y = np.array([row[key] for row in rows[2:]], float)
    return float(np.polyfit(x, y, 1)[0]) if len(x) > 1 else float("nan")


def table(results: dict[str, list[dict]]) -> str:
    lines = ["| variant | RSS after it. 2 MB | RSS at end MB | RSS MB/it. | malloc in use MB/it. "
             "| malloc kept (freed) at end MB | OS threads first/last | Python objects 2nd/last "
             "| s/it. |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, rows in results.items():
        second, last = rows[min(1, len(rows) - 1)], rows[-1]
        seconds = float(np.mean([row["seconds"] for row in rows]))
        lines.append(
            f"| {name} | {second['rss_mb']:.0f} | {last['rss_mb']:.0f} | {slope(rows, 'rss_mb'):+.2f} "
            f"| {slope(rows, 'in_use_mb'):+.2f} | {last['kept_mb']:.0f} "
            f"| {rows[0]['threads']}/{last['threads']} | {second['py_objects']}/{last['py_objects']} "
            f"| {seconds:.0f} |")  # fmt: skip
    lines += ["", "RSS MB after each iteration:", ""]
    lines += [f"- {name}: " + " ".join(f"{row['rss_mb']:.0f}" for row in rows)
              for name, rows in results.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--variant", choices=sorted(VARIANTS), default=None,
                        help="run one variant in this process and print JSON lines")
    parser.add_argument("--variants", default=";".join(VARIANTS),
                        help="';'-separated variants to run, each in a fresh process")
    parser.add_argument("--jobs", type=int, default=1, help="variants run at the same time")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/session_drift.md")
    args = parser.parse_args()
    if args.variant:
        run_variant(args.variant, args.iterations)
        return
    names = args.variants.split(";")
    with ThreadPoolExecutor(args.jobs) as pool:
        results = dict(zip(names, pool.map(lambda name: run_child(name, args.iterations), names)))
    body = table(results)
    print(body)
    if args.write:
        from results_file import write_result

        body += (
            "\n\nSlopes: least squares over the iterations after the first two. \"malloc in "
            "use\": what glibc's malloc has handed out and not got back (mallinfo2 uordblks + "
            "hblkhd), i.e. what the program holds; \"malloc kept\": freed memory glibc keeps "
            "inside its heaps (fordblks), resident until trimmed. Seconds per iteration "
            f"depend on the load ({args.jobs} variant(s) at a time, on {os.cpu_count()} cores).")
        write_result("session_drift", "Resident memory over a long session", body)


if __name__ == "__main__":
    main()
