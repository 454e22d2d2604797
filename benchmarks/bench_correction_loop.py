"""Simulated correction loop: correct one frame, fine-tune, score an unseen frame.

What a user does with the Train panel, with reference labels standing in for the user's
corrections: start from the bundled default model, "correct" one frame completely (every
pixel reviewed), fine-tune on it, predict a later frame of the same movie and score it
against its reference labels, before and after.

Cases (``../shared/data``):

- ``hoechst``: Hoechst nuclei (scratch assay), corrected frame 7, scored frame 9; neither
  was used to train the default model.
- ``ecoli``: phase-contrast E. coli microcolony, corrected frame 0, scored frame 2: a
  modality the nuclei model never saw (dark rods on a bright halo), with sparse objects
  (8 cells in a 727x1026 field on frame 0).

Variants, run interleaved in one process so that machine load hits them alike:

- ``now``: the training engine as it is;
- ``at REV`` (``--baseline-rev REV``): the held-out split of ``models/training/harvest.py``
  as it was at git revision REV, and no object over-sampling (``focus_objects=0``);
- ``now, NAME=VALUE`` (``--setting NAME=VALUE``, repeatable): the engine as it is with one
  ``FinetuneConfig`` setting changed, e.g. ``--setting norm_statistics=freeze``.

Training length is a number of steps (``--steps``), not seconds, so that the variants do the
same work whatever else runs; the report gives the wall time too. Several seeds
(``--seeds``): the seed draws the held-out blocks and the patches; median and range.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_correction_loop.py \\
        --data ../shared/data --steps 700 --seeds 0 1 2 --baseline-rev HEAD~1 \\
        --out benchmarks/results/correction_loop.md

``--rounds 2`` adds a second round per run: the next frame is corrected too and the
round-1 model is fine-tuned again on both frames (``Case.corrected_next``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile
import torch

from unet_studio.models.inference import predict_image
from unet_studio.models.metrics import object_scores
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune
from unet_studio.models.weights import load_model

sys.path.insert(0, str(Path(__file__).parent))
from bench_finetune import modules_at  # noqa: E402  (a sibling script, not a package)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "resources" / "models" / "default"


@dataclass(frozen=True)
class Case:
    stem: str
    labels_suffix: str
    corrected: int
    scored: int
    title: str
    corrected_next: int  # the frame a second round corrects as well


CASES = {
    "hoechst": Case("ndev_scratch_hoechst_10t", "nuclei_labels", 7, 9,
                    "Hoechst nuclei, scratch assay (frames unseen in training)", 8),
    "ecoli": Case("trpL_ecoli_phase_3t", "mask", 0, 2,
                  "phase-contrast E. coli microcolony (a modality the default model never saw)", 1),
}


def load_case(data: Path, case: Case) -> tuple[np.ndarray, np.ndarray]:
    image = tifffile.imread(data / f"{case.stem}_img.tif")
    labels = tifffile.imread(data / f"{case.stem}_{case.labels_suffix}.tif").astype(np.int32)
    return image, labels


@contextlib.contextmanager
def harvest_from(module):
    """Fine-tuning harvests with ``module.harvest`` inside the block (None: as it is)."""
    from unet_studio.models.training import session

    if module is None:
        yield
        return
    original = session.harvest
    session.harvest = module.harvest
    try:
        yield
    finally:
        session.harvest = original


def score(net, image: np.ndarray, truth: np.ndarray) -> dict:
    net.eval()
    return object_scores(predict_image(net, image, axes="YX", device="cpu"), truth)


def run_loop(image, labels, case: Case, steps: int, seed: int, baseline, rounds: int = 1,
             settings: dict | None = None) -> dict:
    """One loop: fine-tune a fresh copy of the default model on the corrected frame; with
    ``rounds`` 2, then fine-tune that model again on the corrected frame and the next one
    (as the Train panel does after a second frame of the movie is corrected: both frames are
    reviewed data of the image)."""
    net = load_model(DEFAULT_MODEL)
    example = TrainingExample(image[case.corrected], labels[case.corrected],
                              name=f"frame {case.corrected}")
    config = FinetuneConfig(max_seconds=None, max_steps=steps, device="cpu", seed=seed,
                            **({} if baseline is None else {"focus_objects": 0.0}),
                            **(settings or {}))
    start = time.monotonic()
    with harvest_from(baseline):
        result = finetune(net, [example], config)
    wall = time.monotonic() - start
    # Reference objects (whole or cut) inside the held-out blocks: what validation took.
    run = {"after": score(result.net, image[case.scored], labels[case.scored]), "wall_s": wall,
           "val_objects": result.metrics_before.get("n_true", 0)}
    if rounds > 1:
        frames = [case.corrected, case.corrected_next]
        both = TrainingExample(image[frames], labels[frames], name="movie")
        with harvest_from(baseline):
            second = finetune(result.net, [both], config)
        run["second"] = score(second.net, image[case.scored], labels[case.scored])
    return run


def _setting(text: str):
    """A ``--setting`` value: JSON (numbers, true, lists), else the word itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _median_range(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def report_lines(case_rows: dict, args, variants: list[str]) -> list[str]:
    lines = ["# Simulated correction loop (fine-tuning on one corrected frame)", "",
             f"Command: `OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python "
             f"{' '.join(['benchmarks/bench_correction_loop.py', *sys.argv[1:]])}`", "",
             f"Machine: {platform.machine()}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads, CPU; load average (1 min) "
             f"{args.load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.", "",
             f"Start: the bundled default model. The corrected frame is fully reviewed; "
             f"{args.steps} fine-tuning steps (batch 4, 128x128 patches, the Train panel's "
             f"other defaults); seeds {', '.join(map(str, args.seeds))}: median (range).", ""]
    for name, rows in case_rows.items():
        case = CASES[name]
        before = rows["before"]
        lines += [f"## {case.title}", "",
                  f"Corrected frame {case.corrected}, scored frame {case.scored} "
                  f"({before['n_true']} reference objects). Before fine-tuning: F1@0.5 "
                  f"{before['f1_50']:.3f}, F1@0.75 {before['f1_75']:.3f}, "
                  f"{before['n_pred']} objects.", "",
                  "| training engine | F1@0.5 after | F1@0.75 after | objects after "
                  "| held-out reference objects | wall s per run |", "|---|---|---|---|---|---|"]
        for variant in variants:
            runs = rows[variant]
            lines.append(
                f"| {variant} | {_median_range([r['after']['f1_50'] for r in runs])} | "
                f"{_median_range([r['after']['f1_75'] for r in runs])} | "
                f"{', '.join(str(r['after']['n_pred']) for r in runs)} | "
                f"{', '.join(str(r['val_objects']) for r in runs)} | "
                f"{statistics.median(r['wall_s'] for r in runs):.0f} |")
        lines.append("")
        lines += _second_round_lines(case, rows, variants)
    return lines


def _second_round_lines(case: Case, rows: dict, variants: list[str]) -> list[str]:
    """The table of second rounds (frame ``corrected_next`` corrected too), if any ran."""
    with_second = [v for v in variants if all("second" in r for r in rows[v])]
    if not with_second:
        return []
    lines = [f"Second round: the round-1 model fine-tuned again, same steps, on frames "
             f"{case.corrected} and {case.corrected_next} together; frame {case.scored} scored.",
             "", "| training engine | F1@0.5 round 1 → round 2 | F1@0.75 round 1 → round 2 "
             "| objects after round 2 |", "|---|---|---|---|"]
    for variant in with_second:
        runs = rows[variant]
        lines.append(
            f"| {variant} | {_median_range([r['after']['f1_50'] for r in runs])} → "
            f"{_median_range([r['second']['f1_50'] for r in runs])} | "
            f"{_median_range([r['after']['f1_75'] for r in runs])} → "
            f"{_median_range([r['second']['f1_75'] for r in runs])} | "
            f"{', '.join(str(r['second']['n_pred']) for r in runs)} |")
    return [*lines, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES))
    parser.add_argument("--steps", type=int, default=700)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--baseline-rev", default=None,
                        help="git revision whose held-out split to compare with")
    parser.add_argument("--rounds", type=int, choices=(1, 2), default=1,
                        help="2: a second round with the next frame corrected as well")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="add a variant: the engine as it is with this FinetuneConfig "
                             "setting changed (JSON or a word, e.g. norm_statistics=freeze)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    args.load_start = os.getloadavg()[0]
    # harvest.py as it was at that revision (bench_finetune loads it for its own baseline)
    baseline = modules_at(args.baseline_rev)[0] if args.baseline_rev else None
    engines = {"now": None, **({f"at {args.baseline_rev}": baseline} if baseline else {})}
    settings = {name: {} for name in engines}
    for text in args.setting:
        key, _, value = text.partition("=")
        engines[f"now, {text}"], settings[f"now, {text}"] = None, {key: _setting(value)}
    case_rows = {}
    for name in args.cases:
        case = CASES[name]
        image, labels = load_case(args.data, case)
        rows = {"before": score(load_model(DEFAULT_MODEL), image[case.scored],
                                labels[case.scored])}
        for seed in args.seeds:
            for variant, module in engines.items():
                run = run_loop(image, labels, case, args.steps, seed, module, args.rounds,
                               settings[variant])
                rows.setdefault(variant, []).append(run)
                print(name, variant, seed, round(run["after"]["f1_50"], 3),
                      round(run["after"]["f1_75"], 3), run["after"]["n_pred"],
                      f"{run['wall_s']:.0f} s",
                      *(["round 2:", round(run["second"]["f1_50"], 3), run["second"]["n_pred"]]
                        if "second" in run else []), flush=True)
        case_rows[name] = rows
    lines = report_lines(case_rows, args, list(engines))
    print("\n".join(lines))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(lines))


if __name__ == "__main__":
    main()
