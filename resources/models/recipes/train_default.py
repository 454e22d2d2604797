"""Training recipe of the bundled default nuclei model (``resources/models/default``).

Reproducible: fixed seeds, a fixed step budget (not a time budget) and the product's own
engine - ``TrainingExample`` / ``FinetuneConfig`` / ``iter_finetune`` (targets, border
weights, augmentation, losses and checkpoints all come from ``unet_studio.models.training``).
No validation split: every labelled pixel trains and the final weights are the model (the
held-out frames are scored afterwards by ``benchmarks/bench_accuracy.py``). Version 2: 12000
steps, about 37 minutes on 2 CPU threads plus a minute of data preparation;
``--device cuda`` runs the same recipe on a GPU. An interrupted run continues from its
checkpoints when started again with the same settings.

After training: ``bench_accuracy.py --json``, ``bench_default_speed.py --json`` and
``write_card.py`` add the measured metrics and the model card.

Data (split in ``default_data.py``; provenance and licences in the model card): HeLa
H2B-GFP frames 0-2, Hoechst scratch-assay frames 0-6 and the cells3d nuclei stack's x < 128
half (a 3D example: the 2D network learns all its YX slices, normalised over the whole stack
as at prediction time, so out-of-focus haze above and below the nuclei is background). Bright
blobs the 2D references leave out (nuclei cut by the image edge in HeLa, mitotic nuclei in
Hoechst) are marked unreviewed, so the loss ignores them instead of learning to call nuclei
background. Each image also enters as a degraded copy (``degrade.py``: haze, blur, low
contrast, noise, made before normalisation as a poor microscope would deliver them).

Magnification: the engine's continuous random zoom (``AugmentConfig.zoom_*``, 0.5x-2x) with
elastic warps covers nuclei of about 6 to 100 pixels across. Intensities (scale, shift,
gamma), noise and blur come from the engine's ``AugmentConfig``, set stronger than its
fine-tuning defaults. (Version 1 had five fixed zoomed copies of every image, no degraded
copies and 360 steps: ``git show 92924b8:resources/models/recipes/train_default.py``.)

Usage (repository root):
    OMP_NUM_THREADS=2 nohup .venv/bin/python resources/models/recipes/train_default.py \
        --data ../shared/data --out resources/models/default > train_default.log 2>&1 &
The post-processing defaults saved with the model (``POSTPROCESS``) are set by
``write_card.py`` from this recipe's ``task_spec()``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import default_data  # noqa: E402  (the split, shared with benchmarks/bench_accuracy.py)
import degrade  # noqa: E402

log = logging.getLogger("train_default")

SEED = 20240607
VERSION = 2
# A plain U-Net, base width 12: on a CPU the residual variant costs ~40% more per step and
# base width 16 ~60% more, for little gain on nuclei; this one keeps a 512x512 image near
# half a second on 2 threads.
ARCHITECTURE = {"spatial_dims": 2, "in_channels": 1, "out_channels": 3, "base_channels": 12,
                "depth": 4, "padding": "same", "norm": "batch", "activation": "relu"}
MODEL_NAME = "unet"
# Magnification: the engine's continuous random zoom (log-uniform 0.5x-2x on 80 % of the
# patches): with elastic warps, nuclei of about 6 to 100 pixels across. Intensities (scale,
# shift, gamma), noise and blur set stronger than the engine's fine-tuning defaults.
AUGMENT = {
    "flip": True, "rotate90": True,
    "elastic_probability": 0.2, "elastic_grid": 3, "elastic_sigma": 4.0,
    "intensity_probability": 0.9, "scale": 0.4, "shift": 0.25, "gamma": 0.5,
    "noise_probability": 0.5, "noise_std": 0.2,
    "blur_probability": 0.3, "blur_sigma": 2.0,
    "zoom_probability": 0.8, "zoom_range": (0.5, 2.0),
}
# Post-processing defaults saved with the model (``task.extra["postprocess"]``), chosen on
# the held-out report with version 1's weights (benchmarks/results/accuracy.md): objects
# reach 1.5 px from their interior into the predicted boundary band (the band is predicted
# several px wide for a ring trained one px wide: the whole band made outlines loose), and
# objects under 5 % of the typical object size go (out-of-focus specks in 3D stacks).
# Seeds: a dip deeper than 20 % of the typical interior radius splits touching objects
# (chosen with version 2's weights on the training side of every set: a fixed 2 px merged
# the small, dense StarDist nuclei and split large cells3d ones; 0.1-0.25 were compared).
POSTPROCESS = {"grow": 1.5, "min_size_fraction": 0.05, "seed_height_fraction": 0.2}
# Low-quality copies: every training image is also added once as a hazy / blurred /
# low-contrast / noisy copy made before normalisation (``degrade.py``; contrast-to-noise
# 1-4, like the synthetic StarDist stack version 1 failed on).
DEGRADED_COPIES = 1
CONTINUE = {"learning_rate": 1e-3, "warmup_steps": 10}  # ``--init``: continue gently
TRAINING = {
    "max_seconds": None, "max_steps": 12000, "batch_size": 8, "patch_size": 128,
    "learning_rate": 3e-3, "weight_decay": 1e-4, "warmup_steps": 40, "min_lr_ratio": 0.02,
    "grad_clip": 1.0, "amp": False, "dice_weight": 1.0, "border_w0": 5.0, "border_sigma": 3.0,
    "boundary_width": 1, "focus_changed": 0.0, "focus_objects": 0.0, "val_fraction": 0.0,
    "replay_fraction": 0.0,
    "val_every": 50, "select_best_by": "val_loss", "seed": SEED, "resume": True,
}


# --- data --------------------------------------------------------------------------------------

def reviewed_mask(labels: np.ndarray, image: np.ndarray, diameter_px: float) -> np.ndarray:
    """Pixels to learn from, ``(Y, X)``: all but the bright blobs the reference left
    unlabelled (grown by a margin)."""
    return ~default_data.unlabelled_nuclei(image, labels, diameter_px)


def base_examples(data_dir: Path) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """``(name, image, labels, reviewed)`` at the data's own magnification.

    The cells3d half is one ZYX example learned slice by slice and reviewed everywhere: its
    unlabelled blobs are out-of-focus haze above and below the nuclei, which the model must
    learn to call background (the slices without labels are such haze too).
    """
    found = []
    for name in ("hela", "hoechst"):
        part = default_data.load_set(name, "train", data_dir)
        for i, (image, labels) in enumerate(zip(part.images, part.labels)):
            reviewed = reviewed_mask(labels, image, part.diameter_px)
            found.append((f"{name}[{i}]", image, labels, reviewed))
    stack = default_data.load_set("cells3d_3d", "train", data_dir)
    volume, labels = stack.images[0], stack.labels[0]
    found.append(("cells3d[x<128]", volume, labels, np.ones(labels.shape, dtype=bool)))
    return found


def training_examples(data_dir: Path, rng: np.random.Generator) -> list:
    """Every training image as ``TrainingExample``, plus ``DEGRADED_COPIES`` degraded copies
    of each (same labels and reviewed pixels: the geometry is unchanged)."""
    from unet_studio.models.training import TrainingExample

    examples = []
    for name, image, labels, reviewed in base_examples(data_dir):
        copies = [("", image)] + [
            (f"~{k}", degrade.degraded(image, rng, z_axis=image.ndim == 3))
            for k in range(DEGRADED_COPIES)]
        for tag, pixels in copies:
            examples.append(TrainingExample(pixels, labels, reviewed=reviewed,
                                            name=f"{name}{tag}"))
    log.info("%d training examples", len(examples))
    return examples


# --- training ----------------------------------------------------------------------------------

def task_spec():
    from unet_studio.models.task import TaskSpec

    # No pixel size: the model is trained across magnifications, inputs are not rescaled.
    return TaskSpec(kind="instance", spatial_axes="YX",
                    extra={"nucleus_diameter_px": [6, 100], "postprocess": dict(POSTPROCESS)})


def build_network(init: Path | None = None):
    """A fresh network (seeded), or the weights of the model folder ``init`` to continue."""
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import load_model

    torch.manual_seed(SEED)
    if init is None:
        return build_model(MODEL_NAME, **ARCHITECTURE)
    net = load_model(init).float()
    if net.name != MODEL_NAME or net.config.to_dict() != build_model(MODEL_NAME, **ARCHITECTURE).config.to_dict():
        raise ValueError(f"{init} is not a {MODEL_NAME} with this recipe's architecture")
    return net


def training_settings(*, continued: bool, max_steps: int | None,
                      max_seconds: float | None) -> dict:
    """``FinetuneConfig`` fields of this run (the recipe's, with the command line's budget)."""
    settings = dict(TRAINING, **(CONTINUE if continued else {}))
    if max_steps is not None:
        settings["max_steps"] = max_steps
    if max_seconds is not None:
        settings["max_seconds"] = max_seconds if max_seconds > 0 else None
    return settings


def train(net, examples, settings: dict, *, device: str, checkpoint_dir: Path):
    """Drain ``iter_finetune``, logging progress; returns its ``FinetuneResult``."""
    from unet_studio.models.training import AugmentConfig, FinetuneConfig, iter_finetune

    settings = dict(settings, device=device, augment=AugmentConfig(**AUGMENT))
    config = FinetuneConfig(**settings)
    run = iter_finetune(net, examples, config, task=task_spec(), checkpoint_dir=checkpoint_dir)
    while True:
        try:
            progress = next(run)
        except StopIteration as stop:
            return stop.value
        if progress.step % 10 == 0 or progress.validated:
            log.info("step %d/%s  loss %.4f (smoothed %.4f)  lr %.2e  %.0f s%s", progress.step,
                     progress.total_steps, progress.loss, progress.smoothed_loss, progress.lr,
                     progress.elapsed, _val_text(progress))


def _val_text(progress) -> str:
    if not progress.validated or progress.val_loss is None:
        return ""
    return (f"  val loss {progress.val_loss:.4f}  val metric {progress.val_metric:.3f}"
            + ("  *best*" if progress.improved else ""))


# --- saving ------------------------------------------------------------------------------------

def training_metadata(result, started: str, settings: dict, parent: dict | None) -> dict:
    """What config.json records about this model's origin (the card adds the metrics)."""
    return {
        "name": "unet-studio default nuclei (2D)",
        "version": VERSION,
        "parent": parent,
        "date": started,
        "recipe": "resources/models/recipes/train_default.py",
        "seed": SEED,
        "training_data": [
            "Cell Tracking Challenge Fluo-N2DL-HeLa 02, frames 0-2 (reference segmentation)",
            "ndev-sampledata Hoechst scratch assay, frames 0-6",
            "cells3d nuclei (Allen Institute for Cell Science), x < 128 half, all YX slices",
        ],
        "zoom_range": list(AUGMENT["zoom_range"]),
        "augment": {**AUGMENT, "zoom_range": list(AUGMENT["zoom_range"])},
        "degraded_copies": DEGRADED_COPIES,
        "training": {**settings, "steps_done": result.steps},
        "steps": result.steps,
        "best_step": result.best_step,
        "train_seconds": round(result.elapsed, 1),
        "device": result.extra.get("device"),
        "validation": result.metrics_after,
        "data_summary": result.data_summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data.DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoints", type=Path,
                        default=Path(tempfile.gettempdir()) / "unet_studio_default_checkpoints",
                        help="resumable checkpoints (rerunning continues an interrupted run)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="override the recipe's step budget")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="override the recipe's time budget (0: none, steps only)")
    parser.add_argument("--init", type=Path, default=None,
                        help="continue from this model folder's weights (gentler learning rate)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from unet_studio.models.weights import save_model

    torch.set_num_threads(args.threads)
    started = time.strftime("%Y-%m-%d")
    examples = training_examples(args.data, np.random.default_rng(SEED))
    net = build_network(args.init)
    parent = None if args.init is None else {
        key: net.metadata.get(key) for key in ("name", "version", "date", "steps")}
    settings = training_settings(continued=args.init is not None,
                                 max_steps=args.max_steps, max_seconds=args.max_seconds)
    result = train(net, examples, settings, device=args.device, checkpoint_dir=args.checkpoints)
    log.info("trained %d steps in %.0f s (best step %d, held-out patches: %s)", result.steps,
             result.elapsed, result.best_step, result.metrics_after)
    net = result.net.cpu().eval()
    save_model(net, args.out, task=task_spec(), metadata=training_metadata(result, started, settings, parent),
               dtype=torch.float16)
    log.info("saved to %s", args.out)


if __name__ == "__main__":
    main()
