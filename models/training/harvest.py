"""Training patches from the reviewed parts of corrected images, and a held-out validation set.

Only reviewed pixels are learned from: everything else gets the ignore target and weight 0.
Pixels the user changed weigh ``changed_weight`` times more, and a share of patches is centred
on them. A few blocks of the reviewed data (about ``val_fraction`` of its pixels) are held out:
their labels never reach the training loss and they measure the model before and after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from unet_studio.models.training.examples import Slab, iter_slabs
from unet_studio.models.training.targets import (
    IGNORE,
    border_weights,
    instance_targets,
    semantic_targets,
)

# Centre candidates kept per volume: plenty for random sampling, bounded memory on big stacks.
MAX_CENTERS = 250_000
# Held-out blocks at most: validation must stay a small part of the training time.
MAX_VAL_BLOCKS = 16


@dataclass(eq=False)
class Volume:
    """A prepared slab. image float32 ``(C, *spatial)``, target int64 ``(*spatial)`` (``IGNORE``
    where unknown), weight float32 ``(*spatial)`` (0 where ignored); ``centers`` and
    ``changed_centers``: flat indices of trainable (and changed) pixels to centre patches on."""

    image: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    centers: np.ndarray
    changed_centers: np.ndarray


@dataclass(eq=False)
class ValCrop:
    """A held-out block with context. image ``(C, *crop)``; target/weight ``(*crop)`` with the
    context ignored; labels int ``(*crop)`` ground truth inside ``region`` (bool, the block's
    reviewed pixels) and 0 elsewhere."""

    image: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    labels: np.ndarray
    region: np.ndarray


@dataclass(eq=False)
class Harvest:
    train: list[Volume]
    val: list[ValCrop]
    replay: list[Volume] = field(default_factory=list)
    summary: dict = field(default_factory=dict)


def slab_targets(slab: Slab, task, config) -> tuple[np.ndarray, np.ndarray]:
    """Targets int64 and loss weights float32, both ``(*spatial)``, for one slab."""
    if task.kind == "instance":
        target = instance_targets(slab.labels, slab.reviewed, boundary_width=config.boundary_width)
        known_labels = np.where(slab.reviewed, slab.labels, 0)
        weight = border_weights(known_labels, w0=config.border_w0, sigma=config.border_sigma)
    else:
        labels = (slab.labels > 0) if task.out_channels == 1 else slab.labels
        target = semantic_targets(labels, slab.reviewed, num_classes=task.out_channels)
        weight = np.ones(target.shape, dtype=np.float32)
    weight[slab.changed] *= config.changed_weight
    weight[target == IGNORE] = 0.0
    return target, weight


def _pad_to(array: np.ndarray, shape: tuple[int, ...], *, mode: str, value=0) -> np.ndarray:
    """Pad the trailing axes of ``array`` at their ends up to ``shape`` (never crop)."""
    extra = [max(s - n, 0) for s, n in zip(shape, array.shape[-len(shape):])]
    if not any(extra):
        return array
    widths = [(0, 0)] * (array.ndim - len(shape)) + [(0, e) for e in extra]
    if mode == "constant":
        return np.pad(array, widths, mode="constant", constant_values=value)
    return np.pad(array, widths, mode=mode)


def _flat_subset(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    flat = np.flatnonzero(mask)
    if flat.size > MAX_CENTERS:
        flat = np.sort(rng.choice(flat, MAX_CENTERS, replace=False))
    return flat


def make_volume(image, target, weight, changed, patch_shape, rng) -> Volume | None:
    """Pad to at least ``patch_shape`` and index the centre candidates; None if nothing to learn."""
    image = _pad_to(image, patch_shape, mode="symmetric")
    target = _pad_to(target, patch_shape, mode="constant", value=IGNORE)
    weight = _pad_to(weight, patch_shape, mode="constant", value=0.0)
    changed = _pad_to(changed, patch_shape, mode="constant", value=False)
    trainable = target != IGNORE
    if not trainable.any():
        return None
    return Volume(image, target, weight, _flat_subset(trainable, rng),
                  _flat_subset(trainable & changed, rng))


def _block_counts(reviewed: np.ndarray, block: tuple[int, ...]) -> np.ndarray:
    """Reviewed pixels per block of a grid of ``block``-sized cells over ``reviewed``."""
    grid = tuple(math.ceil(n / b) for n, b in zip(reviewed.shape, block))
    padded = _pad_to(reviewed, tuple(g * b for g, b in zip(grid, block)), mode="constant")
    split = padded.reshape([v for g, b in zip(grid, block) for v in (g, b)])
    return split.sum(axis=tuple(range(1, 2 * len(block), 2)))


def choose_val_blocks(slabs, block, val_fraction, rng) -> list[tuple[int, tuple[slice, ...]]]:
    """Pick whole grid blocks holding about ``val_fraction`` of the reviewed pixels.

    Returns ``(slab index, block slices)``. Needs at least 3 blocks with reviewed pixels so
    that most data still trains; otherwise nothing is held out.
    """
    candidates = []
    for s, slab in enumerate(slabs):
        counts = _block_counts(slab.reviewed, block)
        for index in zip(*np.nonzero(counts)):
            candidates.append((s, index, int(counts[index])))
    if val_fraction <= 0 or len(candidates) < 3:
        return []
    total = sum(c for *_, c in candidates)
    order = rng.permutation(len(candidates))
    chosen, held = [], 0
    for i in order:
        full = len(chosen) >= min(len(candidates) // 2, MAX_VAL_BLOCKS)
        if held >= val_fraction * total or full:
            break
        s, index, count = candidates[i]
        chosen.append((s, tuple(slice(j * b, (j + 1) * b) for j, b in zip(index, block))))
        held += count
    return chosen


def make_val_crop(slab: Slab, target, weight, block: tuple[slice, ...], margin) -> ValCrop:
    """The block plus ``margin`` pixels of context (clipped to the slab)."""
    shape = slab.labels.shape
    crop = tuple(slice(max(b.start - m, 0), min(b.stop + m, n))
                 for b, m, n in zip(block, margin, shape))
    inner = tuple(slice(b.start - c.start, min(b.stop, n) - c.start)
                  for b, c, n in zip(block, crop, shape))
    region = np.zeros([c.stop - c.start for c in crop], dtype=bool)
    region[inner] = True
    region &= slab.reviewed[crop]
    return ValCrop(
        image=slab.image[(slice(None), *crop)],
        target=np.where(region, target[crop], IGNORE),
        weight=np.where(region, weight[crop], 0.0).astype(np.float32),
        labels=np.where(region, slab.labels[crop], 0),
        region=region,
    )


def harvest(examples, *, spatial_dims, in_channels, task, config, patch_shape, rng,
            replay=()) -> Harvest:
    """Prepare training volumes, validation crops and replay volumes for one run."""
    slabs = list(iter_slabs(examples, spatial_dims=spatial_dims, in_channels=in_channels,
                            lower=task.lower_percentile, upper=task.upper_percentile))
    if not slabs:
        raise ValueError("no reviewed pixels in the training examples: review some regions first")
    block = tuple(max(p // 2, 16) for p in patch_shape)
    margin = tuple(p // 4 for p in patch_shape)
    val_blocks = choose_val_blocks(slabs, block, config.val_fraction, rng)
    prepared = [slab_targets(slab, task, config) for slab in slabs]
    val, held_out = [], [np.zeros(s.labels.shape, dtype=bool) for s in slabs]
    for s, block_slices in val_blocks:
        val.append(make_val_crop(slabs[s], *prepared[s], block_slices, margin))
        held_out[s][block_slices] = True
    train = []
    for slab, (target, weight), held in zip(slabs, prepared, held_out):
        target = np.where(held, IGNORE, target)
        weight = np.where(held, 0.0, weight).astype(np.float32)
        volume = make_volume(slab.image, target, weight, slab.changed, patch_shape, rng)
        if volume is not None:
            train.append(volume)
    replay_volumes = []
    for slab in iter_slabs(replay, spatial_dims=spatial_dims, in_channels=in_channels,
                           lower=task.lower_percentile, upper=task.upper_percentile):
        volume = make_volume(slab.image, *slab_targets(slab, task, config), slab.changed,
                             patch_shape, rng)
        if volume is not None:
            replay_volumes.append(volume)
    summary = {
        "examples": len(examples),
        "slabs": len(slabs),
        "reviewed_pixels": int(sum(s.reviewed.sum() for s in slabs)),
        "changed_pixels": int(sum((s.changed & s.reviewed).sum() for s in slabs)),
        "val_pixels": int(sum(c.region.sum() for c in val)),
        "val_blocks": len(val),
        "replay_examples": len(replay),
        "train_pixels": int(sum((v.target != IGNORE).sum() for v in train)),
    }
    if not train:
        raise ValueError("all reviewed pixels went to validation; review a larger region")
    return Harvest(train=train, val=val, replay=replay_volumes, summary=summary)


class PatchSampler:
    """Random training patches: volumes drawn in proportion to their trainable pixels.

    Each patch contains its centre pixel, a trainable pixel (a changed one with probability
    ``focus_changed``); with probability ``replay_fraction`` it comes from the replay volumes.
    """

    def __init__(self, harvest: Harvest, patch_shape, *, replay_fraction: float,
                 focus_changed: float, rng: np.random.Generator):
        self.train, self.replay = harvest.train, harvest.replay
        self.patch_shape = tuple(patch_shape)
        self.replay_fraction = replay_fraction if self.replay else 0.0
        self.focus_changed = focus_changed
        self.rng = rng
        self._train_p = self._probabilities(self.train)
        self._replay_p = self._probabilities(self.replay)

    @staticmethod
    def _probabilities(volumes) -> np.ndarray | None:
        if not volumes:
            return None
        sizes = np.array([v.centers.size for v in volumes], dtype=np.float64)
        return sizes / sizes.sum()

    def _pick_volume(self) -> Volume:
        if self.rng.random() < self.replay_fraction:
            return self.replay[self.rng.choice(len(self.replay), p=self._replay_p)]
        return self.train[self.rng.choice(len(self.train), p=self._train_p)]

    def _window(self, volume: Volume) -> tuple[slice, ...]:
        pool = volume.centers
        if volume.changed_centers.size and self.rng.random() < self.focus_changed:
            pool = volume.changed_centers
        centre = np.unravel_index(pool[self.rng.integers(pool.size)], volume.target.shape)
        starts = [min(max(c - p // 2, 0), n - p)
                  for c, p, n in zip(centre, self.patch_shape, volume.target.shape)]
        return tuple(slice(s, s + p) for s, p in zip(starts, self.patch_shape))

    def sample(self, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """image float32 ``(B, C, *patch)``, target int64 ``(B, *patch)``, weight ``(B, *patch)``."""
        images, targets, weights = [], [], []
        for _ in range(batch_size):
            volume = self._pick_volume()
            window = self._window(volume)
            images.append(volume.image[(slice(None), *window)])
            targets.append(volume.target[window])
            weights.append(volume.weight[window])
        return np.stack(images), np.stack(targets), np.stack(weights)
