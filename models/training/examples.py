"""What the user hands to training: an image, its corrected labels and what was reviewed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SourceIntensity:
    """The intensity percentiles of the whole image an example was cut from.

    Prediction normalises with the percentiles of the whole image or stack, so an example
    cropped to its reviewed region is normalised with these, not with its own: a crop of
    dim nuclei would otherwise be stretched brighter than the network will see them.
    ``low``/``high``: float64 ``(C,)``, the ``lower``/``upper`` percentiles per channel (a
    float64 image's may lie beyond float32's range).
    """

    lower: float
    upper: float
    low: np.ndarray
    high: np.ndarray

    def __post_init__(self):
        for name in ("low", "high"):
            object.__setattr__(self, name, np.atleast_1d(np.asarray(getattr(self, name), np.float64)))
        if self.low.shape != self.high.shape or self.low.ndim != 1:
            raise ValueError(f"low and high must be (C,) arrays, got {self.low.shape} and {self.high.shape}")


@dataclass(frozen=True, eq=False)
class TrainingExample:
    """One corrected image (2D or 3D, optionally with a leading channel axis).

    image: ``(*spatial)`` or ``(C, *spatial)``; labels: integer ``(*spatial)`` (instance ids,
    or class indices for a semantic model); reviewed: bool ``(*spatial)``, True where the
    user checked the labels (None: everything) - only these pixels are learned from;
    changed: bool ``(*spatial)``, True where the user edited the prediction (None: nothing),
    weighted up in the loss. ``spatial`` may have more axes than the network (a Z stack
    for a 2D network is learned slice by slice). ``intensity``: the percentiles of the whole
    image when this example is a crop of it (None: the example is normalised on its own).
    ``axes``: the labels' axis letters ("TYX"; "" when not known) and ``offset``: where the
    example starts in its image (() at its origin), so that messages name a pixel as the
    user finds it ("t=3, y=40, x=12").
    """

    image: np.ndarray
    labels: np.ndarray
    reviewed: np.ndarray | None = None
    changed: np.ndarray | None = None
    name: str = ""
    intensity: SourceIntensity | None = None
    axes: str = ""
    offset: tuple[int, ...] = ()

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
        if self.intensity is not None and self.intensity.low.size != self.in_channels:
            raise ValueError(f"intensity has {self.intensity.low.size} channel(s), "
                             f"the image {self.in_channels}")

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


def normalize_example(image: np.ndarray, lower: float, upper: float,
                      intensity: SourceIntensity | None = None, *,
                      invert: bool = False) -> np.ndarray:
    """``(C, *spatial)`` -> float32, each channel's ``lower``/``upper`` percentile to 0/1
    (then to 1/0 with ``invert``: the task's ``invert_intensity``).

    The percentiles are those of the whole source image (``intensity``, when it was taken
    at these percentiles), else computed once over the whole example, with the inference
    engine's functions, so that a patch sees the intensities the network will see at
    prediction time.
    """
    from unet_studio.models.normalize import normalize_intensity

    low, high = example_range(image, lower, upper, intensity)
    return normalize_intensity(image, low, high, channel_axis=0, invert=invert)


def example_range(image: np.ndarray, lower: float, upper: float,
                  intensity: SourceIntensity | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``(C,)`` low and high an example ``(C, *spatial)`` is normalised by: its source
    image's (``intensity``, when taken at these percentiles), else its own."""
    from unet_studio.models.normalize import percentile_range

    if intensity is not None and (intensity.lower, intensity.upper) == (lower, upper):
        return intensity.low, intensity.high
    return percentile_range(image, lower, upper, channel_axis=0)


# Elements of a mask reduced at once when finding its box: a whole-stack temporary (a
# uint8 copy for find_objects) cost a big stack seconds and its size again in memory.
BOX_SLAB_ELEMENTS = 1 << 24


def reviewed_box(reviewed: np.ndarray, margin) -> tuple[slice, ...] | None:
    """The bounding box of the reviewed pixels grown by ``margin`` (one int, or one per
    axis), clipped to the array; None if nothing is reviewed.

    Found by ``any`` reductions slab by slab along the first axis (no copy of the mask):
    which slabs' planes hold reviewed pixels, and the union of those planes' footprints."""
    reviewed = np.asarray(reviewed)
    if reviewed.dtype != bool:
        reviewed = reviewed != 0  # (small masks only: the app's are bool)
    if reviewed.ndim == 0:
        return () if reviewed else None
    extents = _reviewed_extents(reviewed)
    if extents is None:
        return None
    margins = np.broadcast_to(np.asarray(margin, dtype=int), (reviewed.ndim,))
    return tuple(slice(max(start - int(m), 0), min(stop + int(m), n))
                 for (start, stop), m, n in zip(extents, margins, reviewed.shape))


def _reviewed_extents(reviewed: np.ndarray) -> list[tuple[int, int]] | None:
    """(start, stop) of the True pixels along each axis of a bool array (ndim >= 1)."""
    plane_size = max(int(np.prod(reviewed.shape[1:], dtype=np.int64)), 1)
    step = max(1, BOX_SLAB_ELEMENTS // plane_size)
    planes = np.zeros(reviewed.shape[0], dtype=bool)  # which planes hold reviewed pixels
    footprint = np.zeros(reviewed.shape[1:], dtype=bool)  # their union
    for start in range(0, reviewed.shape[0], step):
        slab = reviewed[start:start + step]
        found = slab.reshape(len(slab), -1).any(axis=1)
        if found.any():
            planes[start:start + step] = found
            footprint |= slab[found].any(axis=0)
    if not planes.any():
        return None
    extents = [_span(planes)]
    for axis in range(footprint.ndim):
        others = tuple(a for a in range(footprint.ndim) if a != axis)
        extents.append(_span(footprint.any(axis=others) if others else footprint))
    return extents


def _span(flags: np.ndarray) -> tuple[int, int]:
    where = np.flatnonzero(flags)
    return int(where[0]), int(where[-1]) + 1


def crop_to_reviewed(example: TrainingExample, margin: int = 32) -> TrainingExample | None:
    """The example cut to the bounding box of its reviewed pixels grown by ``margin`` (None
    when nothing is reviewed), keeping the whole example's intensity percentiles."""
    box = reviewed_box(example.reviewed_mask, margin)
    if box is None:
        return None
    image_box = (slice(None), *box) if example.has_channel_axis else box
    return TrainingExample(
        image=np.array(example.image[image_box]), labels=np.array(example.labels[box]),
        reviewed=np.array(example.reviewed_mask[box]), changed=np.array(example.changed_mask[box]),
        name=example.name, intensity=example.intensity, axes=example.axes,
        offset=tuple(o + b.start for o, b in zip(example.offset or (0,) * len(box), box)),
    )


def example_from_image(pixels, labels, reviewed, changed=None, *, channel_axis: int | None = None,
                       name: str = "", lower: float, upper: float,
                       margin=32, axes: str = "") -> TrainingExample | None:
    """A TrainingExample of the reviewed part of a whole image (None if nothing is reviewed).

    ``pixels`` and ``labels``: array-likes (numpy, memory-mapped or lazy); ``labels``,
    ``reviewed`` and ``changed``: ``(*spatial)``, the pixels' shape without ``channel_axis``.
    Only the reviewed bounding box (plus ``margin`` of context, one int or one per axis) is
    read and copied, so a stack larger than RAM with a few corrected slices costs those
    slices; the intensity percentiles are taken over the whole image (one streamed pass), as
    prediction takes them. ``axes``: the labels' axis letters, for messages.
    """
    box = reviewed_box(reviewed, margin)
    if box is None:
        return None
    changed = None if changed is None else np.array(changed[box])
    return example_from_box(pixels, box, np.array(labels[box]), np.array(reviewed[box]), changed,
                            channel_axis=channel_axis, name=name, lower=lower, upper=upper,
                            axes=axes)


def example_from_box(pixels, box: tuple[slice, ...], labels, reviewed, changed=None, *,
                     channel_axis: int | None = None, name: str = "", lower: float,
                     upper: float, axes: str = "") -> TrainingExample:
    """The TrainingExample of ``box`` of an image whose labels and masks in that box are
    given: reads the box of ``pixels`` and the whole image's intensity percentiles (the slow
    part for a big stack, so it can run apart from copying the labels)."""
    reading = iter_example_from_box(pixels, box, labels, reviewed, changed,
                                    channel_axis=channel_axis, name=name, lower=lower, upper=upper,
                                    axes=axes)
    while True:
        try:
            next(reading)
        except StopIteration as stop:
            return stop.value


def iter_example_from_box(pixels, box: tuple[slice, ...], labels, reviewed, changed=None, *,
                          channel_axis: int | None = None, name: str = "", lower: float,
                          upper: float, intensity: SourceIntensity | None = None,
                          axes: str = ""):
    """:func:`example_from_box` step by step: yields a ``CensusProgress`` after every block
    of the pass over the whole image (seconds per GiB), so that a GUI shows it move and can
    cancel it between blocks; returns the TrainingExample. ``intensity``: the image's range
    at these percentiles when already known (no pass then); ``axes``: the labels' axis
    letters (messages name pixels by them)."""
    from unet_studio.models.normalize import iter_intensity_range

    if intensity is None or (intensity.lower, intensity.upper) != (lower, upper):
        found = yield from iter_intensity_range(pixels, lower, upper, channel_axis=channel_axis)
        intensity = SourceIntensity(lower, upper, found.low, found.high)
    if channel_axis is None:
        image = np.asarray(pixels[box])
    else:
        channel_axis %= len(pixels.shape)
        index = (*box[:channel_axis], slice(None), *box[channel_axis:])
        image = np.moveaxis(np.asarray(pixels[index]), channel_axis, 0)
    return TrainingExample(image=image, labels=labels, reviewed=reviewed, changed=changed,
                           name=name, intensity=intensity, axes=axes,
                           offset=tuple(b.start or 0 for b in box))


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
    examples, *, spatial_dims: int, in_channels: int, lower: float, upper: float,
    invert: bool = False,
) -> Iterator[Slab]:
    """Cut examples into ``spatial_dims``-D slabs that contain reviewed pixels, normalised
    as the network sees them (``invert``: the task's ``invert_intensity``).

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
        image = normalize_example(image, lower, upper, example.intensity, invert=invert)
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
