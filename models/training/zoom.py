"""Random zoom of training patches: one model for several magnifications.

A zoomed patch of ``P`` output pixels per axis at factor ``z`` (> 1 magnifies) covers
``(P - 1) / z`` source pixels, so the sampler cuts a source window large enough for the
smallest factor in the batch around each patch (:func:`source_windows`, numpy), and
:func:`zoom_patches` resamples the whole batch at once with ``grid_sample`` (torch, on the
training device): the image linearly (low-passed first when shrinking, against aliasing),
targets and weights by nearest neighbour, so that the ignore mask and the classes stay
exactly aligned with the image. The footprint is kept inside the volume when it fits;
where it cannot (a shrunk patch larger than the whole image) the pixels from outside get
the ignore target and weight 0, and the image there is mirrored context.

Shrinking by nearest neighbour would drop thin classes (the 1-pixel boundary between
touching objects) between two samples; the ``thin_class`` is therefore taken where any
source pixel of an output pixel's footprint holds it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from unet_studio.models.training.augment import gaussian_blur
from unet_studio.models.training.config import AugmentConfig
from unet_studio.models.training.targets import IGNORE

TIE_BREAK = 1e-3  # pixels


def draw_zooms(batch: int, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Factors ``(B,)``: log-uniform in ``zoom_range`` with ``zoom_probability``, else 1."""
    low, high = (math.log(z) for z in config.zoom_range)
    factors = np.exp(rng.uniform(low, high, batch))
    return np.where(rng.random(batch) < config.zoom_probability, factors, 1.0)


def source_shape(patch_shape, zooms: np.ndarray) -> tuple[int, ...]:
    """Window ``(*W)`` that holds every sample's footprint (plus interpolation neighbours)."""
    smallest = float(np.min(zooms))
    return tuple(max(p, math.ceil((p - 1) / smallest) + 3) for p in patch_shape)


def footprint_centre(centre, patch_shape, zoom: float, extent) -> np.ndarray:
    """Where to centre a zoomed patch ``(D,)``: where an unzoomed patch starting at
    ``centre - P // 2`` has its middle (so that factor 1 samples whole pixels), moved so the
    footprint lies inside the volume (``extent``) when it fits, else the volume's middle."""
    out = []
    for c, p, n in zip(centre, patch_shape, extent):
        c = c - p // 2 + (p - 1) / 2
        half = (p - 1) / (2 * zoom)
        out.append(min(max(c, half), n - 1 - half) if n - 1 >= 2 * half else (n - 1) / 2)
    return np.array(out, dtype=np.float64)


def _reflect(index: np.ndarray, n: int) -> np.ndarray:
    """Mirror indices into ``[0, n)`` (edge pixel repeated, like numpy's "symmetric" pad)."""
    folded = np.mod(index, 2 * n)
    return np.where(folded >= n, 2 * n - 1 - folded, folded)


def cut_window(volume, start, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``volume``'s image ``(C, *shape)``, target and weight ``(*shape)`` from ``start`` on;
    outside the volume: mirrored image, ``IGNORE`` target, weight 0."""
    extent = volume.target.shape
    indices = [np.arange(s, s + w) for s, w in zip(start, shape)]
    inside = np.ones(shape, dtype=bool)
    for axis, (index, n) in enumerate(zip(indices, extent)):
        view = [1] * len(shape)
        view[axis] = -1
        inside &= ((index >= 0) & (index < n)).reshape(view)
    mirrored = np.ix_(*(_reflect(i, n) for i, n in zip(indices, extent)))
    image = volume.image[(slice(None), *mirrored)]
    target = np.where(inside, volume.target[mirrored], IGNORE)
    weight = np.where(inside, volume.weight[mirrored], 0.0).astype(np.float32)
    return image, target, weight


def source_windows(volumes, centres, zooms, patch_shape):
    """Cut one source window per sample. volumes/centres (pixel index tuples)/zooms per
    sample. Returns image ``(B, C, *W)``, target ``(B, *W)``, weight ``(B, *W)`` and the
    footprint centres ``(B, D)`` in window coordinates (what :func:`zoom_patches` needs)."""
    shape = source_shape(patch_shape, zooms)
    images, targets, weights, offsets = [], [], [], []
    for volume, centre, zoom in zip(volumes, centres, zooms):
        middle = footprint_centre(centre, patch_shape, float(zoom), volume.target.shape)
        start = [int(math.floor(m)) - (w - 1) // 2 for m, w in zip(middle, shape)]
        image, target, weight = cut_window(volume, start, shape)
        images.append(image)
        targets.append(target)
        weights.append(weight)
        offsets.append(middle - np.array(start))
    return (np.stack(images), np.stack(targets), np.stack(weights),
            np.stack(offsets).astype(np.float32))


def _grid(offsets: torch.Tensor, zooms: torch.Tensor, window, patch_shape, shift=None):
    """``grid_sample`` grid ``(B, *P, D)``: output pixel i of axis a reads window coordinate
    ``offset_a + (i - (P_a - 1) / 2) / zoom (+ shift_a)``, normalised for align_corners."""
    batch, dims = offsets.shape
    columns = []
    for a, (p, w) in enumerate(zip(patch_shape, window)):
        steps = torch.arange(p, device=offsets.device, dtype=offsets.dtype) - (p - 1) / 2
        coord = offsets[:, a, None] + steps[None] / zooms[:, None]
        if shift is not None:
            coord = coord + shift[:, a, None]
        view = [batch] + [1] * dims
        view[1 + a] = p
        columns.append((2 * coord / max(w - 1, 1) - 1).view(view).expand(batch, *patch_shape))
    return torch.stack(columns[::-1], dim=-1)  # grid_sample orders (x, y, z): last axis first


def _sample_nearest(values: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """values ``(B, *W)`` float -> ``(B, *P)`` by nearest neighbour (zeros outside)."""
    return F.grid_sample(values.unsqueeze(1), grid, mode="nearest", padding_mode="zeros",
                         align_corners=True).squeeze(1)


def _thin_class_anywhere(target, offsets, zooms, window, patch_shape, thin_class):
    """``(B, *P)`` bool: does the footprint of an output pixel hold ``thin_class``?

    When shrinking (sample spacing ``d = 1/z`` in (1, 2]), nearest samples at ``±(d - 1)/2``
    per axis have rounding cells that together span exactly ``d``: the footprints of
    neighbouring outputs tile the window, so every source pixel counts for one output
    (``TIE_BREAK`` rounds exact halves up, as the tiling needs; grid_sample rounds to even)."""
    delta = ((1 / zooms - 1) / 2).clamp_min(0)
    present = (target == thin_class).to(offsets.dtype)
    dims = offsets.shape[1]
    found = torch.zeros((target.shape[0], *patch_shape), dtype=torch.bool, device=target.device)
    for signs in np.ndindex(*([2] * dims)):
        sign = torch.tensor([2.0 * s - 1 for s in signs], device=offsets.device,
                            dtype=offsets.dtype)
        shift = delta[:, None] * sign[None] + TIE_BREAK
        found |= _sample_nearest(present, _grid(offsets, zooms, window, patch_shape, shift)) > 0.5
    return found & (zooms < 1).view(-1, *([1] * dims))


def zoom_patches(image, target, weight, zooms, offsets, patch_shape, *, thin_class=None):
    """Resample source windows into zoomed patches, the whole batch at once.

    image float ``(B, C, *W)``, target int64 ``(B, *W)``, weight float ``(B, *W)``, zooms
    ``(B,)``, offsets ``(B, D)`` (footprint centres in window coordinates, from
    :func:`source_windows`). Returns image ``(B, C, *P)``, target ``(B, *P)`` and weight
    ``(B, *P)`` (0 where the target is ``IGNORE``). 1D patches go through as 2D ones of
    height 1 (``grid_sample`` has no 1D mode).
    """
    if image.ndim == 3:
        flat = zoom_patches(image[:, :, None], target[:, None], weight[:, None], zooms,
                            torch.cat([torch.zeros_like(offsets), offsets], dim=1),
                            (1, *patch_shape), thin_class=thin_class)
        return flat[0][:, :, 0], flat[1][:, 0], flat[2][:, 0]
    patch_shape, window = tuple(patch_shape), tuple(image.shape[2:])
    offsets, zooms = offsets.to(torch.float32), zooms.to(offsets.device, torch.float32)
    grid = _grid(offsets, zooms, window, patch_shape)
    shrinking = zooms < 1
    if bool(shrinking.any()):
        # Low-pass before shrinking (skimage's rescale uses the same sigma).
        sigmas = ((1 / zooms - 1) / 2).clamp_min(0)
        blurred = gaussian_blur(image, sigmas, float(sigmas.max()))
        image = torch.where(shrinking.view(-1, *([1] * (image.ndim - 1))), blurred, image)
    out_image = F.grid_sample(image, grid.to(image.dtype), mode="bilinear",
                              padding_mode="border", align_corners=True)
    out_target = _sample_nearest((target - IGNORE).to(grid.dtype), grid).round().long() + IGNORE
    if thin_class is not None and bool(shrinking.any()):
        thin = _thin_class_anywhere(target, offsets, zooms, window, patch_shape, thin_class)
        out_target = torch.where(thin & (out_target != IGNORE), thin_class, out_target)
    out_weight = _sample_nearest(weight.to(grid.dtype), grid) * (out_target != IGNORE)
    return out_image, out_target, out_weight.to(weight.dtype)
