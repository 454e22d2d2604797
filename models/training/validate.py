"""Held-out evaluation during fine-tuning: loss and an object (or Dice) score on val crops."""

from __future__ import annotations

import math
import time
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from unet_studio.models.metrics import object_counts, scores_from_totals
from unet_studio.models.pipeline import postprocess_options
from unet_studio.models.training.losses import weighted_ce_dice
from unet_studio.models.training.targets import IGNORE


def _pad(x: torch.Tensor, before, after) -> torch.Tensor:
    """Pad the spatial axes of ``(B, C, *sp)``: mirror where the image is large enough."""
    pads = []
    for b, a in zip(reversed(before), reversed(after)):
        pads += [int(b), int(a)]
    if not any(pads):
        return x
    spatial = x.shape[2:]
    small = any(max(b, a) >= n for b, a, n in zip(before, after, spatial))
    mode = "replicate" if small or x.ndim > 5 else "reflect"
    return F.pad(x, pads, mode=mode)


def input_shape_covering(net, shape: tuple[int, ...]) -> tuple[int, ...]:
    """Smallest accepted input whose output covers ``shape`` (same-padding: ``shape`` rounded
    up to the size divisor; valid-padding: grown by the border the network eats)."""
    if not hasattr(net, "valid_input_shape"):
        return tuple(shape)
    wanted = tuple(shape)
    for _ in range(16):
        candidate = tuple(net.valid_input_shape(wanted))
        out = tuple(net.output_shape(candidate))
        if all(o >= s for o, s in zip(out, shape)):
            return candidate
        wanted = tuple(c + (s - o) for c, o, s in zip(candidate, out, shape))
    raise ValueError(f"found no input shape whose output covers {shape}")


def forward_covering(net, image: torch.Tensor) -> torch.Tensor:
    """Logits ``(B, K, *sp)`` for an input ``(B, C, *sp)`` of any size.

    Pads (mirror) to a shape the network accepts so that the output, which a
    valid-padding network centres inside its input, lines up with the input pixels.
    """
    shape = tuple(image.shape[2:])
    need = input_shape_covering(net, shape)
    out_shape = tuple(net.output_shape(need)) if hasattr(net, "output_shape") else need
    offset = [(n - o) // 2 for n, o in zip(need, out_shape)]
    before = offset
    after = [n - s - b for n, s, b in zip(need, shape, before)]
    logits = net(_pad(image, before, after))
    if isinstance(logits, (list, tuple)):
        logits = logits[0]
    return logits[(slice(None), slice(None), *(slice(0, s) for s in shape))]


def _instance_labels(probabilities: np.ndarray, options: dict) -> np.ndarray:
    """Object labels from (background, foreground, boundary) probabilities ``(3, *sp)``,
    with the post-processing ``options`` that prediction uses for this model."""
    from unet_studio.models.postprocess import instance_labels

    return instance_labels(probabilities, **options)


def _dice_counts(pred: np.ndarray, true: np.ndarray, classes: int) -> np.ndarray:
    """Per foreground class: (overlap, pred size, true size)."""
    rows = []
    for c in range(1, max(classes, 2)):
        p, t = pred == c, true == c
        rows.append([np.sum(p & t), np.sum(p), np.sum(t)])
    return np.array(rows, dtype=np.float64)


# Pixels per forward pass when crops are evaluated together (bounds the activations' memory).
BATCH_PIXELS = 2**20


def _batches(crops) -> list[list]:
    """Crops grouped by shape, each group cut into batches of at most ``BATCH_PIXELS``."""
    groups: dict[tuple, list] = {}
    for crop in crops:
        groups.setdefault(crop.image.shape, []).append(crop)
    batches = []
    for shape, members in groups.items():
        size = max(1, BATCH_PIXELS // math.prod(shape[1:]))
        batches += [members[i:i + size] for i in range(0, len(members), size)]
    return batches


def _crop_logits(net, batch, device, autocast_dtype) -> torch.Tensor:
    """Logits ``(N, K, *crop)`` of a batch of equally shaped crops, one forward pass."""
    image = torch.from_numpy(np.stack([crop.image for crop in batch])).to(device)
    with torch.autocast(device.type, dtype=autocast_dtype or torch.float32,
                        enabled=autocast_dtype is not None):
        return forward_covering(net, image).float()


class _Tally:
    """Held-out sums over the crops scored so far (so a scoring can stop after any crop)."""

    def __init__(self, task, dice_weight: float):
        self.task, self.dice_weight = task, dice_weight
        # The model's own post-processing defaults (what the user's prediction applies), so
        # that the before/after scores rate the labels the user would actually get.
        self.options = postprocess_options(task, None) if task.kind == "instance" else {}
        self.losses: list[float] = []
        self.totals: dict = {}
        self.dice = 0.0

    def add(self, crop, crop_logits: torch.Tensor, device) -> None:
        """One crop and its logits ``(K, *crop)``."""
        crop_logits = crop_logits[None]
        target = torch.from_numpy(crop.target)[None].to(device)
        weight = torch.from_numpy(crop.weight)[None].to(device)
        self.losses.append(float(weighted_ce_dice(crop_logits, target, weight,
                                                  dice_weight=self.dice_weight)))
        if self.task.kind == "instance":
            probabilities = torch.softmax(crop_logits[0], 0).cpu().numpy()
            pred = _instance_labels(probabilities, self.options) * crop.region
            for key, value in object_counts(pred, crop.labels).items():
                self.totals[key] = self.totals.get(key, 0) + value
        else:
            pred = _semantic_classes(crop_logits[0])
            known = crop.target != IGNORE
            self.dice = self.dice + _dice_counts(pred[known], crop.target[known],
                                                 crop_logits.shape[1])

    def result(self) -> dict:
        result = {"val_loss": float(np.mean(self.losses))}
        if self.task.kind == "instance":
            result.update(_object_scores(self.totals))
        else:
            dice = self.dice
            per_class = (2 * dice[:, 0] + 1e-9) / (dice[:, 1] + dice[:, 2] + 1e-9)
            result["val_metric"] = float(per_class.mean())
            result["class_dice"] = class_dice(dice, self.task.class_names)
        return result


def class_dice(counts: np.ndarray, class_names) -> dict[str, float]:
    """Dice per foreground class by name, from ``_dice_counts`` rows summed over crops;
    a class neither reviewed nor predicted in the held-out data has no Dice and no entry.
    (A binary model's one channel is its class; else row ``i`` is class ``i + 1``.)"""
    names = list(class_names) if len(class_names) == 1 else list(class_names)[1:]
    return {name: float(2 * overlap / (pred + true))
            for name, (overlap, pred, true) in zip(names, counts) if pred + true > 0}


def _object_scores(totals: dict) -> dict:
    """Held-out object scores of the summed counts, and ``val_metric`` (F1 at IoU 0.5).

    Without a reference object in the held-out blocks, F1, AP, precision, recall and the
    matched IoU are undefined (``metrics.scores_from_counts`` would call 0 found of 0 a
    perfect 1.0, and a model that finds nothing anywhere would score best): only the object
    counts are kept, so that the loss decides (as ``select_best_by`` falls back to it) and
    reports can say that the held-out data holds no objects."""
    if totals["n_true"] == 0:
        return {"n_pred": int(totals["n_pred"]), "n_true": 0}
    scores = scores_from_totals(totals)
    scores["val_metric"] = scores["f1_50"]
    return scores


class Scoring(NamedTuple):
    """Held-out metrics, how many crops they cover (the first ``scored`` of those given) and
    the seconds each pass took (one per crop when scored under an allowance)."""

    metrics: dict
    scored: int
    durations: list[float]


@torch.no_grad()
def score_crops(net, crops, *, task, dice_weight: float, device, autocast_dtype=None,
                allowance: float | None = None) -> Scoring:
    """Held-out metrics (as :func:`evaluate`) and how many of ``crops`` they cover.

    Without ``allowance`` every crop is scored, crops of one shape together (few large
    passes instead of many small ones). With ``allowance`` (seconds) the crops go one at a
    time in the order given, and scoring stops when the next crop would not fit
    (``timing.crops_that_fit``; at least one crop is scored): the metrics then cover the
    first ``scored`` crops. ({}, 0, []) when there are none.
    """
    from unet_studio.models.training.timing import crops_that_fit

    if not crops:
        return Scoring({}, 0, [])
    tally = _Tally(task, dice_weight)
    batches = _batches(crops) if allowance is None else [[crop] for crop in crops]
    was_training = net.training
    net.eval()
    scored, durations = 0, []
    try:
        for batch in batches:
            if not crops_that_fit(durations, allowance):
                break
            started = time.monotonic()
            logits = _crop_logits(net, batch, device, autocast_dtype)
            for crop, crop_logits in zip(batch, logits):
                tally.add(crop, crop_logits, device)
            scored += len(batch)
            durations.append(time.monotonic() - started)
    finally:
        net.train(was_training)
    return Scoring(tally.result(), scored, durations)


def evaluate(net, crops, *, task, dice_weight: float, device, autocast_dtype=None) -> dict:
    """Held-out loss and score over validation crops; {} when there are none.

    Returns ``val_loss`` (mean over crops), ``val_metric`` (object F1 at IoU 0.5 for instance
    tasks, mean foreground Dice for semantic ones, with ``class_dice``: {class name: Dice})
    and, for instance tasks, the object scores
    of :func:`unet_studio.models.metrics.object_scores` over all crops together: only
    ``n_pred`` and ``n_true`` (no ``val_metric``) when the crops hold no reference object.
    Crops of one shape go through the network together (few large passes instead of many
    small ones).
    """
    return score_crops(net, crops, task=task, dice_weight=dice_weight, device=device,
                       autocast_dtype=autocast_dtype).metrics


def _semantic_classes(logits: torch.Tensor) -> np.ndarray:
    """Hard classes ``(*sp)`` from logits ``(K, *sp)`` (K == 1: sigmoid > 0.5)."""
    if logits.shape[0] == 1:
        return (logits[0] > 0).long().cpu().numpy()
    return logits.argmax(0).cpu().numpy()
