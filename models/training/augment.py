"""Random augmentation of training batches, on the training device, batch-vectorised.

Geometric transforms (flips, 90 degree turns, elastic deformation) move image, target and
weights together; intensity transforms (scale, shift, gamma, noise, blur) change the image
only. Target pixels that an elastic warp pulls in from outside the patch become ``IGNORE``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from unet_studio.models.training.config import AugmentConfig
from unet_studio.models.training.targets import IGNORE


def _uniform(n: int, low: float, high: float, generator, device) -> torch.Tensor:
    return (torch.rand(n, generator=generator) * (high - low) + low).to(device)


def _chance(n: int, probability: float, generator, device) -> torch.Tensor:
    return (torch.rand(n, generator=generator) < probability).to(device)


def _per_sample(values: torch.Tensor, ndim: int) -> torch.Tensor:
    """``(B,)`` -> ``(B, 1, ..., 1)`` broadcastable against a ``ndim``-D batch tensor."""
    return values.view(-1, *([1] * (ndim - 1)))


def flip_and_rotate(tensors, spatial_dims: int, config: AugmentConfig, generator):
    """Same random flips / quarter turns for every tensor; each is ``(B, [C,] *spatial)``."""
    batch = tensors[0].shape[0]
    out = list(tensors)
    if config.flip:
        for axis in range(spatial_dims):
            flip = _chance(batch, 0.5, generator, out[0].device)
            out = [torch.where(_per_sample(flip, t.ndim), t.flip(t.ndim - spatial_dims + axis), t)
                   for t in out]
    shape = out[0].shape[-spatial_dims:]
    if config.rotate90 and spatial_dims >= 2 and shape[-1] == shape[-2]:
        turns = torch.randint(0, 4, (batch,), generator=generator).to(out[0].device)
        rotated = [t for t in out]
        for k in (1, 2, 3):
            pick = turns == k
            rotated = [torch.where(_per_sample(pick, t.ndim), torch.rot90(t, k, (-2, -1)), r)
                       for t, r in zip(out, rotated)]
        out = rotated
    return out


def elastic_field(batch, shape, config: AugmentConfig, generator, device) -> torch.Tensor:
    """Sampling grid ``(B, *shape, D)`` for ``grid_sample``: identity plus a smooth warp.

    Displacements (pixels, std ``elastic_sigma``) are drawn on a coarse
    ``elastic_grid^D`` lattice and interpolated (bicubic in 2D, trilinear in 3D) to every
    pixel, as in the 2015 U-Net paper.
    """
    dims = len(shape)
    coarse = torch.randn(batch, dims, *([config.elastic_grid] * dims), generator=generator)
    mode = "bicubic" if dims == 2 else ("trilinear" if dims == 3 else "linear")
    displacement = F.interpolate(coarse.to(device) * config.elastic_sigma, size=tuple(shape),
                                 mode=mode, align_corners=True)
    axes = [torch.linspace(-1, 1, n, device=device) for n in shape]
    identity = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=0)
    scale = torch.tensor([2.0 / max(n - 1, 1) for n in shape], device=device)
    grid = identity[None] + displacement * scale.view(1, dims, *([1] * dims))
    # grid_sample wants the last dimension ordered (x, y, z): the reverse of the array axes.
    return grid.flip(1).movedim(1, -1)


def elastic_deform(image, target, weight, config: AugmentConfig, generator):
    """Warp a random subset of the batch. image ``(B, C, *sp)``, target/weight ``(B, *sp)``."""
    spatial = image.shape[2:]
    chosen = torch.nonzero(_chance(image.shape[0], config.elastic_probability, generator,
                                   "cpu")).flatten().to(image.device)
    if chosen.numel() == 0 or len(spatial) not in (2, 3):
        return image, target, weight
    grid = elastic_field(chosen.numel(), spatial, config, generator, image.device)
    image, target, weight = image.clone(), target.clone(), weight.clone()
    image[chosen] = F.grid_sample(image[chosen], grid.to(image.dtype), mode="bilinear",
                                  padding_mode="reflection", align_corners=True)
    # Shift targets by one so that zero padding from outside the patch reads as IGNORE.
    shifted = (target[chosen] - IGNORE).unsqueeze(1).to(grid.dtype)
    moved = F.grid_sample(shifted, grid, mode="nearest", padding_mode="zeros", align_corners=True)
    target[chosen] = moved.squeeze(1).round().long() + IGNORE
    moved_w = F.grid_sample(weight[chosen].unsqueeze(1), grid.to(weight.dtype), mode="nearest",
                            padding_mode="zeros", align_corners=True)
    weight[chosen] = moved_w.squeeze(1) * (target[chosen] != IGNORE)
    return image, target, weight


def gaussian_blur(image: torch.Tensor, sigmas: torch.Tensor, max_sigma: float) -> torch.Tensor:
    """Separable Gaussian blur with one sigma per sample. image ``(B, C, *sp)``, sigmas ``(B,)``.

    One grouped convolution per axis handles the whole batch (a kernel per sample-channel).
    """
    batch, channels, *spatial = image.shape
    radius = max(int(math.ceil(3 * max_sigma)), 1)
    offsets = torch.arange(-radius, radius + 1, device=image.device, dtype=image.dtype)
    sig = sigmas.to(image.dtype).clamp_min(1e-3)[:, None]
    kernels = torch.exp(-(offsets[None] ** 2) / (2 * sig**2))
    kernels = (kernels / kernels.sum(1, keepdim=True)).repeat_interleave(channels, dim=0)
    conv = (F.conv1d, F.conv2d, F.conv3d)[len(spatial) - 1]
    out = image.reshape(1, batch * channels, *spatial)
    for axis in range(len(spatial)):
        shape = [1] * len(spatial)
        shape[axis] = 2 * radius + 1
        weight = kernels.view(batch * channels, 1, *shape)
        pad = [0] * (2 * len(spatial))
        pad[2 * (len(spatial) - 1 - axis)] = pad[2 * (len(spatial) - 1 - axis) + 1] = radius
        out = conv(F.pad(out, pad, mode="replicate"), weight, groups=batch * channels)
    return out.reshape(image.shape)


def intensity_jitter(image: torch.Tensor, config: AugmentConfig, generator) -> torch.Tensor:
    """Scale, shift, gamma, noise and blur, each per sample. image ``(B, C, *sp)``."""
    batch, device, ndim = image.shape[0], image.device, image.ndim
    on = _per_sample(_chance(batch, config.intensity_probability, generator, device), ndim)
    scale = _per_sample(_uniform(batch, 1 - config.scale, 1 + config.scale, generator, device), ndim)
    shift = _per_sample(_uniform(batch, -config.shift, config.shift, generator, device), ndim)
    gamma = _per_sample(torch.exp(_uniform(batch, -config.gamma, config.gamma, generator,
                                           device)), ndim)
    dims = tuple(range(1, ndim))
    low = image.amin(dim=dims, keepdim=True)
    span = (image.amax(dim=dims, keepdim=True) - low).clamp_min(1e-6)
    gamma_image = ((image - low) / span).clamp(0, 1) ** gamma * span + low
    image = torch.where(on, gamma_image * scale + shift, image)
    noisy = _per_sample(_chance(batch, config.noise_probability, generator, device), ndim)
    std = _per_sample(_uniform(batch, 0, config.noise_std, generator, device), ndim)
    noise = torch.randn(image.shape, generator=generator).to(device, image.dtype)
    image = image + noise * std * noisy
    blurred = _chance(batch, config.blur_probability, generator, device)
    if config.blur_sigma > 0 and bool(blurred.any()):
        sigmas = _uniform(batch, 0.3, max(config.blur_sigma, 0.3), generator, device)
        image = torch.where(_per_sample(blurred, ndim),
                            gaussian_blur(image, sigmas, config.blur_sigma), image)
    return image


def augment_batch(image, target, weight, config: AugmentConfig, generator: torch.Generator):
    """Augment a training batch. image float ``(B, C, *sp)``, target int64 ``(B, *sp)``,
    weight float ``(B, *sp)``; returns new tensors of the same shapes. ``generator`` is a CPU
    generator, so runs repeat exactly for a given seed whatever the device."""
    spatial_dims = image.ndim - 2
    image, target, weight = flip_and_rotate((image, target, weight), spatial_dims, config,
                                            generator)
    if config.elastic_probability > 0 and config.elastic_sigma > 0:
        image, target, weight = elastic_deform(image, target, weight, config, generator)
    return intensity_jitter(image, config, generator), target, weight
