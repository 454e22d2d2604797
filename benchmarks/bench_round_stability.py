"""How stable is a short fine-tuning round? The same corrections, several seeds.

The walkthrough case: the bundled nuclei3d sample (cells3d, ZYX 60x256x256) and the default
2D model; the "corrections" are the reference labels of the GUI test crop (z 24-35,
y 64-159, x 96-191: ``tests/data/make_gui_data.py``), fully reviewed, learned slice by
slice. Each round is a fixed number of steps (``--steps``), not seconds, so that machine
load does not change what is learnt; the seed draws the held-out blocks, the patches and
the augmentation. Reported per variant: the held-out F1@0.5 before and after (what the
Train panel's verdict rests on), F1@0.5 on a test region never trained on (slices of the
same stack outside the crop: the real goal), and the largest training loss of the round.

Variants, run interleaved so that load hits them alike: the engine's defaults and the
settings under test (``VARIANTS``).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_round_stability.py \\
        --data ../shared/data --steps 150 --seeds 0 1 2 3 4 --write
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import tifffile
import torch

from unet_studio.app.training_data import context_margins
from unet_studio.models.inference import predict_image
from unet_studio.models.metrics import object_scores_many
from unet_studio.models.task import TaskSpec
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune
from unet_studio.models.training.examples import example_from_box, reviewed_box
from unet_studio.models.weights import load_model, read_config

sys.path.insert(0, str(Path(__file__).parent))
from results_file import write_result  # noqa: E402  (a sibling script, not a package)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "resources" / "models" / "default"
CROP = (slice(24, 36), slice(64, 160), slice(96, 192))  # the corrected region
# Test regions: the same slices beside the crop (other nuclei), scored slice by slice.
TEST_SLICES = (26, 30, 34)
TEST_REGIONS = ((slice(0, 256), slice(0, 88)), (slice(168, 256), slice(96, 256)))

VARIANTS = {
    "default (auto)": {},
    "BN statistics updated": {"norm_statistics": "update"},
    "BN statistics frozen": {"norm_statistics": "freeze"},
    "BN frozen, lr 2e-4": {"norm_statistics": "freeze", "learning_rate": 2e-4},
    # The best step by the held-out score (ties: F1 at IoU 0.75, then the loss), as the
    # Train verdict ranks rounds, rather than by the held-out loss (the default).
    "best step by score": {"select_best_by": "val_metric"},
}


def test_pairs(image, labels):
    """(image, reference) 2D crops of the test region."""
    return [(image[z][region], labels[z][region]) for z in TEST_SLICES for region in TEST_REGIONS]


def test_f1(net, pairs) -> float:
    net.eval()
    predicted = ((predict_image(net, img, axes="YX", device="cpu"), ref) for img, ref in pairs)
    return object_scores_many(predicted)["f1_50"]


def app_example(image, labels) -> TrainingExample:
    """The example the Train panel builds when the crop is reviewed: the reviewed box plus
    the panel's context margin, normalised with the whole stack's percentiles."""
    reviewed = np.zeros(labels.shape, bool)
    reviewed[CROP] = True
    box = reviewed_box(reviewed, context_margins(labels.ndim, 2))
    task = TaskSpec.from_dict(read_config(DEFAULT_MODEL)["task"])
    lower, upper = task.lower_percentile, task.upper_percentile
    return example_from_box(image, box, labels[box], reviewed[box], name="nuclei3d crop",
                            lower=lower, upper=upper)


def one_round(image, labels, pairs, steps: int, seed: int, settings: dict) -> dict:
    net = load_model(DEFAULT_MODEL)
    example = app_example(image, labels)
    config = replace(FinetuneConfig(max_seconds=None, max_steps=steps, device="cpu", seed=seed),
                     **settings)
    started = time.monotonic()
    result = finetune(net, [example], config)
    losses = [h["loss"] for h in result.history if h.get("loss") == h.get("loss")]
    return {"held_before": result.metrics_before.get("val_metric", float("nan")),
            "held_after": result.metrics_after.get("val_metric", float("nan")),
            "held_objects": result.metrics_before.get("n_true", 0),
            "test": test_f1(result.net, pairs), "max_loss": max(losses),
            "best_step": result.best_step, "wall_s": time.monotonic() - started}


def _median_range(values) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def report(rows: dict, args, before_test: float) -> str:
    lines = [f"Machine: {platform.machine()}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads, CPU; load average (1 min) "
             f"{args.load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.", "",
             f"Start: the bundled default model; corrections: the reference labels of the "
             f"nuclei3d crop z 24-35, y 64-159, x 96-191, fully reviewed; {args.steps} steps "
             f"per round (batch 4, the Train panel's other defaults); seeds "
             f"{', '.join(map(str, args.seeds))}: median (range). Test region: slices "
             f"{', '.join(map(str, TEST_SLICES))} beside the crop, never trained on; "
             f"before fine-tuning its F1@0.5 is {before_test:.3f}.", "",
             "| variant | held-out F1@0.5 before | held-out F1@0.5 after | test F1@0.5 after "
             "| test F1 per seed | largest training loss | best step | held-out objects "
             "| wall s per round |", "|---|---|---|---|---|---|---|---|---|"]
    for name, runs in rows.items():
        lines.append(
            f"| {name} | {_median_range([r['held_before'] for r in runs])} | "
            f"{_median_range([r['held_after'] for r in runs])} | "
            f"{_median_range([r['test'] for r in runs])} | "
            f"{', '.join(format(r['test'], '.3f') for r in runs)} | "
            f"{_median_range([r['max_loss'] for r in runs])} | "
            f"{', '.join(str(r['best_step']) for r in runs)} | "
            f"{', '.join(str(r['held_objects']) for r in runs)} | "
            f"{statistics.median(r['wall_s'] for r in runs):.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--variants", nargs="+", choices=sorted(VARIANTS), default=list(VARIANTS))
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/round_stability.md")
    args = parser.parse_args()
    args.load_start = os.getloadavg()[0]
    image = tifffile.imread(args.data / "cells3d_nuclei3d_img.tif")
    labels = tifffile.imread(args.data / "cells3d_nuclei3d_labels.tif").astype(np.int32)
    pairs = test_pairs(image, labels)
    before_test = test_f1(load_model(DEFAULT_MODEL), pairs)
    print("test F1 before", round(before_test, 3), flush=True)
    rows: dict = {}
    for seed in args.seeds:
        for name in args.variants:
            run = one_round(image, labels, pairs, args.steps, seed, VARIANTS[name])
            rows.setdefault(name, []).append(run)
            print(name, seed, {k: round(v, 3) for k, v in run.items()}, flush=True)
    body = report(rows, args, before_test)
    print(body)
    if args.write:
        write_result("round_stability", "Short rounds: stability over seeds", body)


if __name__ == "__main__":
    main()
