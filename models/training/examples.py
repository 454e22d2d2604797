"""What the user hands to training: an image, its corrected labels and what was reviewed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class TrainingExample:
    """One corrected image (2D or 3D, optionally with a leading channel axis).

    image: ``(*spatial)`` or ``(C, *spatial)``; labels: integer ``(*spatial)`` (instance ids,
    or class indices for a semantic model); reviewed: bool ``(*spatial)``, True where the
    user checked the labels (None: everything) - only these pixels are learned from;
    changed: bool ``(*spatial)``, True where the user edited the prediction (None: nothing),
    weighted up in the loss. ``spatial`` may have more axes than the network (a Z stack
    for a 2D network is learned slice by slice).
    """

    image: np.ndarray
    labels: np.ndarray
    reviewed: np.ndarray | None = None
    changed: np.ndarray | None = None
    name: str = ""

    def __post_init__(self):
        labels = np.asarray(self.labels)
        if labels.dtype == bool:
            labels = labels.astype(np.uint8)
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"labels must be an integer array, got dtype {labels.dtype}")
        image = np.asarray(self.image)
        if image.shape != labels.shape and image.shape[1:] != labels.shape:
            raise ValueError(
                f"image shape {image.shape} must equal labels shape {labels.shape} "
                "or add one leading channel axis"
            )
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "image", image)
        for name in ("reviewed", "changed"):
            mask = getattr(self, name)
            if mask is None:
                continue
            mask = np.asarray(mask)
            if mask.shape != labels.shape:
                raise ValueError(f"{name} shape {mask.shape} must equal labels shape {labels.shape}")
            object.__setattr__(self, name, mask.astype(bool, copy=False))

    @property
    def has_channel_axis(self) -> bool:
        return self.image.ndim == self.labels.ndim + 1

    @property
    def in_channels(self) -> int:
        return self.image.shape[0] if self.has_channel_axis else 1

    @property
    def reviewed_mask(self) -> np.ndarray:
        if self.reviewed is None:
            return np.ones(self.labels.shape, dtype=bool)
        return self.reviewed

    @property
    def changed_mask(self) -> np.ndarray:
        if self.changed is None:
            return np.zeros(self.labels.shape, dtype=bool)
        return self.changed


def normalize_example(image: np.ndarray, lower: float, upper: float) -> np.ndarray:
    """``(C, *spatial)`` -> float32, each channel's ``lower``/``upper`` percentile to 0/1.

    Computed once over the whole example with the inference engine's functions, so that a
    patch sees the intensities the network will see at prediction time.
    """
    from unet_studio.models.normalize import normalize_intensity, percentile_range

    low, high = percentile_range(image, lower, upper, channel_axis=0)
    return normalize_intensity(image, low, high, channel_axis=0)


@dataclass(eq=False)
class Slab:
    """One network-sized piece of an example: all leading axes fixed.

    image: float32 ``(C, *spatial)`` normalised; labels: int ``(*spatial)``; reviewed and
    changed: bool ``(*spatial)``; ``origin``: (example index, leading indices).
    """

    image: np.ndarray
    labels: np.ndarray
    reviewed: np.ndarray
    changed: np.ndarray
    origin: tuple


def iter_slabs(
    examples, *, spatial_dims: int, in_channels: int, lower: float, upper: float
) -> Iterator[Slab]:
    """Cut examples into ``spatial_dims``-D slabs that contain reviewed pixels.

    A 3D example for a 2D network gives one slab per Z slice (per leading index in
    general); slices without reviewed pixels are skipped.
    """
    for index, example in enumerate(examples):
        if example.in_channels != in_channels:
            raise ValueError(
                f"example {example.name or index} has {example.in_channels} channel(s), "
                f"the network takes {in_channels}"
            )
        if example.labels.ndim < spatial_dims:
            raise ValueError(
                f"example {example.name or index} is {example.labels.ndim}D, the network "
                f"needs at least {spatial_dims} spatial axes"
            )
        image = example.image if example.has_channel_axis else example.image[None]
        image = normalize_example(image, lower, upper)
        reviewed, changed = example.reviewed_mask, example.changed_mask
        lead_shape = example.labels.shape[: example.labels.ndim - spatial_dims]
        for lead in np.ndindex(*lead_shape):
            if not reviewed[lead].any():
                continue
            yield Slab(
                image=image[(slice(None), *lead)],
                labels=example.labels[lead],
                reviewed=reviewed[lead],
                changed=changed[lead],
                origin=(index, *lead),
            )
