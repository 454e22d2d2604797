"""Intensity polarity: fine-tuning the bundled model of bright nuclei on dark objects.

``models/training/polarity.py`` flips ``TaskSpec.invert_intensity`` for a round whose
reviewed objects are clearly darker than their background when the starting model records
bright objects (``task.extra["objects"] == "bright"``, as the bundled default does). This
script measures what that buys, through the command line a user runs (``unet-studio
finetune``, then ``predict`` on held-out frames, scored as ``evaluate`` scores them), with
the rule and without it:

- ``rule on``: the bundled default model as it ships (the product's path);
- ``rule off``: a copy of it whose config records no objects polarity (no
  ``task.extra["objects"]``): what the rule does to a model trained from scratch or
  imported, which it leaves alone. Weights and everything else are the same.

Cases (``../shared/data``): phase-contrast E. coli (dark rods on a bright halo; frame 0
trains, frames 1-2 are held out; cropped around the colony so that a round takes about a
minute on 2 cores) and a fluorescence control, Hoechst nuclei (frame 7 trains, frames 8-9
held out; bright objects: the rule must not flip, and both variants must score alike).

Step count 0 is the untrained default model: ``rule on`` then means the default with the
flip the rule decides on the training frame (``decide_polarity`` on the examples the CLI
builds), i.e. where a round with the rule starts. Rounds are a number of steps, not
seconds, so that machine load does not change what is learnt; seeds draw the held-out
blocks, patches and augmentation (median and range when several).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_polarity.py \\
        --data ../shared/data --steps 0 50 150 --seeds 0 --write
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).parent))
from results_file import write_result  # noqa: E402  (a sibling script, not a package)

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "resources" / "models" / "default"
RULE_ON, RULE_OFF = "rule on (the product)", "rule off (no polarity recorded)"


@dataclass(frozen=True)
class Case:
    stem: str
    labels_suffix: str
    train: int
    held_out: tuple[int, ...]
    crop: tuple[slice, slice] | None  # (Y, X) of every frame; None: whole frames
    title: str


CASES = {
    # The crop holds every cell of the three frames (y 239-502, x 157-378) with a margin.
    "ecoli": Case("trpL_ecoli_phase_3t", "mask", 0, (1, 2), (slice(176, 560), slice(80, 464)),
                  "Phase-contrast E. coli (dark rods on a bright background), crop y 176-559, "
                  "x 80-463"),
    "hoechst": Case("ndev_scratch_hoechst_10t", "nuclei_labels", 7, (8, 9), None,
                    "Hoechst nuclei, fluorescence control (bright objects), whole 210x576 "
                    "frames"),
}


def cli(*arguments: str) -> tuple[int, str]:
    """``unet-studio ARGS`` in this process (no torch import per call); its exit code and
    what it printed (stdout and stderr together, kept off the benchmark's own output)."""
    from unet_studio.app.cli import main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
        code = main(list(arguments))
    return code, printed.getvalue()


def checked_cli(*arguments: str) -> str:
    code, printed = cli(*arguments)
    if code != 0:
        raise RuntimeError(f"unet-studio {' '.join(arguments)} exited {code}:\n{printed}")
    return printed


def write_case_files(data: Path, case: Case, folder: Path) -> dict[str, Path]:
    """The training frame (YX) and the held-out frames (TYX), image and labels, as TIFFs
    that state their axes (what a user hands the CLI)."""
    image = tifffile.imread(data / f"{case.stem}_img.tif")
    labels = tifffile.imread(data / f"{case.stem}_{case.labels_suffix}.tif").astype(np.uint16)
    crop = (slice(None),) + (case.crop or (slice(None), slice(None)))
    image, labels = image[crop], labels[crop]
    held = list(case.held_out)
    arrays = {"train_image": (image[case.train], "YX"), "train_labels": (labels[case.train], "YX"),
              "held_image": (image[held], "TYX"), "held_labels": (labels[held], "TYX")}
    paths = {}
    for name, (array, axes) in arrays.items():
        paths[name] = folder / f"{name}.tif"
        tifffile.imwrite(paths[name], np.ascontiguousarray(array), metadata={"axes": axes})
    return paths


def model_copy(folder: Path, edit_task) -> Path:
    """A copy of the default model whose config's task is ``edit_task(task_dict)``."""
    shutil.copytree(DEFAULT_MODEL, folder)
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config["task"] = edit_task(config["task"])
    config_path.write_text(json.dumps(config, indent=2))
    return folder


def without_polarity(task: dict) -> dict:
    extra = {k: v for k, v in task.get("extra", {}).items() if k != "objects"}
    return {**task, "extra": extra}


def finetune_arguments(files: dict, model: Path, steps: int, seed: int, out: Path) -> list[str]:
    return ["finetune", "--image", str(files["train_image"]), "--labels",
            str(files["train_labels"]), "--model", str(model), "--max-steps", str(steps),
            "--seed", str(seed), "--device", "cpu", "-o", str(out), "--overwrite"]


def decided_start(files: dict, folder: Path) -> tuple[Path, dict | None]:
    """The untrained default as a round with the rule would start from it: the flip
    ``decide_polarity`` makes on the examples the CLI builds from the training frame (the
    default itself when it makes none), and what it measured."""
    from unet_studio.app.cli import build_parser
    from unet_studio.app.commands.finetune import training_examples
    from unet_studio.models.training.polarity import decide_polarity
    from unet_studio.models.weights import load_model

    parser, _ = build_parser()
    args = parser.parse_args(finetune_arguments(files, DEFAULT_MODEL, 1, 0, folder / "unused"))
    net = load_model(DEFAULT_MODEL)
    examples, _ = training_examples(args, net, None)
    task, note = decide_polarity(examples, net.task, int(net.in_channels))
    if note is None:
        return DEFAULT_MODEL, None
    return model_copy(folder / "default_as_decided", lambda _: task.to_dict()), note


def score(model: Path, files: dict, folder: Path) -> dict:
    """Held-out frames predicted by ``unet-studio predict`` and scored frame by frame as
    ``unet-studio evaluate`` scores them."""
    from unet_studio.app.commands.evaluate import score_files

    prediction = folder / "prediction.tif"
    checked_cli("predict", str(files["held_image"]), "--model", str(model), "-o",
                str(prediction), "--device", "cpu", "--no-time-links", "--overwrite")
    scores = score_files(str(prediction), str(files["held_labels"]))
    return {"f1_50": scores["f1_50"], "f1_75": scores["f1_75"],
            "n_pred": int(scores.get("n_pred", -1)), "n_true": int(scores.get("n_true", -1))}


def one_round(files: dict, model: Path, steps: int, seed: int, folder: Path) -> dict:
    """Fine-tune ``model`` for ``steps`` (0: score it as it is) and score the result."""
    if steps == 0:
        flipped = json.loads((model / "config.json").read_text())["task"].get(
            "invert_intensity", False)
        return {**score(model, files, folder), "flipped": flipped, "best_step": 0,
                "wall_s": 0.0}
    out = folder / f"model_{steps}_{seed}"
    started = time.monotonic()
    checked_cli(*finetune_arguments(files, model, steps, seed, out))
    wall = time.monotonic() - started
    config = json.loads((out / "config.json").read_text())
    flipped = bool(config["task"].get("invert_intensity", False))
    result = {**score(out, files, folder), "flipped": flipped,
              "best_step": config["metadata"]["finetune"]["best_step"], "wall_s": wall}
    shutil.rmtree(out)
    return result


def run_case(name: str, case: Case, args, workdir: Path) -> dict:
    folder = workdir / name
    folder.mkdir()
    files = write_case_files(args.data, case, folder)
    rule_off = model_copy(folder / "default_without_polarity", without_polarity)
    decided, note = decided_start(files, folder)
    rows: dict = {}
    for steps in args.steps:
        for seed in args.seeds if steps else args.seeds[:1]:  # (no training: no seed)
            # (the two variants interleaved, so that machine load hits them alike)
            for rule, model in ((RULE_ON, decided if steps == 0 else DEFAULT_MODEL),
                                (RULE_OFF, rule_off)):
                run = one_round(files, model, steps, seed, folder)
                rows.setdefault((rule, steps), []).append(run)
                print(name, rule, steps, seed, {k: round(v, 3) if isinstance(v, float) else v
                                                for k, v in run.items()}, flush=True)
    return {"case": case, "rows": rows, "note": note}


def _median_range(values) -> str:
    values = list(values)
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def _case_lines(result: dict) -> list[str]:
    case, note = result["case"], result["note"]
    measured = ("the rule flips: median normalised intensity of the objects "
                f"{note['objects']:.3f}, of the background {note['background']:.3f}"
                if note else "the rule does not flip (objects not clearly darker)")
    lines = ["", f"### {case.title}", "",
             f"Frame {case.train} trains (every pixel reviewed), frames "
             f"{', '.join(map(str, case.held_out))} are held out; on the training frame "
             f"{measured}.", "",
             "| variant | steps | flipped | held-out F1@0.5 | held-out F1@0.75 | objects "
             "predicted / true | best step | wall s of the round |",
             "|---|---|---|---|---|---|---|---|"]
    for (rule, steps), runs in result["rows"].items():
        flipped = ", ".join("yes" if r["flipped"] else "no" for r in runs)
        wall = "–" if steps == 0 else f"{statistics.median(r['wall_s'] for r in runs):.0f}"
        lines.append(
            f"| {rule} | {steps} | {flipped} | {_median_range(r['f1_50'] for r in runs)} | "
            f"{_median_range(r['f1_75'] for r in runs)} | "
            f"{', '.join(str(r['n_pred']) for r in runs)} / {runs[0]['n_true']} | "
            f"{', '.join(str(r['best_step']) for r in runs)} | {wall} |")
    return lines


def report(results: list[dict], args, total_s: float) -> str:
    import torch

    seeds = ", ".join(map(str, args.seeds))
    lines = [f"Machine: {platform.machine()}, torch {torch.__version__}, "
             f"{torch.get_num_threads()} threads, CPU; load average (1 min) "
             f"{args.load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (other "
             f"jobs share the 2 cores: wall times are pessimistic); {total_s / 60:.1f} min in "
             "all.", "",
             "Each round: `unet-studio finetune` from the bundled default model (batch 4, "
             "128x128 patches, the CLI's other defaults; the saved weights are those of the "
             "best step by the held-out loss of the training frame), then `unet-studio "
             "predict` on the held-out frames, scored frame by frame as `unet-studio "
             "evaluate` scores them. *rule off*: the same model with no objects polarity in "
             f"its config, which the rule leaves alone. Seeds {seeds}"
             f"{': median (range)' if len(args.seeds) > 1 else ' (one seed)'}; step count 0 "
             "is the untrained model, with the rule's flip applied for *rule on*."]
    for result in results:
        lines += _case_lines(result)
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 50, 150],
                        help="fine-tuning steps per round (0: the untrained model)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results/polarity.md")
    args = parser.parse_args()
    if min(args.steps) < 0:
        parser.error("--steps must be 0 or more")
    args.load_start = os.getloadavg()[0]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench_polarity_") as workdir:
        # (the CLI's model library and settings live here, not in the user's home)
        os.environ["UNET_STUDIO_HOME"] = str(Path(workdir) / "home")
        results = [run_case(name, CASES[name], args, Path(workdir)) for name in args.cases]
    body = report(results, args, time.monotonic() - started)
    print(body)
    if args.write:
        write_result("polarity", "Intensity polarity: a model of bright objects fine-tuned on "
                     "dark ones", body)


if __name__ == "__main__":
    main()
