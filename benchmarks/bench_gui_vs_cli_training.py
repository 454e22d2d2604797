"""Is a Train round in the GUI slower than the same training in the CLI? (run under Xvfb)

    QT_API=pyside6 xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python benchmarks/bench_gui_vs_cli_training.py [--steps 30] [--repeats 3] \\
        [--data ../shared/data] [--write]

Both variants fine-tune the bundled default model for a fixed number of steps (no time
budget), batch and patch size as the CLI's and the Train panel's defaults, seed 0, on the
same data: a 256x256 crop of two frames of ``ctc_Fluo-N2DL-HeLa_02_5t_img.tif`` with the
matching ``..._errseg.tif`` labels, every pixel reviewed.

- ``cli``: ``unet-studio finetune --image crop --labels labels --max-steps N`` run in
  process (``app.cli.main``: loading, the engine's loop, saving), no Qt imported.
- ``gui``: a napari window with our panels (``open_studio``), the crop opened, its labels
  shown and marked reviewed, the Train panel's ``start`` (its worker thread, its progress
  slot, its save), the event loop running until the round's worker finishes.

Each variant runs in a process of its own, the variants alternating (the first of each pair
alternates too). In both, ``iter_finetune`` is wrapped to record, in the thread that trains:
each report's engine time (``elapsed``), the process's CPU time, torch's thread counts and
the thread's nice value. Step time: the median difference of ``elapsed`` between consecutive
steps (so the two held-out scorings, at step 25 and after the last step, drop out).
The GUI variant also times the panel's progress slot and the GUI thread's CPU time over the
round, and counts the engine workers started (a preview or re-prediction would be one).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STEM = "ctc_Fluo-N2DL-HeLa_02_5t"
CROP = (slice(0, 2), slice(200, 456), slice(400, 656))  # (T, Y, X): 2 x 256 x 256


def write_crop(data: Path, folder: Path) -> tuple[Path, Path]:
    """The crop, its labels and its reviewed mask (all of it) as TYX TIFFs in ``folder``
    (the files both variants read; the reviewed mask is the CLI's ``--reviewed``)."""
    import tifffile

    image = tifffile.imread(data / f"{STEM}_img.tif")[CROP]
    labels = tifffile.imread(data / f"{STEM}_errseg.tif")[CROP].astype(np.uint16)
    paths = folder / "hela_crop.tif", folder / "hela_crop_labels.tif"
    reviewed = np.ones_like(labels, dtype=np.uint8)
    for path, array in zip((*paths, reviewed_path(paths[1])), (image, labels, reviewed)):
        tifffile.imwrite(path, array, imagej=True, metadata={"axes": "TYX"})
    return paths


def reviewed_path(labels: Path) -> Path:
    return labels.with_name(labels.stem + "_reviewed.tif")


# ---- what the training thread reports (both variants) ----------------------------------------
class Probe:
    """Wraps ``models.training.iter_finetune`` (both the CLI and the Train panel import it at
    call time) and records, in the thread that trains, one row per report."""

    def __init__(self):
        self.rows: list[dict] = []
        self.thread: dict = {}
        self.scorings = 0  # held-out passes (before training, at val_every, after)

    def install(self) -> None:
        import unet_studio.models.training as training

        real = training.iter_finetune

        def iter_finetune(*args, **kwargs):
            return self._recorded(real(*args, **kwargs))

        training.iter_finetune = iter_finetune
        self._count_scorings()

    def _count_scorings(self) -> None:
        from unet_studio.models.training.session import Session

        for name in ("evaluate", "score_before"):
            real = getattr(Session, name)

            def counted(session, *args, _real=real, **kwargs):
                self.scorings += 1
                return _real(session, *args, **kwargs)

            setattr(Session, name, counted)

    def _recorded(self, inner):
        import torch

        tid = threading.get_native_id()
        self.thread = {"name": threading.current_thread().name,
                       "torch_threads": torch.get_num_threads(),
                       "interop_threads": torch.get_num_interop_threads(),
                       "nice": os.getpriority(os.PRIO_PROCESS, tid),
                       "thread_cpu_start": time.thread_time()}  # fmt: skip
        try:
            while True:
                try:
                    progress = next(inner)
                except StopIteration as stop:
                    self.thread["thread_cpu"] = time.thread_time() - self.thread["thread_cpu_start"]
                    self.thread["data"] = json.dumps(stop.value.data_summary, sort_keys=True,
                                                     default=str)
                    self.thread["scorings"] = self.scorings
                    return stop.value
                self.rows.append({"step": progress.step, "elapsed": progress.elapsed,
                                  "validated": progress.validated,
                                  "process_cpu": time.process_time(),
                                  "wall": time.perf_counter()})  # fmt: skip
                yield progress
        finally:
            inner.close()


def thread_times() -> dict[int, tuple[str, int, float]]:
    """Every thread of this process: tid -> (name, nice, CPU seconds so far), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    threads = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # (ended meanwhile)
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        # (fields from the 3rd: utime is the 14th, stime the 15th, nice the 19th)
        threads[int(task.name)] = (name, int(fields[16]), (int(fields[11]) + int(fields[12])) / tick)
    return threads


def thread_cpu_by_kind(before: dict, after: dict) -> dict[str, float]:
    """CPU seconds spent between ``before`` and ``after`` (``thread_times``), summed by
    thread name and nice value (threads spending under 0.05 s left out)."""
    spent: dict[str, float] = {}
    for tid, (name, nice, cpu) in after.items():
        key = f"{name} (nice {nice})"
        spent[key] = spent.get(key, 0.0) + cpu - before.get(tid, (name, nice, 0.0))[2]
    return {key: round(value, 2) for key, value in sorted(spent.items()) if value >= 0.05}


def loop_figures(rows: list[dict]) -> dict:
    """Median step time (engine time between consecutive steps) and the process's CPU
    seconds and wall seconds from the first step's report to the last one's."""
    steps = [r for r in rows if r["step"] >= 1]
    by_step = {}
    for row in steps:  # (a step's scoring report comes after its step report)
        by_step.setdefault(row["step"], row)
    ordered = [by_step[s] for s in sorted(by_step)]
    gaps = [b["elapsed"] - a["elapsed"] for a, b in zip(ordered, ordered[1:])
            if b["step"] == a["step"] + 1]  # fmt: skip
    first, last = ordered[0], ordered[-1]
    counted = last["step"] - first["step"]
    return {"steps": last["step"], "validations": sum(r["validated"] for r in rows),
            "median_step_s": statistics.median(gaps),
            "loop_wall_s": last["wall"] - first["wall"],
            "loop_cpu_s": last["process_cpu"] - first["process_cpu"],
            "counted_steps": counted, "gaps": [round(g, 3) for g in gaps]}  # fmt: skip


# ---- the variants (each in a process of its own) ---------------------------------------------
def run_cli(image: Path, labels: Path, steps: int, work: Path) -> dict:
    from unet_studio.app.cli import main as cli_main

    probe = Probe()
    probe.install()
    wall, cpu, threads = time.perf_counter(), time.process_time(), thread_times()
    code = cli_main(["finetune", "--image", str(image), "--labels", str(labels),
                     "--reviewed", str(reviewed_path(labels)),
                     "-o", str(work / "cli-model"), "--max-steps", str(steps), "--seed", "0",
                     "--device", "cpu"])  # fmt: skip
    assert code == 0, code
    return {"total_wall_s": time.perf_counter() - wall, "total_cpu_s": time.process_time() - cpu,
            "thread_cpu_by_kind": thread_cpu_by_kind(threads, thread_times()),
            "qt_loaded": "qtpy" in sys.modules, **probe.thread, **loop_figures(probe.rows)}


def run_gui(image: Path, labels: Path, steps: int, niceness: int | None = None) -> dict:
    """``niceness``: the engine threads' nice value instead of ``workers``' own."""
    import tifffile
    from qtpy.QtCore import QEventLoop
    from qtpy.QtWidgets import QApplication

    from unet_studio.app.launcher import open_studio
    from unet_studio.app.qt import workers
    from unet_studio.models.training import FinetuneConfig
    from unet_studio.plugins.widgets import session_for

    if niceness is not None:
        workers.BACKGROUND_NICENESS = niceness
    probe = Probe()
    probe.install()
    viewer = open_studio([image], show=True, load_sample=False)
    session = session_for(viewer)
    session.show_labels(tifffile.imread(labels).astype(np.int32))
    reviewed = session.ensure_reviewed()
    for frame in range(reviewed.shape[0]):
        reviewed.mark_slice(frame)
    session.reviewed_changed_by_user()
    train = viewer.window.dock_widgets["Train (unet-studio)"]
    _settle(1.0)

    slot = {"calls": 0, "seconds": 0.0, "longest": 0.0}
    real_slot = train._on_progress

    def timed_slot(progress) -> None:  # (the panel connects the bound attribute at start)
        start = time.perf_counter()
        real_slot(progress)
        spent = time.perf_counter() - start
        slot["calls"] += 1
        slot["seconds"] += spent
        slot["longest"] = max(slot["longest"], spent)

    train._on_progress = timed_slot
    started_workers = []
    real_start = workers.EngineWorker.start

    def counted_start(worker) -> None:
        started_workers.append(type(worker).__name__)
        real_start(worker)

    workers.EngineWorker.start = counted_start
    loop = QEventLoop()
    wall, cpu, gui_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    threads = thread_times()
    train.start(config=FinetuneConfig(max_seconds=None, max_steps=steps, seed=0, device="cpu"))
    train.worker.finished.connect(loop.quit)
    loop.exec()  # (no polling: the GUI thread does only what the event loop gives it)
    figures = {"total_wall_s": time.perf_counter() - wall, "total_cpu_s": time.process_time() - cpu,
               "gui_thread_cpu_s": time.thread_time() - gui_cpu,
               "thread_cpu_by_kind": thread_cpu_by_kind(threads, thread_times())}
    QApplication.processEvents()
    status = train.status.text()
    session.close_project()
    viewer.close()
    return {**figures, **probe.thread, **loop_figures(probe.rows),
            "slot_calls": slot["calls"], "slot_s": slot["seconds"],
            "slot_longest_ms": 1000 * slot["longest"], "engine_workers": started_workers,
            "status": status}  # fmt: skip


def _settle(seconds: float) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


VARIANTS = {"cli": "CLI", "gui": "GUI (engine threads at workers.py's nice)",
            "gui-nice10": "GUI, engine threads at nice +10 (as before this benchmark's fix)",
            "gui-nice0": "GUI, engine threads at nice 0"}


def child(args) -> None:
    os.environ["UNET_STUDIO_HOME"] = str(args.work / "home")
    load = os.getloadavg()[0]
    if args.child == "cli":
        figures = run_cli(args.image, args.labels, args.steps, args.work)
    else:
        niceness = args.child.removeprefix("gui-nice")
        figures = run_gui(args.image, args.labels, args.steps,
                          int(niceness) if niceness.isdigit() else None)
    figures.update(variant=args.child, load_before=load, load_after=os.getloadavg()[0],
                   omp_num_threads=os.environ.get("OMP_NUM_THREADS"))
    args.json.write_text(json.dumps(figures))


# ---- the parent: alternate, collect, tabulate -------------------------------------------------
def run_variant(variant: str, image: Path, labels: Path, steps: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"bench-gui-cli-{variant}-"))
    out = work / "figures.json"
    command = [sys.executable, __file__, "--child", variant, "--image", str(image),
               "--labels", str(labels), "--steps", str(steps), "--work", str(work),
               "--json", str(out)]  # fmt: skip
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    figures = json.loads(out.read_text())
    print(variant, {k: v for k, v in figures.items() if k != "status"}, flush=True)
    return figures


ROWS = [("median step s (engine)", "median_step_s", "{:.3f}"),
        ("steps/s", None, "{:.2f}"),
        ("10th-percentile step s (the least disturbed)", None, "{:.3f}"),
        ("loop wall s (first to last step)", "loop_wall_s", "{:.1f}"),
        ("process CPU s in the loop", "loop_cpu_s", "{:.1f}"),
        ("steps per process CPU s", None, "{:.3f}"),
        ("round wall s (all: load, score, train, save)", "total_wall_s", "{:.1f}"),
        ("process CPU s of the round", "total_cpu_s", "{:.1f}")]  # fmt: skip
DERIVED = {"steps/s": lambda r: 1 / r["median_step_s"],
           "10th-percentile step s (the least disturbed)":
               lambda r: statistics.quantiles(r["gaps"], n=10)[0],
           "steps per process CPU s": lambda r: r["counted_steps"] / r["loop_cpu_s"]}


def table(runs: dict[str, list[dict]]) -> str:
    """Medians over the runs of each variant, and each GUI variant's ratio to the CLI."""
    names = list(runs)
    guis = [name for name in names if name != "cli"]
    lines = ["| median of runs | " + " | ".join(n.upper() for n in names) + " | "
             + " | ".join(f"{n}/cli" for n in guis) + " |",
             "|---" * (1 + len(names) + len(guis)) + "|"]  # fmt: skip
    for label, key, form in ROWS:
        value = {name: statistics.median(DERIVED[label](r) if key is None else r[key]
                                         for r in runs[name]) for name in names}
        cells = [form.format(value[name]) for name in names]
        ratios = [f"{value[name] / value['cli']:.2f}" for name in guis]
        lines.append(f"| {label} | " + " | ".join(cells + ratios) + " |")
    return "\n".join(lines)


def seen(runs: list[dict], key: str) -> str:
    return ", ".join(str(value) for value in sorted({str(r[key]) for r in runs}))


def details(runs: dict[str, list[dict]]) -> str:
    everyone = [r for each in runs.values() for r in each]
    lines = [f"- OMP_NUM_THREADS: {seen(everyone, 'omp_num_threads')}; training data the same "
             f"in every run (the engine's data hash): {len({r['data'] for r in everyone}) == 1}."]
    for name, each in runs.items():
        line = (f"- {VARIANTS[name]}: training thread {seen(each, 'name')!r} at nice "
                f"{seen(each, 'nice')}, torch threads {seen(each, 'torch_threads')} (interop "
                f"{seen(each, 'interop_threads')}); held-out scorings {seen(each, 'scorings')}")
        if name != "cli":
            line += (f"; engine workers started {seen(each, 'engine_workers')} (no preview or "
                     f"re-prediction); GUI thread CPU over the round "
                     f"{median_of(each, 'gui_thread_cpu_s'):.2f} s, of which the progress slot "
                     f"{median_of(each, 'slot_s') * 1000:.0f} ms over "
                     f"{median_of(each, 'slot_calls'):.0f} calls (longest "
                     f"{median_of(each, 'slot_longest_ms'):.1f} ms)")
        lines.append(line + ".")
        cpu = {}
        for run in each:
            for kind, seconds in run["thread_cpu_by_kind"].items():
                cpu.setdefault(kind, []).append(seconds)
        lines.append("  CPU s by thread name (median): " + ", ".join(
            f"{kind} {statistics.median(values):.1f}" for kind, values in cpu.items()))
    order = sorted(everyone, key=lambda r: r["started"])
    lines.append("- load average (1 min) at each run's start, in run order: "
                 + ", ".join(f"{r['variant']} {r['load_before']:.1f}" for r in order))
    lines.append(f"- the GUI's verdict: {runs[next(n for n in runs if n != 'cli')][0]['status']}")
    return "\n".join(lines)


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--variants", default="cli,gui",
                        help=f"comma-separated, run in this order then reversed: {', '.join(VARIANTS)}")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/gui_vs_cli_training.md")
    for name in ("child", "image", "labels", "work", "json"):  # (a variant's own process)
        parser.add_argument(f"--{name}", type=None if name == "child" else Path,
                            help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    variants = args.variants.split(",")
    if "cli" not in variants or not set(variants) <= set(VARIANTS):
        parser.error(f"--variants: cli and any of {', '.join(VARIANTS)}")
    image, labels = write_crop(args.data, Path(tempfile.mkdtemp(prefix="bench-gui-cli-")))
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for repeat in range(args.repeats):
        for variant in variants if repeat % 2 == 0 else variants[::-1]:
            started = time.time()
            runs[variant].append({**run_variant(variant, image, labels, args.steps),
                                  "started": started})
    body = (f"{args.steps} steps (batch 4, 128x128 patches, seed 0, CPU), the bundled default "
            f"model, a 2x256x256 crop of {STEM} with its errseg labels all reviewed; "
            f"{args.repeats} runs a variant, alternating, each in its own process.\n\n"
            f"{table(runs)}\n\n{details(runs)}\n")
    print(body)
    if args.write:
        sys.path.insert(0, str(Path(__file__).parent))
        from results_file import write_result

        write_result("gui_vs_cli_training", "A Train round in the GUI against the same "
                     "training in the CLI", body)


if __name__ == "__main__":
    main()
