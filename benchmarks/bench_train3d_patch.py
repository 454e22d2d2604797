"""3D training on a CPU: which patch and batch make a short round learn something?

The case the Train panel's QA hit: a new 3D network (``unet``, base 8, depth 3) trained from
scratch on a 24x128x128 crop of the cells3d nuclei stack (z 22-45, y 0-127, x 128-255; the
reference labels, fully reviewed). Two parts, both through the real ``iter_finetune`` loop:

1. *Step time* (``steps``): one optimiser step (sampling, augmentation, forward, backward,
   AdamW) for patch (z, y, x) in full crop / 32x64x64 / 24x96x96 / 16x64x64 and batch 4, 2,
   1 (and, for reference, the same network in 2D on 128x128 x 4, the crop slice by slice);
   no held-out data, a fixed number of steps. The first step (it warms up) is reported
   apart; the others by their median, by the wall clock and by the CPU time the process got
   (the machine is shared: the load is written down).
2. *What a time budget buys* (``budget``): rounds of ``--seconds`` (the whole round, as the
   panel runs it: held-out scoring before and after, validations) for a few settings, the
   same seed, interleaved so that load hits them alike; after each, Dice (foreground) and
   object F1@0.5 on two blocks of the same slices never trained on (y 128-255, x 0-255).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_train3d_patch.py --write

``--parts steps`` (or ``budget``) reruns one part; with ``--write`` the other part's table is
kept from the earlier file.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from unet_studio.models.inference import predict_image
from unet_studio.models.metrics import object_scores_many
from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune, iter_finetune

sys.path.insert(0, str(Path(__file__).parent))
from results_file import RESULTS, write_result  # noqa: E402  (a sibling script, not a package)

ROOT = Path(__file__).resolve().parents[1]
TOPIC = "train3d_patch"
NETWORK = dict(spatial_dims=3, base_channels=8, depth=3)
SLICES = slice(22, 46)
TRAIN_BLOCK = (SLICES, slice(0, 128), slice(128, 256))
TEST_BLOCKS = ((SLICES, slice(128, 256), slice(0, 128)), (SLICES, slice(128, 256), slice(128, 256)))
# Patch sizes asked for (clipped to the 24-slice crop by the loop, as in the panel).
PATCHES = {"full crop (128)": 128, "32x64x64": (32, 64, 64), "24x96x96": (24, 96, 96),
           "16x64x64": (16, 64, 64)}
BATCHES = (4, 2, 1)
REFERENCE_2D = "2D network, 128x128 (reference)"
# Settings of the budget part: "patch name:batch"; the first is the engine default before.
BUDGET_SETTINGS = ("full crop (128):4", "32x64x64:2", "24x96x96:2", "16x64x64:2")
STEPS_HEADING = "### Step time"
BUDGET_HEADING = "### What a time budget buys"


def load_stack(data: Path) -> tuple[np.ndarray, np.ndarray]:
    image = tifffile.imread(data / "cells3d_nuclei3d_img.tif")
    labels = tifffile.imread(data / "cells3d_nuclei3d_labels.tif").astype(np.int32)
    return image, labels


def new_network(spatial_dims: int = 3):
    torch.manual_seed(0)
    return build_model("unet", **{**NETWORK, "spatial_dims": spatial_dims})


def step_times(example, patch, batch: int, steps: int, spatial_dims: int = 3) -> dict:
    """One run of 1 + ``steps`` steps: the first step, then the median of the others
    (``spatial_dims`` 2: the same network in 2D, learning the crop slice by slice)."""
    config = FinetuneConfig(max_seconds=None, max_steps=1 + steps, batch_size=batch,
                            patch_size=patch, val_fraction=0.0, val_every=10**6, device="cpu")
    generator = iter_finetune(new_network(spatial_dims), [example], config)
    wall, cpu = [], []
    for _ in range(1 + steps):
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        next(generator)
        wall.append(time.perf_counter() - start_wall)
        cpu.append(time.process_time() - start_cpu)
    while True:  # (the end of the round: its result says which patch it used)
        try:
            next(generator)
        except StopIteration as stop:
            shape = stop.value.extra["patch_shape"]
            break
    return {"shape": shape, "first_s": wall[0], "step_s": statistics.median(wall[1:]),
            "step_cpu_s": statistics.median(cpu[1:])}


def steps_part(example, steps: int, repeats: int) -> list[dict]:
    cases = [(REFERENCE_2D, 128, 4, 2)] + [(name, patch, batch, 3) for name, patch in
                                           PATCHES.items() for batch in BATCHES]
    rows = []
    for name, patch, batch, dims in cases:
        runs = [step_times(example, patch, batch, steps, dims) for _ in range(repeats)]
        row = {"patch": name, "batch": batch, "shape": runs[0]["shape"], "runs": repeats,
               **{k: statistics.median(r[k] for r in runs)
                  for k in ("first_s", "step_s", "step_cpu_s")}}
        row["voxels"] = int(np.prod(row["shape"])) * batch
        rows.append(row)
        print(row, flush=True)
    return rows


def steps_lines(rows: list[dict], steps: int) -> list[str]:
    lines = [STEPS_HEADING, "",
             f"Each run: 1 + {steps} steps; *first step* is the first (warm-up included, "
             "the one a round always takes), *step* the median of the others; median over "
             f"{rows[0]['runs']} runs. *CPU s* is the CPU time the process got (both threads), "
             "which the load disturbs far less than the wall clock. *Voxels* per step = patch "
             "x batch (a 2D round's default: 128x128 x 4 = 65,536).", "",
             "| patch asked | patch used | batch | voxels per step | first step (wall) "
             "| step (wall) | step (CPU s) | voxels per CPU-second |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        shape = "x".join(map(str, r["shape"]))
        lines.append(f"| {r['patch']} | {shape} | {r['batch']} | {r['voxels']:,} | "
                     f"{r['first_s']:.1f} s | {r['step_s']:.2f} s | {r['step_cpu_s']:.2f} | "
                     f"{r['voxels'] / r['step_cpu_s']:,.0f} |")
    return lines


def held_out_scores(net, image, labels) -> dict:
    """Dice of the foreground and object F1@0.5 over the test blocks (never trained on)."""
    net.eval()
    pairs = [(predict_image(net, image[b], axes="ZYX", device="cpu"), labels[b])
             for b in TEST_BLOCKS]
    overlap = sum(np.count_nonzero((p > 0) & (t > 0)) for p, t in pairs)
    total = sum(np.count_nonzero(p > 0) + np.count_nonzero(t > 0) for p, t in pairs)
    return {"dice": float(2 * overlap / total) if total else 1.0,
            "f1_50": object_scores_many(pairs)["f1_50"]}


def budget_round(example, image, labels, setting: str, seconds: float) -> dict:
    name, batch = setting.rsplit(":", 1)
    config = FinetuneConfig(max_seconds=seconds, batch_size=int(batch),
                            patch_size=PATCHES[name], device="cpu", seed=0)
    start_wall, start_cpu = time.monotonic(), time.process_time()
    result = finetune(new_network(), [example], config)
    cpu = time.process_time() - start_cpu
    wall = time.monotonic() - start_wall
    return {"steps": result.steps, "elapsed": result.elapsed, "wall": wall, "cpu": cpu,
            "stopped": result.stopped, **held_out_scores(result.net, image, labels)}


def budget_part(example, image, labels, settings, seconds: float, repeats: int) -> dict:
    rows: dict = {}
    for run in range(repeats):  # (interleaved: a load spike hits every setting alike)
        for setting in settings:
            row = budget_round(example, image, labels, setting, seconds)
            rows.setdefault(setting, []).append(row)
            print(setting, run, {k: v if isinstance(v, str) else round(v, 3)
                                 for k, v in row.items()}, flush=True)
    return rows


def _median(runs, key, spec) -> str:
    values = [r[key] for r in runs]
    text = format(statistics.median(values), spec)
    return f"{text} ({', '.join(format(v, spec) for v in values)})"


def budget_lines(rows: dict, seconds: float, untrained: dict) -> list[str]:
    runs = len(next(iter(rows.values())))
    lines = [BUDGET_HEADING, "",
             f"Rounds of {seconds:.0f} s (wall clock, the whole round as the Train panel runs "
             "it, val_fraction 0.15, seed 0), from scratch; median (each run) of "
             f"{runs} runs. Scored on y 128-255 of the same slices, never trained on; the "
             f"untrained network scores Dice {untrained['dice']:.3f}, F1@0.5 "
             f"{untrained['f1_50']:.3f} (it calls every voxel foreground: a Dice at that "
             "value means the same).", "",
             "| patch:batch | steps | round took (wall s) | CPU s | test Dice | test F1@0.5 |",
             "|---|---|---|---|---|---|"]
    for setting, runs in rows.items():
        lines.append(f"| {setting} | {_median(runs, 'steps', '.0f')} | "
                     f"{_median(runs, 'elapsed', '.0f')} | {_median(runs, 'cpu', '.0f')} | "
                     f"{_median(runs, 'dice', '.3f')} | {_median(runs, 'f1_50', '.3f')} |")
    return lines


def kept_section(heading: str) -> list[str]:
    """The section under ``heading`` of the earlier results file (a part not rerun)."""
    path = RESULTS / f"{TOPIC}.md"
    text = path.read_text("utf-8") if path.exists() else ""
    if heading not in text:
        return []
    section = text[text.index(heading):].split("\n### ")[0].rstrip()
    return [*section.splitlines(), "", "(Kept from the earlier run: not rerun this time.)"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--parts", nargs="+", choices=("steps", "budget"),
                        default=["steps", "budget"])
    parser.add_argument("--steps", type=int, default=3, help="timed steps per run (part 1)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per setting")
    parser.add_argument("--seconds", type=float, default=120.0, help="round budget (part 2)")
    parser.add_argument("--settings", nargs="+", default=list(BUDGET_SETTINGS),
                        help="part 2's settings, 'patch name:batch'")
    parser.add_argument("--write", action="store_true", help=f"write results/{TOPIC}.md")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    image, labels = load_stack(args.data)
    example = TrainingExample(image[TRAIN_BLOCK], labels[TRAIN_BLOCK], name="nuclei3d crop")
    sections = []
    if "steps" in args.parts:
        sections.append(steps_lines(steps_part(example, args.steps, args.repeats), args.steps))
    else:
        sections.append(kept_section(STEPS_HEADING))
    if "budget" in args.parts:
        untrained = held_out_scores(new_network(), image, labels)
        rows = budget_part(example, image, labels, args.settings, args.seconds, args.repeats)
        sections.append(budget_lines(rows, args.seconds, untrained))
    else:
        sections.append(kept_section(BUDGET_HEADING))
    machine = (f"Machine: {platform.machine()}, torch {torch.__version__}, "
               f"{torch.get_num_threads()} threads, CPU, shared: load average (1 min) "
               f"{load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.")
    body = "\n".join([machine, "", *(line for s in sections for line in [*s, ""])])
    print(body)
    if args.write:
        write_result(TOPIC, "3D training on a CPU: patch and batch", body)


if __name__ == "__main__":
    main()
