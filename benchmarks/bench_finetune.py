"""Fine-tuning benchmarks: training throughput, and a simulated correction loop.

1. Throughput: patches per second of ``iter_finetune`` steps (sampling, augmentation,
   forward, backward, AdamW) for the default model's architecture and the registry's default
   U-Net, 128x128 patches, batch 8; median over timed steps after a warm-up.
2. Correction loop on the Cell Tracking Challenge HeLa frames (../shared/data): "correct"
   frame 0 with its reference labels (all reviewed), fine-tune for ``--seconds``, predict
   frame 2 and score it against its reference labels (object F1 at IoU 0.5), before and
   after. The starting model is the bundled default model when it exists, else a freshly
   built network of the default model's architecture (the report says which).

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/bench_finetune.py --data ../shared/data \\
        --out benchmarks/results/finetune.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import tifffile
import torch

from unet_studio.models.inference import predict_image
from unet_studio.models.metrics import object_scores
from unet_studio.models.registry import build_model
from unet_studio.models.training import FinetuneConfig, TrainingExample, finetune, iter_finetune

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "resources" / "models" / "default"
ARCHITECTURES = {
    "unet 12x4 (the default model's)": dict(name="unet", base_channels=12, depth=4),
    "residual_unet 16x4": dict(name="residual_unet", base_channels=16, depth=4),
    "unet 32x4 (registry default)": dict(name="unet", base_channels=32, depth=4),
}
HELA = "ctc_Fluo-N2DL-HeLa_02_5t"
# The correction loop runs on frames the default model never saw in training (its recipe
# uses Hoechst frames 0-6): the user corrects frame 7 and we score frame 9.
HOECHST = "ndev_scratch_hoechst_10t"
CORRECTED, SCORED = 7, 9


def load_pair(data: Path, stem: str, labels_suffix: str) -> tuple[np.ndarray, np.ndarray]:
    image = tifffile.imread(data / f"{stem}_img.tif")
    labels = tifffile.imread(data / f"{stem}_{labels_suffix}.tif").astype(np.int32)
    return image, labels


def throughput(arch: dict, example, device: str, steps: int, batch: int = 8) -> dict:
    """Median step time -> patches/s (no validation, no checkpoints)."""
    torch.manual_seed(0)
    options = dict(arch)
    net = build_model(options.pop("name"), **options)
    warmup = 2
    config = FinetuneConfig(max_seconds=None, max_steps=warmup + steps, batch_size=batch,
                            patch_size=128, val_fraction=0.0, val_every=10**6, device=device)
    times, last = [], None
    for progress in iter_finetune(net, [example], config):
        if last is not None and progress.step > warmup:
            times.append(progress.elapsed - last)
        last = progress.elapsed
    step = statistics.median(times)
    return {"step_s": step, "patches_per_s": batch / step, "parameters": net.num_parameters()}


def starting_model():
    if (DEFAULT_MODEL / "config.json").exists():
        from unet_studio.models.weights import load_model

        return load_model(DEFAULT_MODEL), "bundled default model"
    torch.manual_seed(0)
    net = build_model("residual_unet", base_channels=16, depth=4)
    return net, "freshly built residual_unet 16x4 (no default model yet)"


def score_frame(net, image: np.ndarray, truth: np.ndarray, device: str) -> dict:
    net.eval()
    labels = predict_image(net, image, axes="YX", device=device)
    return object_scores(labels, truth)


def correction_loop(image, labels, seconds: float, device: str) -> dict:
    net, origin = starting_model()
    before = score_frame(net, image[SCORED], labels[SCORED], device)
    example = TrainingExample(image[CORRECTED], labels[CORRECTED],
                              name=f"Hoechst frame {CORRECTED}")
    config = FinetuneConfig(max_seconds=seconds, device=device)
    start = time.monotonic()
    result = finetune(net, [example], config)
    wall = time.monotonic() - start
    after = score_frame(result.net, image[SCORED], labels[SCORED], device)
    return {"origin": origin, "budget_s": seconds, "before": before, "after": after,
            "steps": result.steps,
            "wall_s": wall, "held_out_before": result.metrics_before,
            "held_out_after": result.metrics_after, "best_step": result.best_step}


def _loop_lines(loops: list[dict]) -> list[str]:
    lines = ["", "## Simulated correction loop (Hoechst scratch assay, reference labels)", "",
             f"Start: {loops[0]['origin']}. Corrected: frame {CORRECTED} (210x576, all "
             f"reviewed). Scored: frame {SCORED} (its reference labels), predicted with the "
             "inference engine. Neither frame was used to train the default model.", "",
             "| budget | steps | F1@0.5 before → after | F1@0.75 before → after "
             "| AP@0.5 before → after | mean matched IoU after | objects after (pred/true) |",
             "|---|---|---|---|---|---|---|"]
    for loop in loops:
        b, a = loop["before"], loop["after"]
        lines.append(f"| {loop['budget_s']:.0f} s | {loop['steps']} | "
                     f"{b['f1_50']:.3f} → {a['f1_50']:.3f} | {b['f1_75']:.3f} → {a['f1_75']:.3f} | "
                     f"{b['ap_50']:.3f} → {a['ap_50']:.3f} | {a['mean_matched_iou']:.3f} | "
                     f"{a['n_pred']}/{a['n_true']} |")
    return lines


def write_report(path: Path, command: str, rates: dict, loops: list[dict], device: str) -> None:
    lines = ["# Fine-tuning benchmarks", "", f"Command: `{command}`", "",
             f"Machine: {platform.processor() or platform.machine()}, "
             f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}; "
             f"load average at the end {os.getloadavg()[0]:.1f} (other jobs share the CPU).", "",
             "## Training throughput (128x128 patches, batch 8, augmentation on)", "",
             "| network | parameters | median step | patches/s |", "|---|---|---|---|"]
    for name, r in rates.items():
        lines.append(f"| {name} | {r['parameters']:,} | {r['step_s']:.3f} s | "
                     f"{r['patches_per_s']:.2f} |")
    if loops:
        lines += _loop_lines(loops)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per network")
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0],
                        help="fine-tuning budget(s); one correction loop per value")
    parser.add_argument("--skip-loop", action="store_true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    image, labels = load_pair(args.data, HELA, "errseg")
    crop = TrainingExample(image[0, :384, :384], labels[0, :384, :384])
    rates = {}
    for name, arch in ARCHITECTURES.items():
        rates[name] = throughput(arch, crop, args.device, args.steps)
        print(name, {k: round(v, 3) for k, v in rates[name].items()}, flush=True)
    loops = []
    for seconds in [] if args.skip_loop else args.seconds:
        loops.append(correction_loop(*load_pair(args.data, HOECHST, "nuclei_labels"), seconds,
                                     args.device))
        print({k: loops[-1][k] for k in ("origin", "steps", "wall_s")},
              "F1@0.5 before", round(loops[-1]["before"]["f1_50"], 3),
              "after", round(loops[-1]["after"]["f1_50"], 3), flush=True)
    if args.out:
        import sys

        arguments = " ".join(["benchmarks/bench_finetune.py", *sys.argv[1:]])
        command = f"OMP_NUM_THREADS={torch.get_num_threads()} .venv/bin/python {arguments}"
        write_report(args.out, command, rates, loops, args.device)


if __name__ == "__main__":
    main()
