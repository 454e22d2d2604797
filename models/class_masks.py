"""From a network's logits to probabilities and to the per-pixel masks the labels start from.

Separate from the watershed (``models.postprocess``) because these steps are per pixel and
cheap: a pipeline applies them to a stack tile by tile and keeps only the small masks, while
the labelling needs the whole assembled mask.
"""

from __future__ import annotations

import numpy as np


def softmax(logits: np.ndarray, axis: int = 0) -> np.ndarray:
    """Probabilities from logits along ``axis`` (float32, numerically stable)."""
    logits = np.asarray(logits, dtype=np.float32)
    shifted = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    logits = np.asarray(logits, dtype=np.float32)
    return (0.5 * (1.0 + np.tanh(0.5 * logits))).astype(np.float32)


def probabilities_from_logits(logits: np.ndarray) -> np.ndarray:
    """``(C, *spatial)`` logits -> probabilities: sigmoid for one channel, else softmax."""
    return sigmoid(logits) if logits.shape[0] == 1 else softmax(logits, axis=0)


def semantic_mask(probabilities: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Class index per pixel ``(*spatial)`` uint8 from ``(C, *spatial)`` probabilities.

    One channel: 1 where the probability exceeds ``threshold``; several: the argmax.
    """
    probabilities = np.asarray(probabilities)
    if probabilities.shape[0] == 1:
        return (probabilities[0] > threshold).astype(np.uint8)
    dtype = np.uint8 if probabilities.shape[0] <= 256 else np.int32
    return np.argmax(probabilities, axis=0).astype(dtype)


def foreground_mask(probabilities: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """Object pixels (foreground or boundary) from ``(3, *spatial)`` instance probabilities."""
    return (1.0 - np.asarray(probabilities[0], dtype=np.float32)) > threshold


def instance_masks(probabilities: np.ndarray, *, threshold: float = 0.5):
    """(objects, interior) boolean masks ``(*spatial)`` from ``(3, *spatial)`` probabilities.

    Objects: not background. Interior: object pixels where foreground beats boundary. These
    two bits per pixel are all the watershed needs, so a pipeline can keep them instead of
    the float probabilities of a whole stack.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.shape[0] != 3:
        raise ValueError(
            "instance labels need 3 channels (background, foreground, boundary), "
            f"got {probabilities.shape[0]}"
        )
    objects = foreground_mask(probabilities, threshold=threshold)
    return objects, objects & (probabilities[1] > probabilities[2])
