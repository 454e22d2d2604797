"""Experiment: does a 3D nuclei model beat the 2D default run slice by slice on 3D stacks?

Issue 7 asks for a 3D default only if it does. The only labelled 3D training data is the
cells3d volume's x < 128 half (about ten nuclei; the split is ``default_data.py``'s), so this
trains a small 3D U-Net on it (plus one degraded copy, as the 2D recipe does) with the
product's engine and 3D patches, then scores both models in one run on the held-out 3D data:
the cells3d x >= 128 half and the synthetic StarDist stack, with each model's product path
(``predict_image``; the 2D model slice by slice with one 3D watershed). Nothing ships from
here unless the 3D model wins; the figures go to ``benchmarks/results/accuracy.md``.

Usage (repository root):
    OMP_NUM_THREADS=2 .venv/bin/python resources/models/recipes/train_3d_experiment.py \\
        --data ../shared/data --out /tmp/model_3d
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))
import default_data  # noqa: E402
import degrade  # noqa: E402
import train_default  # noqa: E402

log = logging.getLogger("train_3d_experiment")

ARCHITECTURE = {"spatial_dims": 3, "in_channels": 1, "out_channels": 3, "base_channels": 8,
                "depth": 3, "padding": "same", "norm": "batch", "activation": "relu"}
# Nuclei of the cells3d stack are ~48 px across and about as tall in slices (near-isotropic
# voxels): a patch must hold one with some context.
TRAINING = dict(train_default.TRAINING, max_steps=2500, batch_size=2,
                patch_size=(48, 96, 96), warmup_steps=30)
AUGMENT = dict(train_default.AUGMENT, zoom_range=(0.5, 1.5))


def training_examples(data_dir: Path, rng: np.random.Generator) -> list:
    from unet_studio.models.training import TrainingExample

    part = default_data.load_set("cells3d_3d", "train", data_dir)
    volume, labels = part.images[0], part.labels[0]
    copies = [volume, degrade.degraded(volume, rng, z_axis=True)]
    return [TrainingExample(pixels, labels, name=f"cells3d[x<128]~{k}")
            for k, pixels in enumerate(copies)]


def score(net, name: str, data_dir: Path) -> dict:
    from bench_accuracy import pooled_scores

    from unet_studio.models.inference import predict_image

    part = default_data.load_set(name, "test", data_dir)
    pairs = []
    for image, labels in zip(part.images, part.labels):
        scale = dict(zip("ZYX", part.sampling))
        predicted = predict_image(net, image, axes="ZYX", task=net.task, device="cpu",
                                  scale=scale)
        pairs.append((predicted, labels))
    return pooled_scores(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=default_data.DEFAULT_DATA_DIR)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, default=Path("/tmp/unet_studio_3d_checkpoints"))
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--compare", type=Path,
                        default=Path(__file__).resolve().parents[1] / "default",
                        help="the 2D model to compare with")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from unet_studio.models.registry import build_model
    from unet_studio.models.weights import load_model, save_model

    torch.set_num_threads(2)
    torch.manual_seed(train_default.SEED)
    examples = training_examples(args.data, np.random.default_rng(train_default.SEED))
    net = build_model("unet", **ARCHITECTURE)
    settings = dict(TRAINING, **({"max_steps": args.max_steps} if args.max_steps else {}))
    original = train_default.AUGMENT
    train_default.AUGMENT = AUGMENT  # train() reads the recipe's augmentation
    try:
        result = train_default.train(net, examples, settings, device="cpu",
                                     checkpoint_dir=args.checkpoints)
    finally:
        train_default.AUGMENT = original
    net = result.net.cpu().eval()
    import dataclasses

    task = dataclasses.replace(train_default.task_spec(), spatial_axes="ZYX")
    net.task = task
    save_model(net, args.out, task=task, metadata={
        "name": "3D nuclei experiment", "date": time.strftime("%Y-%m-%d"),
        "steps": result.steps, "train_seconds": round(result.elapsed, 1)})
    two_d = load_model(args.compare)
    for name in ("cells3d_3d", "stardist_3d"):
        for label, model in (("3D experiment", net), ("2D default, slice by slice", two_d)):
            s = score(model, name, args.data)
            print(f"| {name} | {label} | {s['f1_50']:.3f} | {s['ap_50']:.3f} | "
                  f"{s['f1_75']:.3f} | {s['ap_75']:.3f} | {s['n_pred']} / {s['n_true']} |",
                  flush=True)


if __name__ == "__main__":
    main()
