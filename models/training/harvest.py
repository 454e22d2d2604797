"""Training patches from the reviewed parts of corrected images, and a held-out validation set.

Only reviewed pixels are learned from: everything else gets the ignore target and weight 0.
Pixels the user changed weigh ``changed_weight`` times more, and a share of patches is centred
on them; another share is centred on objects, so sparse objects (a microcolony in a large
field, a few organelles) are seen in training. Blocks of the reviewed data holding
``val_fraction`` of its pixels (within about half a block; at most ``MAX_VAL_PIXELS``) are
held out: their labels never reach the training loss and they measure the model before and
after. The held-out blocks also take no more than about ``val_fraction`` of the object pixels,
so that validation never takes the objects the model should learn from. The blocks grow with
the data so that there are few of them, and their crops share one shape, so a validation
pass is a few large batches. Patches are drawn by ``sampler.PatchSampler``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

from unet_studio.models.training.examples import Slab, iter_slabs
from unet_studio.models.training.sampler import PatchSampler
from unet_studio.models.training.targets import (
    IGNORE,
    border_weights,
    instance_targets,
    semantic_targets,
)
from unet_studio.models.training.unknown_classes import check_unknown_classes

__all__ = ["Harvest", "PatchSampler", "ValCrop", "Volume", "harvest"]

# Centre candidates kept per volume: plenty for random sampling, bounded memory on big stacks.
MAX_CENTERS = 250_000
# Validation is measured every ``val_every`` steps over every held-out pixel, so their number
# is bounded (about 32 blocks of 128x128): the held-out share is ``val_fraction`` up to this.
MAX_VAL_PIXELS = 2**19
# Held-out blocks grow (up to this many times the patch) so that there are at most about
# ``VAL_BLOCKS`` of them: fewer, larger crops waste less context and evaluate faster.
VAL_BLOCKS = 8
# Fewer held-out pixels than this (a few voxels of a tiny reviewed region split across
# blocks) would give a "better" verdict from noise: then nothing is held out.
MIN_VAL_PIXELS = 256
MAX_BLOCK_PATCHES = 2
# A held-out block is drawn from those at least this full of reviewed pixels, when there are
# enough of them: a block that holds only the edge of a reviewed region (the thin margin an
# edit marks around itself) scores a sliver of a few rows, where any prediction that
# covers it looks perfect (a QA saw F1 1.000 before and after for a random network).
MIN_BLOCK_FILL = 0.1
# Bytes hashed per update of the data fingerprint (and at most copied, for a strided array).
HASH_CHUNK_BYTES = 16 * 2**20


@dataclass(eq=False)
class Volume:
    """A prepared slab. image float32 ``(C, *spatial)``, target int64 ``(*spatial)`` (``IGNORE``
    where unknown), weight float32 ``(*spatial)`` (0 where ignored); ``centers``,
    ``changed_centers`` and ``object_centers``: flat indices of trainable pixels (all, the
    changed ones, those of objects: any class but background) to centre patches on."""

    image: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    centers: np.ndarray
    changed_centers: np.ndarray
    object_centers: np.ndarray


@dataclass(eq=False)
class ValCrop:
    """A held-out block with context. image ``(C, *crop)``; target/weight ``(*crop)`` with the
    context ignored; labels int ``(*crop)`` ground truth inside ``region`` (bool, the block's
    reviewed pixels) and 0 elsewhere. ``origin``: the slab it was cut from (example index,
    leading indices: a frame or slice of a stack for a 2D network) and ``plane_axes`` the
    letters of those leading axes ("T", "Z"; "" when not known), so a verdict can say where
    its held-out objects lie."""

    image: np.ndarray
    target: np.ndarray
    weight: np.ndarray
    labels: np.ndarray
    region: np.ndarray
    origin: tuple = ()
    plane_axes: str = ""


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
        # (labels that are no class were reported by ``check_unknown_classes``)
        target = semantic_targets(labels, slab.reviewed, num_classes=task.out_channels,
                                  unknown="ignore")
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
                  _flat_subset(trainable & changed, rng), _flat_subset(target > 0, rng))


def _block_counts(reviewed: np.ndarray, block: tuple[int, ...]) -> np.ndarray:
    """Reviewed pixels per block of a grid of ``block``-sized cells over ``reviewed``."""
    grid = tuple(math.ceil(n / b) for n, b in zip(reviewed.shape, block))
    padded = _pad_to(reviewed, tuple(g * b for g, b in zip(grid, block)), mode="constant")
    split = padded.reshape([v for g, b in zip(grid, block) for v in (g, b)])
    return split.sum(axis=tuple(range(1, 2 * len(block), 2)))


def val_block_shape(slabs, patch_shape, val_fraction) -> tuple[int, ...]:
    """Held-out block size: half a patch (at least 16), grown so that the requested share
    takes about ``VAL_BLOCKS`` blocks, at most ``MAX_BLOCK_PATCHES`` patches per axis."""
    base = [max(p // 2, 16) for p in patch_shape]
    total = sum(int(slab.reviewed.sum()) for slab in slabs)
    wanted = min(val_fraction * total, MAX_VAL_PIXELS)
    grow = (wanted / (VAL_BLOCKS * math.prod(base))) ** (1 / len(base))
    return tuple(int(min(max(b, round(b * grow)), MAX_BLOCK_PATCHES * p))
                 for b, p in zip(base, patch_shape))


def choose_val_blocks(slabs, block, val_fraction, rng) -> list[tuple[int, tuple[slice, ...]]]:
    """Pick grid blocks holding close to ``val_fraction`` of the reviewed pixels (at most
    ``MAX_VAL_PIXELS``): in random order, a block is taken when it brings the held-out
    count closer to the target, so the share misses by at most about half a block. The same
    rule holds for the object pixels (labels > 0), and at least half of them stay in training:
    where the objects cluster in a few blocks (a colony in a large field), the blocks holding
    most of them are not held out.

    Blocks at least :data:`MIN_BLOCK_FILL` reviewed are the candidates when there are 3 of
    them or more, else every block with reviewed pixels.

    Returns ``(slab index, block slices)``. Needs at least 3 blocks with reviewed pixels and
    keeps at least half of them for training, and holds out :data:`MIN_VAL_PIXELS` at least;
    otherwise nothing is held out.
    """
    candidates = []  # (slab, block index, reviewed pixels, object pixels)
    for s, slab in enumerate(slabs):
        counts = _block_counts(slab.reviewed, block)
        objects = _block_counts(slab.reviewed & (slab.labels > 0), block)
        for index in zip(*np.nonzero(counts)):
            candidates.append((s, index, int(counts[index]), int(objects[index])))
    # (the shares are of all reviewed pixels, the thin blocks' too)
    total, total_objects = sum(c[2] for c in candidates), sum(c[3] for c in candidates)
    full = [c for c in candidates if c[2] >= MIN_BLOCK_FILL * math.prod(block)]
    if len(full) >= 3:  # (else: slices reviewed through a 3D block, say; every block counts)
        candidates = full
    if val_fraction <= 0 or len(candidates) < 3:
        return []
    target = min(val_fraction * total, MAX_VAL_PIXELS)
    object_target = target / total * total_objects

    def objects_allow(held_objects: int, objects: int) -> bool:
        return (held_objects + objects / 2 <= object_target
                and held_objects + objects <= total_objects / 2)

    most = len(candidates) // 2
    picked, held, held_objects = [], 0, 0
    for i in rng.permutation(len(candidates)):
        count, objects = candidates[i][2:]
        if len(picked) < most and held + count / 2 <= target and objects_allow(held_objects,
                                                                                 objects):
            picked.append(i)
            held, held_objects = held + count, held_objects + objects
    if not picked:  # every block is larger than twice the target: take the closest
        allowed = [i for i in range(len(candidates)) if objects_allow(0, candidates[i][3])]
        picked = [min(allowed, key=lambda i: abs(candidates[i][2] - target))] if allowed else []
    if sum(candidates[i][2] for i in picked) < MIN_VAL_PIXELS:
        return []  # (a verdict on a few pixels is noise: they are worth more in training)
    return [(candidates[i][0], tuple(slice(j * b, (j + 1) * b)
                                     for j, b in zip(candidates[i][1], block)))
            for i in picked]


def make_val_crop(slab: Slab, target, weight, block: tuple[slice, ...], size, margin) -> ValCrop:
    """The block plus ``margin`` pixels of context: ``size + 2 * margin`` per axis (``size``:
    the full block size), moved inwards at the slab's edges, so that crops share one shape
    and evaluate in batches."""
    shape = slab.labels.shape
    crop = []
    for b, s, m, n in zip(block, size, margin, shape):
        extent = min(s + 2 * m, n)
        start = min(max(b.start - m, 0), n - extent)
        crop.append(slice(start, start + extent))
    crop = tuple(crop)
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
        origin=slab.origin,
    )


def plane_axes(example, spatial_dims: int) -> str:
    """The axis letters of ``example``'s leading (non-network) axes: "T" for the frames of
    a TYX movie under a 2D network; "" when it has none or its axes are not known."""
    leading = example.labels.ndim - spatial_dims
    return example.axes[:leading] if leading > 0 and len(example.axes) == example.labels.ndim \
        else ""


def data_hash(examples) -> str:
    """A hex digest of what training learns from: every example's image, labels, reviewed
    and changed masks (bytes, dtype and shape) and intensity percentiles."""
    digest = hashlib.blake2b(digest_size=16)
    for example in examples:
        intensity = example.intensity
        for array in (example.image, example.labels, example.reviewed, example.changed,
                      None if intensity is None else intensity.low,
                      None if intensity is None else intensity.high):
            _hash_array(digest, array)
    return digest.hexdigest()


def _hash_array(digest, array) -> None:
    if array is None:
        digest.update(b"none;")
        return
    array = np.asarray(array)
    digest.update(f"{array.dtype.str}{array.shape};".encode())
    _hash_bytes(digest, array)


def _hash_bytes(digest, array: np.ndarray) -> None:
    """The pixel bytes in C order, ``HASH_CHUNK_BYTES`` at a time: a large stack is never
    copied whole (a strided view is copied a piece at a time)."""
    if array.flags.c_contiguous:
        flat = array.reshape(-1).view(np.uint8)
        for start in range(0, flat.size, HASH_CHUNK_BYTES):
            digest.update(flat[start:start + HASH_CHUNK_BYTES])
    elif array.ndim == 1:
        step = max(1, HASH_CHUNK_BYTES // array.itemsize)
        for start in range(0, array.size, step):
            digest.update(np.ascontiguousarray(array[start:start + step]).view(np.uint8))
    elif array.nbytes <= HASH_CHUNK_BYTES:
        digest.update(np.ascontiguousarray(array).reshape(-1).view(np.uint8))
    else:
        for part in array:
            _hash_bytes(digest, part)


def harvest(examples, *, spatial_dims, in_channels, task, config, patch_shape, rng,
            replay=()) -> Harvest:
    """Prepare training volumes, validation crops and replay volumes for one run."""
    normalising = {"lower": task.lower_percentile, "upper": task.upper_percentile,
                   "invert": getattr(task, "invert_intensity", False)}
    slabs = list(iter_slabs(examples, spatial_dims=spatial_dims, in_channels=in_channels,
                            **normalising))
    if not slabs:
        raise ValueError("no reviewed pixels in the training examples: review some regions first")
    unknown_pixels, unknown_notes = check_unknown_classes(slabs, examples, task)
    block = val_block_shape(slabs, patch_shape, config.val_fraction)
    margin = tuple(p // 4 for p in patch_shape)
    val_blocks = choose_val_blocks(slabs, block, config.val_fraction, rng)
    prepared = [slab_targets(slab, task, config) for slab in slabs]
    val, held_out = [], [np.zeros(s.labels.shape, dtype=bool) for s in slabs]
    for s, block_slices in val_blocks:
        crop = make_val_crop(slabs[s], *prepared[s], block_slices, block, margin)
        crop.plane_axes = plane_axes(examples[slabs[s].origin[0]], spatial_dims)
        val.append(crop)
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
                           **normalising):
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
        # Counts alone match for other data of the same size (a flipped image), and a
        # checkpoint of that run would be resumed on it: its content tells them apart.
        "data_hash": data_hash([*examples, *replay]),
    }
    if unknown_pixels:  # (reviewed labels that are no class of a semantic model: left out)
        summary.update(unknown_class_pixels=unknown_pixels, unknown_class_notes=unknown_notes)
    if not train:
        raise ValueError("all reviewed pixels went to validation; review a larger region")
    return Harvest(train=train, val=val, replay=replay_volumes, summary=summary)
