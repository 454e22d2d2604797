"""Percentile intensity normalisation, computed once per image or stack.

Per-tile normalisation would give every tile its own contrast (visible seams, and a tile of
empty background stretched into noise), so the range is computed once over the whole image,
on a strided subsample when the image is large or lazy, and applied tile by tile.

A strided read of a memory-mapped stack touches a few pixels of many planes, but the kernel
maps whole runs of pages around each one (fault-around): read at once, ~1/6 of a stack
became resident before the first tile (170 MiB per GiB, measured). So a memory-mapped image
is sampled a group of planes at a time, its pages handed back after each group
(``models.mapped.release_pages``): the resident part stays bounded by the group.
"""

from __future__ import annotations

import math

import numpy as np

from unet_studio.models.mapped import is_shared_memmap, release_pages

DEFAULT_MAX_SAMPLES = 1 << 22  # ~4 M pixels: percentiles stable to well under 1 grey level
SAMPLE_RELEASE_BYTES = 64 * 2**20  # memory-mapped sampling: pages handed back this often


def _subsample_steps(shape: tuple[int, ...], skip_axes: set[int], max_samples: int) -> list[int]:
    """Per-axis strides so that the strided view holds about ``max_samples`` pixels.

    The reduction is shared evenly by the axes (a stack is sampled in many planes, each
    sparsely), so a trend along Z or T does not bias the range.
    """
    steps = [1] * len(shape)
    axes = [a for a in range(len(shape)) if a not in skip_axes and shape[a] > 1]
    total = math.prod(shape)
    if total <= max_samples or not axes:
        return steps
    per_axis = (total / max_samples) ** (1.0 / len(axes))
    for axis in axes:
        steps[axis] = max(1, min(shape[axis], math.ceil(per_axis)))
    return steps


def percentile_range(image, lower: float = 1.0, upper: float = 99.8, *,
                     channel_axis: int | None = None,
                     max_samples: int = DEFAULT_MAX_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """The ``lower`` and ``upper`` percentiles of ``image`` (any array-like, read lazily).

    Returns two float32 arrays: shape ``(C,)`` when ``channel_axis`` is given (one range per
    channel), else shape ``()``. Images larger than ``max_samples`` pixels are read on a
    strided grid, so a stack larger than RAM costs one pass over a few planes.
    """
    if not 0 <= lower < upper <= 100:
        raise ValueError(f"need 0 <= lower < upper <= 100, got {lower} and {upper}")
    ndim = len(image.shape)
    skip = set() if channel_axis is None else {channel_axis % ndim}
    steps = _subsample_steps(tuple(image.shape), skip, max_samples)
    sample = strided_sample(image, steps)
    if channel_axis is None:
        lo, hi = np.nanpercentile(sample, [lower, upper])
        return np.float32(lo), np.float32(hi)
    sample = np.moveaxis(sample, channel_axis, 0).reshape(sample.shape[channel_axis], -1)
    lo, hi = np.nanpercentile(sample, [lower, upper], axis=1)
    return lo.astype(np.float32), hi.astype(np.float32)


def strided_sample(image, steps: list[int], *,
                   release_bytes: int = SAMPLE_RELEASE_BYTES) -> np.ndarray:
    """``image[::steps[0], ::steps[1], ...]`` as float32. A shared ``np.memmap`` is read in
    groups of first-axis positions whose planes span about ``release_bytes``, releasing its
    mapped pages after each group (see the module docstring); other arrays in one read."""
    index = tuple(slice(None, None, s) for s in steps)
    if not is_shared_memmap(image) or image.ndim < 2:
        return np.asarray(image[index], dtype=np.float32)
    plane_bytes = max(image.nbytes // max(image.shape[0], 1), 1)
    positions = range(0, image.shape[0], steps[0])
    per_group = max(1, release_bytes // (plane_bytes * steps[0]))
    parts = []
    for first in range(0, len(positions), per_group):
        chosen = positions[first:first + per_group]
        part = image[(slice(chosen.start, chosen.stop, steps[0]), *index[1:])]
        parts.append(np.asarray(part, dtype=np.float32))
        release_pages(image)
    return np.concatenate(parts, axis=0)


def normalize_intensity(block, lo, hi, *, channel_axis: int | None = None) -> np.ndarray:
    """Map ``lo`` -> 0 and ``hi`` -> 1 (not clipped), as float32.

    ``lo``/``hi``: scalars, or ``(C,)`` arrays applied along ``channel_axis``. A flat image
    (hi == lo) maps to zeros rather than dividing by zero.
    """
    block = np.asarray(block, dtype=np.float32)
    lo = np.asarray(lo, dtype=np.float32)
    hi = np.asarray(hi, dtype=np.float32)
    scale = np.where(hi > lo, hi - lo, np.float32(1))
    if channel_axis is not None and lo.ndim == 1:
        shape = [1] * block.ndim
        shape[channel_axis] = lo.size
        lo, scale = lo.reshape(shape), scale.reshape(shape)
    return (block - lo) / scale
