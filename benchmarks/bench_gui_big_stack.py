"""GUI-thread gaps and memory of the real app driven through a big stack's user actions.

The stack is the bundled ``nuclei3d`` sample (60 x 256 x 256 uint16) mirror-tiled to
``--shape`` (default 120 x 2048 x 2048, 0.94 GiB), written as a tiled zlib OME-TIFF in
``--folder`` (default: a temporary folder, deleted at the end), a plane at a time. The app
is the real one (``launcher.open_studio``, napari with the docked panels) with its own
``UNET_STUDIO_HOME`` in that folder, shown on the caller's display (Xvfb here). Timed, as a
user does them: open the file; Segment the current slice twice (the second over existing
labels); delete one object and merge two on that slice, then mark the slice reviewed; Train
with a 20 s budget (click to the round's end, against the budget); save the project (wait
for its autosave), close it, reopen it (its labels and reviewed marks checked); close the
window. A whole-stack Segment (slow on a CPU) only with ``--whole-stack``.

Per action: its duration; the longest GUI-thread gap (between ticks of a 50 ms QTimer on the
GUI thread, from the action's start to the end of a short settle after it); the peak of the
process's anonymous memory (``RssAnon``, sampled every 50 ms by a thread); ``VmHWM`` (the
process's peak resident memory so far) at its end. A watchdog thread prints the GUI thread's
stack (our frames) whenever it has been frozen for 1 s, 3 s, 8 s and 20 s.

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_gui_big_stack.py [--shape 120 2048 2048] [--write]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import write_result  # noqa: E402 (the script's folder, run as a file)

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "samples" / "nuclei3d.tif"
TICK_MS = 50
SETTLE_S = 2.0  # after an action: its redraws and late work still count
FREEZE_MARKS_S = (1.0, 3.0, 8.0, 20.0)
TRAIN_BUDGET_S = 20.0


# ---- the stack ---------------------------------------------------------------------------
def mirror_indices(size: int, source: int) -> np.ndarray:
    """0, 1, ..., source-1, source-1, ..., 0, 0, 1, ...: tiles that meet edge to edge."""
    index = np.arange(size) % (2 * source)
    return np.where(index < source, index, 2 * source - 1 - index)


def stack_tiles(source: np.ndarray, shape: tuple[int, int, int], tile: int):
    """The (Z, Y, X) stack's tiles in TIFF order (plane by plane, rows of tiles), each
    ``tile`` x ``tile`` (zero-padded at the edges): one plane in memory at a time."""
    z_of, y_of, x_of = (mirror_indices(n, s) for n, s in zip(shape, source.shape))
    for z in range(shape[0]):
        plane = source[z_of[z]][np.ix_(y_of, x_of)]
        for y in range(0, shape[1], tile):
            for x in range(0, shape[2], tile):
                block = np.zeros((tile, tile), source.dtype)
                part = plane[y:y + tile, x:x + tile]
                block[:part.shape[0], :part.shape[1]] = part
                yield block


def write_stack(path: Path, shape: tuple[int, int, int], tile: int = 256) -> float:
    """Write the mirror-tiled stack as a tiled zlib OME-TIFF; returns the seconds taken."""
    import tifffile

    source = tifffile.imread(SOURCE)
    start = time.perf_counter()
    tifffile.imwrite(path, stack_tiles(source, shape, tile), shape=shape, dtype=source.dtype,
                     bigtiff=True, ome=True, tile=(tile, tile), compression="zlib",
                     compressionargs={"level": 1}, maxworkers=2,
                     metadata={"axes": "ZYX", "PhysicalSizeX": 0.26, "PhysicalSizeY": 0.26,
                               "PhysicalSizeZ": 0.29})  # fmt: skip
    return time.perf_counter() - start


# ---- measuring ---------------------------------------------------------------------------
def proc_status_bytes(field: str) -> int:
    """A ``/proc/self/status`` memory field (``RssAnon``, ``VmHWM``) in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


class GuiMeter:
    """The longest gap between the GUI thread's 50 ms ticks and the peak anonymous memory,
    per action; a watchdog thread prints the GUI thread's stack while it is frozen."""

    def __init__(self):
        from qtpy.QtCore import QTimer

        self.action = "start"
        self.last_tick = time.perf_counter()
        self.max_gap = 0.0
        self.peak_anon = 0
        self.freezes: list[tuple[str, float, str]] = []  # (action, seconds, our frames)
        self.main = threading.main_thread().ident
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        threading.Thread(target=self._watch, name="bench watchdog", daemon=True).start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.max_gap = max(self.max_gap, now - self.last_tick)
        self.last_tick = now

    def _watch(self) -> None:
        seen, marked = None, set()
        while True:
            time.sleep(TICK_MS / 1000)
            self.peak_anon = max(self.peak_anon, proc_status_bytes("RssAnon"))
            last = self.last_tick
            if last != seen:
                seen, marked = last, set()
            stalled = time.perf_counter() - last
            for mark in FREEZE_MARKS_S:
                if stalled >= mark and mark not in marked:
                    marked.add(mark)
                    self._report_freeze(stalled)

    def _report_freeze(self, stalled: float) -> None:
        frames = sys._current_frames()
        where = our_frames(frames.get(self.main), 8)
        if Path(__file__).name in where.splitlines()[-2:][0]:
            # Frozen in this script's own wait (Qt's C++ work in processEvents, or waiting
            # for the interpreter lock held by another thread): those threads' frames too.
            others = [(thread.name, our_frames(frames[thread.ident], 3, strict=True))
                      for thread in threading.enumerate()
                      if thread.ident in frames and thread.ident != self.main
                      and thread is not threading.current_thread()]
            where += "".join(f"  [thread {name}]\n{stack}" for name, stack in others if stack)
        self.freezes.append((self.action, stalled, where))
        print(f"  WATCHDOG: GUI thread frozen {stalled:.1f} s during '{self.action}':\n{where}",
              flush=True)  # fmt: skip

    def begin(self, action: str) -> None:
        self.action = action
        self.peak_anon = proc_status_bytes("RssAnon")
        self.last_tick = time.perf_counter()
        self.max_gap = 0.0
        self.started = time.perf_counter()

    def end(self, seconds: float, note: str = "") -> dict:
        self._tick()  # (a freeze running up to now counts)
        row = {"action": self.action, "seconds": seconds, "max_gap_ms": 1000 * self.max_gap,
               "peak_anon": self.peak_anon, "hwm": proc_status_bytes("VmHWM"), "note": note}
        print(f"{row['action']}: {seconds:.1f} s, longest GUI gap {row['max_gap_ms']:.0f} ms, "
              f"anonymous peak {gib(row['peak_anon'])}, VmHWM {gib(row['hwm'])} {note}",
              flush=True)  # fmt: skip
        return row


def our_frames(frame, count: int, strict: bool = False) -> str:
    """The innermost ``count`` frames of a thread's stack that are in this repository
    (``strict``: none when none is; else its innermost frames whatever they are)."""
    stack = traceback.format_stack(frame) if frame is not None else []
    ours = [f for f in stack if str(ROOT) in f and "/.venv/" not in f][-count:]
    if strict:
        return "".join(ours)
    return "".join(ours or stack[-count:]) or "  (no Python frame)\n"


def middle_plane(depth: int) -> int:
    """The plane of the stack that repeats the sample's middle plane (the most nuclei)."""
    import tifffile

    with tifffile.TiffFile(SOURCE) as tif:
        return min(depth - 1, tif.series[0].shape[0] // 2)


def gib(size: int) -> str:
    return f"{size / 2**30:.2f} GiB"


def wait_until(condition, timeout: float) -> bool:
    """Run the event loop until ``condition()`` (True) or ``timeout`` seconds (False)."""
    from qtpy.QtCore import QEventLoop
    from qtpy.QtWidgets import QApplication

    app, end = QApplication.instance(), time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if condition():
            return True
        time.sleep(0.01)
    return False


def settle(seconds: float = SETTLE_S) -> None:
    wait_until(lambda: False, seconds)


def timed(meter: GuiMeter, rows: list, action: str, do, done=lambda: True,
          timeout: float = 900.0, note=lambda: "") -> float:
    """``do()``, then the event loop until ``done()``; one row of the table."""
    meter.begin(action)
    start = time.perf_counter()
    do()
    if not wait_until(done, timeout):
        print(f"{action}: not done after {timeout:.0f} s", flush=True)
    seconds = time.perf_counter() - start
    settle()
    rows.append(meter.end(seconds, note()))
    return seconds


# ---- the app -----------------------------------------------------------------------------
class Studio:
    """The open app: its viewer and panels, and the user's actions on them."""

    def __init__(self, viewer):
        docks = viewer.window.dock_widgets
        self.viewer = viewer
        self.segment = docks["Segment (unet-studio)"]
        self.correct = docks["Correct (unet-studio)"]
        self.train = docks["Train (unet-studio)"]
        self.session = self.segment.session

    def labels_layer(self):
        from napari.layers import Labels

        return next((layer for layer in self.viewer.layers if isinstance(layer, Labels)), None)

    def slice_labels(self, z: int) -> np.ndarray:
        return np.asarray(self.labels_layer().data[z])

    def segment_slice(self) -> None:
        self.segment.scope_slice.setChecked(True)
        self.segment.run_button.click()

    def segment_stack(self) -> None:
        self.segment.scope_stack.setChecked(True)
        self.segment.run_button.click()

    def press(self, action: str, point: tuple[int, int, int]) -> None:
        """A correction key pressed with the pointer over ``point`` (labels pixels), as the
        key bound on the canvas does."""
        layer = self.labels_layer()
        self.viewer.cursor.position = tuple(layer.data_to_world(point))
        coord = self.session.host.pointer_coordinate()
        self.correct._run(lambda: self.correct.keys.press(action, coord))

    def start_training(self, budget_s: float) -> None:
        self.train.budget_edit.setText(f"{budget_s:g} s")
        self.train.train_button.click()


def inside_point(labels: np.ndarray, label: int, z: int) -> tuple[int, int, int]:
    """The pixel of object ``label`` farthest from its edge (a click surely inside it)."""
    from scipy import ndimage

    ys, xs = np.nonzero(labels == label)
    y0, x0 = ys.min(), xs.min()
    mask = labels[y0:ys.max() + 1, x0:xs.max() + 1] == label
    y, x = np.unravel_index(np.argmax(ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]),
                            mask.shape)  # fmt: skip
    return z, int(y0 + y), int(x0 + x)


def pick_objects(labels: np.ndarray) -> tuple[int, tuple[int, int]]:
    """Near the middle of the slice: an object to delete and two touching ones to merge."""
    h, w = labels.shape
    window = labels[h // 4: 3 * h // 4, w // 4: 3 * w // 4]
    left, right = window[:, :-1], window[:, 1:]
    touching = (left != right) & (left > 0) & (right > 0)
    if not touching.any():
        raise RuntimeError("no two touching objects near the middle of the slice to merge")
    y, x = np.argwhere(touching)[len(np.argwhere(touching)) // 2]
    pair = (int(left[y, x]), int(right[y, x]))
    others = [int(i) for i in np.unique(window) if i and i not in pair]
    return others[len(others) // 2], pair


# ---- the user's session ------------------------------------------------------------------
def wait_for_warm_up() -> None:
    """Let the app's start-up imports finish (a user looks around meanwhile)."""
    for thread in threading.enumerate():
        if thread.name == "unet-studio warm-up":
            wait_until(lambda t=thread: not t.is_alive(), 300)


def no_questions() -> list[str]:
    """Closing asks about unsaved work in a dialog that would wait for a click: answer
    Save instead, and keep the question for the report."""
    from unet_studio.app.qt import close_guard

    asked: list[str] = []

    def answer(_parent, text: str) -> str:
        asked.append(text)
        return close_guard.SAVE

    close_guard.ask_user = answer
    return asked


def drive(stack: Path, whole_stack: bool) -> tuple[list[dict], list, list[str]]:
    """The user's actions on ``stack``; the table's rows, the freezes, the checks."""
    from unet_studio.app.launcher import open_studio

    asked = no_questions()
    viewer = open_studio((), show=True, load_sample=False)
    viewer.window._qt_window.resize(1600, 1000)
    studio, meter, rows, checks = Studio(viewer), GuiMeter(), [], []
    wait_for_warm_up()
    settle()
    segment, train = studio.segment, studio.train
    timed(meter, rows, "open the file",
          lambda: viewer.open(str(stack), plugin="unet-studio"), lambda: len(viewer.layers) > 0)
    z = middle_plane(viewer.layers[0].data.shape[0])
    viewer.dims.set_current_step(0, z)
    settle()

    def segmented() -> str:
        return f"{len(np.unique(studio.slice_labels(z))) - 1} objects on z={z}"

    for run in ("first run: new labels", "second run: over its labels"):
        timed(meter, rows, f"Segment current slice ({run})", studio.segment_slice,
              lambda: segment.worker is None, note=segmented)
    labels = studio.slice_labels(z)
    gone, (kept, merged) = pick_objects(labels)
    timed(meter, rows, f"delete object {gone}",
          lambda: studio.press("delete", inside_point(labels, gone, z)))
    points = inside_point(labels, kept, z), inside_point(labels, merged, z)
    timed(meter, rows, f"merge object {merged} into {kept}",
          lambda: [studio.press("merge", point) for point in points])
    timed(meter, rows, "mark the slice reviewed", studio.correct.mark_slice_button.click,
          note=lambda: studio.correct.reviewed_label.text())
    edited = studio.slice_labels(z)
    checks.append(f"edits on z={z}: object {gone} gone {not (edited == gone).any()}, "
                  f"{merged} merged into {kept} {not (edited == merged).any()}")
    seconds = timed(meter, rows, f"Train, {TRAIN_BUDGET_S:g} s budget (click to the round's end)",
                    lambda: studio.start_training(TRAIN_BUDGET_S), lambda: train.worker is None,
                    note=lambda: train.status.text().split(";")[0])
    checks.append(f"training: {seconds:.1f} s from the click to the round's end for a "
                  f"{TRAIN_BUDGET_S:g} s budget ({seconds / TRAIN_BUDGET_S:.2f}x)")
    if train.reject_button.isEnabled():  # (the verdict: keep the model, unmeasured)
        train.reject_button.click()
        settle()
    project = studio.session.project
    saved = []
    timed(meter, rows, "save the project (wait for the autosave)",
          lambda: saved.append(project.flush(300)), note=lambda: f"written: {saved[0]}")
    timed(meter, rows, "close the project", studio.session.close_project)
    reviewed_before = studio.correct.reviewed_label.text()
    timed(meter, rows, "reopen the project",
          lambda: studio.session.open_project(project.path),
          note=lambda: studio.correct.reviewed_label.text())
    same = np.array_equal(studio.slice_labels(z), edited)
    checks.append(f"reopened: slice z={z} as edited {same}; {studio.correct.reviewed_label.text()}"
                  f" (before closing: {reviewed_before})")
    if whole_stack:
        timed(meter, rows, "Segment the whole stack", studio.segment_stack,
              lambda: segment.worker is None, timeout=7200)
    window = viewer.window._qt_window

    def window_gone() -> bool:
        try:
            return not window.isVisible()
        except RuntimeError:  # (its Qt object deleted: closed)
            return True

    timed(meter, rows, "close the window", viewer.close, window_gone)
    if asked:
        checks.append("closing asked: " + " / ".join(text.replace("\n", " ") for text in asked))
    meter.timer.stop()
    return rows, meter.freezes, checks


# ---- the report --------------------------------------------------------------------------
def table(rows: list[dict]) -> str:
    lines = ["| action | time | longest GUI gap | anonymous peak | VmHWM after | note |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['action']} | {row['seconds']:.1f} s | {row['max_gap_ms']:.0f} ms "
                     f"| {gib(row['peak_anon'])} | {gib(row['hwm'])} | {row['note']} |")
    return "\n".join(lines)


def short_stack(where: str, count: int = 4) -> str:
    """``file:line <- file:line ...``, innermost first."""
    frames = [line.strip() for line in where.splitlines() if line.strip().startswith("File")]
    return " <- ".join(f.split(str(ROOT) + "/")[-1].replace('", line ', ":").split(",")[0]
                       for f in reversed(frames[-count:]))  # fmt: skip


def freeze_text(freezes: list) -> str:
    """Each freeze over 1 s once, at its longest sample, with the GUI thread's stack (and
    the other threads' when the GUI thread was in Qt or waiting for the interpreter)."""
    longest: dict[tuple[str, str], float] = {}
    for action, seconds, where in freezes:
        key = (action, where.split("  [thread ")[0])  # (one entry per GUI-thread place)
        if seconds > longest.get(key, (0.0, ""))[0]:
            longest[key] = (seconds, where)
    if not longest:
        return "No freeze of the GUI thread over 1 s."
    parts = ["Freezes of the GUI thread over 1 s (the watchdog's sample of its stack):", ""]
    for (action, gui), (seconds, where) in longest.items():
        line = f"- {action}: at least {seconds:.1f} s in {short_stack(gui)}"
        others = [chunk.split("]", 1) for chunk in where.split("  [thread ")[1:]]
        busy = [f"{name}: {short_stack(stack, 2)}" for name, stack in others
                if "File" in stack]  # fmt: skip
        parts.append(line + ("; other threads: " + "; ".join(busy) if busy else ""))
    return "\n".join(parts)


def git_head() -> str:
    done = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=ROOT,
                          capture_output=True, text=True)
    head = done.stdout.strip()
    head = head if len(head) <= 80 else head[:79] + "…"
    edited = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    return f"`{head}`" + (" with uncommitted edits to tracked files" if edited else "")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", type=int, nargs=3, default=(120, 2048, 2048),
                        metavar=("Z", "Y", "X"), help="the stack's size (uint16)")
    parser.add_argument("--folder", default=None,
                        help="where the stack and the app's home go (default: a temporary "
                             "folder, deleted at the end)")
    parser.add_argument("--whole-stack", action="store_true",
                        help="also Segment the whole stack (slow on a CPU)")
    parser.add_argument("--write", action="store_true",
                        help="write the table to benchmarks/results/gui_big_stack.md")
    args = parser.parse_args(argv)
    shape = tuple(args.shape)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        folder = Path(folder)
        os.environ["UNET_STUDIO_HOME"] = str(folder / "home")
        os.environ["UNET_STUDIO_SCRATCH_DIR"] = str(folder / "scratch")
        (folder / "scratch").mkdir()
        stack = folder / "big_stack.ome.tif"
        written = write_stack(stack, shape)
        size = stack.stat().st_size
        print(f"stack {'x'.join(map(str, shape))} uint16 written in {written:.0f} s "
              f"({size / 2**20:.0f} MiB on disk)", flush=True)
        rows, freezes, checks = drive(stack, args.whole_stack)
    load_after = os.getloadavg()
    pixels = int(np.prod(shape))
    body = "\n\n".join([
        f"Stack: the `nuclei3d` sample mirror-tiled to {'x'.join(map(str, shape))} uint16 "
        f"({pixels * 2 / 2**30:.2f} GiB in memory, {size / 2**20:.0f} MiB as a tiled zlib "
        f"OME-TIFF). Code: {git_head()}. Measured {date.today().isoformat()}; load average "
        f"{load_before[0]:.1f} before and {load_after[0]:.1f} after, on {os.cpu_count()} cores "
        "shared with other work (durations pessimistic; compare within one run). Xvfb, "
        "software OpenGL; the bundled default model on the CPU.",
        f"Run as: `QT_API={os.environ.get('QT_API', 'pyside6')} xvfb-run -a -s \"-screen 0 "
        f"1600x1000x24\" .venv/bin/python benchmarks/bench_gui_big_stack.py "
        f"{' '.join(sys.argv[1:])}`.",
        "Longest GUI gap: between ticks of a 50 ms QTimer on the GUI thread, from the action "
        f"to {SETTLE_S:g} s after it. Anonymous peak: the process's `RssAnon`, sampled every "
        "50 ms during the action. VmHWM: the process's peak resident memory so far.",
        table(rows),
        "Checks: " + "; ".join(checks) + ".",
        freeze_text(freezes),
    ])
    print(body)
    if args.write:
        write_result("gui_big_stack", "The app on a big stack: GUI-thread gaps and memory",
                     body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
