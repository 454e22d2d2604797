"""Segmentation losses with per-pixel weights and an ignore mask, and deep supervision.

``weighted_ce_dice``: cross-entropy weighted per pixel (2015 border weights x changed-pixel
weights), averaged over the known pixels, plus soft Dice over the known pixels. Pixels whose
target is ``IGNORE`` contribute nothing, so their labels can be anything.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from unet_studio.models.training.targets import IGNORE

DICE_SMOOTH = 1.0


def soft_dice_loss(probabilities: torch.Tensor, target: torch.Tensor, known: torch.Tensor,
                   *, skip_background: bool = True) -> torch.Tensor:
    """1 - mean soft Dice over classes, pooled over the batch and the known pixels.

    probabilities ``(B, K, *sp)``; target int64 ``(B, *sp)`` in 0..K-1 where known; known bool
    ``(B, *sp)``. For K == 1 the single channel is the foreground probability.
    """
    known_f = known.unsqueeze(1).to(probabilities.dtype)
    if probabilities.shape[1] == 1:
        onehot = (target > 0).unsqueeze(1).to(probabilities.dtype)
    else:
        onehot = F.one_hot(target.clamp_min(0), probabilities.shape[1]).movedim(-1, 1)
        onehot = onehot.to(probabilities.dtype)
        if skip_background:
            probabilities, onehot = probabilities[:, 1:], onehot[:, 1:]
    dims = (0, *range(2, probabilities.ndim))
    overlap = (probabilities * onehot * known_f).sum(dims)
    total = (probabilities * known_f).sum(dims) + (onehot * known_f).sum(dims)
    dice = (2 * overlap + DICE_SMOOTH) / (total + DICE_SMOOTH)
    return 1.0 - dice.mean()


def weighted_ce_dice(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                     *, dice_weight: float = 1.0) -> torch.Tensor:
    """Weighted cross-entropy + ``dice_weight`` x soft Dice, over known pixels only.

    logits float ``(B, K, *sp)``; target int64 ``(B, *sp)`` with ``IGNORE`` for unknown;
    weight float ``(B, *sp)``. K == 1: binary (sigmoid) with target > 0 as foreground.
    Returns a scalar (0 when no pixel is known).
    """
    logits = logits.float()
    known = target != IGNORE
    count = known.sum()
    if int(count) == 0:
        return logits.sum() * 0.0
    safe_target = target.clamp_min(0)
    if logits.shape[1] == 1:
        per_pixel = F.binary_cross_entropy_with_logits(
            logits[:, 0], (safe_target > 0).to(logits.dtype), reduction="none")
        probabilities = torch.sigmoid(logits)
    else:
        per_pixel = F.cross_entropy(logits, safe_target, reduction="none")
        probabilities = torch.softmax(logits, dim=1)
    ce = (per_pixel * weight * known).sum() / count
    if dice_weight == 0:
        return ce
    return ce + dice_weight * soft_dice_loss(probabilities, target, known)


def downsample_target(target: torch.Tensor, weight: torch.Tensor, shape) -> tuple:
    """Nearest-neighbour resize of target ``(B, *sp)`` and weight to ``shape``."""
    if tuple(target.shape[1:]) == tuple(shape):
        return target, weight
    small_t = F.interpolate(target.unsqueeze(1).float(), size=tuple(shape), mode="nearest")
    small_w = F.interpolate(weight.unsqueeze(1).float(), size=tuple(shape), mode="nearest")
    return small_t.squeeze(1).long(), small_w.squeeze(1)


def deep_supervision_weights(levels: int) -> list[float]:
    """1, 1/2, 1/4, ... normalised to sum 1: the full-resolution output counts most."""
    raw = [0.5**i for i in range(levels)]
    return [r / sum(raw) for r in raw]


def training_loss(outputs, target: torch.Tensor, weight: torch.Tensor,
                  *, dice_weight: float = 1.0) -> torch.Tensor:
    """Loss for a network output or a deep-supervision list ``[main, aux_hi, ..., aux_low]``.

    Auxiliary outputs are compared with nearest-downsampled targets and weights.
    """
    if isinstance(outputs, torch.Tensor):
        return weighted_ce_dice(outputs, target, weight, dice_weight=dice_weight)
    total = 0.0
    for output, share in zip(outputs, deep_supervision_weights(len(outputs))):
        small_t, small_w = downsample_target(target, weight, output.shape[2:])
        total = total + share * weighted_ce_dice(output, small_t, small_w, dice_weight=dice_weight)
    return total


def center_crop(tensor: torch.Tensor, shape) -> torch.Tensor:
    """Centred crop of the trailing axes to ``shape`` (for 'valid'-padding networks)."""
    shape = tuple(shape)
    spatial = tensor.shape[-len(shape):]
    if tuple(spatial) == shape:
        return tensor
    index = [slice(None)] * (tensor.ndim - len(shape))
    for have, want in zip(spatial, shape):
        start = (have - want) // 2
        index.append(slice(start, start + want))
    return tensor[tuple(index)]
