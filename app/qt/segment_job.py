"""What a Segment run is: the panel's choices (:class:`SegmentRequest`), the pixels they
select and where the result goes (:class:`SegmentJob`, planned by :func:`plan_job` on the GUI
thread from the host's state, reading no pixels), and what comes back
(:class:`SegmentResult`). Apart from ``segment_logic`` (the generator a worker thread runs)
because this is the run's data and the GUI thread's planning, which the layout, the result
merging and the CLI tests share without the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.qt.segment_channels import (
    LUMINANCE,
    channel_index,
    channel_mismatch,
    luminance_view,
)
from unet_studio.app.qt.segment_intensity import pixels_key

OUTPUT_TYPES = ("labels", "mask", "probabilities")
SCOPES = ("stack", "slice")


@dataclass(frozen=True)
class SegmentRequest:
    """The panel's choices. ``tile``: core tile size (None: automatic); ``scope``: "stack"
    (everything) or "slice" (the plane or frame on screen); ``channel``: which channel of
    an image with a C axis (None: all, for multi-channel models; "luminance": the grey
    values of an RGB(A) image's colours, for a 1-channel model). ``min_size`` (pixels or
    voxels) and ``seed_height`` (pixels: how deep the dip between touching objects must be
    to split them) override the model's post-processing defaults; None keeps them."""

    model_path: Path
    device: str = "auto"
    tile: int | None = None
    output_type: str = "labels"
    scope: str = "stack"
    axes: str | None = None
    channel: int | str | None = None
    min_size: int | None = None
    seed_height: float | None = None

    def __post_init__(self):
        if self.output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {self.output_type!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {self.scope!r}")
        if isinstance(self.channel, str) and self.channel != LUMINANCE:
            raise ValueError(f"channel must be an index, None or {LUMINANCE!r}, got {self.channel!r}")
        if self.tile is not None and self.tile < 16:
            raise ValueError(f"tile size must be at least 16 pixels, got {self.tile}")
        if self.min_size is not None and self.min_size < 0:
            raise ValueError(f"minimum object size must be 0 or more, got {self.min_size}")
        if self.seed_height is not None and not self.seed_height > 0:
            raise ValueError(f"split depth must be more than 0 pixels, got {self.seed_height}")

    def postprocess_options(self) -> dict:
        """The post-processing options this request overrides (the model's stand for the rest)."""
        chosen = {"min_size": self.min_size, "seed_height": self.seed_height}
        return {key: value for key, value in chosen.items() if value is not None}


@dataclass(frozen=True)
class SegmentJob:
    """Pixels to segment and where the result goes.

    ``data``: array-like with axes ``axes`` (lazy; read by the worker). ``target``: region
    of the labels array (labels axes = the image's without C) the result fills;
    ``labels_shape``: shape of the full labels array; ``scale``: pixel size per axis letter.
    """

    request: SegmentRequest
    data: object
    axes: str
    target: tuple[slice, ...]
    labels_shape: tuple[int, ...]
    image_name: str
    scale: dict
    # What to segment first (the frame/slice and field of view on screen), a slice per
    # axis letter of ``data`` in its own coordinates; None: the plain order.
    first: dict | None = None
    # The pixels the intensity range is taken over (a segment_intensity.PixelsKey; None:
    # not to be cached) and those pixels, lazily, with their axes: the whole image with the
    # same pick along C, also for a run on the plane shown, so that the plane is normalised
    # as a whole-stack run and a Train round normalise it (by its own range alone, a
    # plane's objects came out otherwise: 6 objects against 12 on a phase-contrast frame).
    pixels: object = None
    range_data: object = None
    range_axes: str = ""

    @property
    def time_axis(self) -> int | None:
        """The labels' T axis (labels axes: ``axes`` without C), None without one."""
        letters = self.axes.replace("C", "")
        return letters.index("T") if "T" in letters else None

    @property
    def streams_into_labels(self) -> bool:
        """Labels stream into the live layer when the engine's output axes come out in the
        labels' order (it puts T before Z); otherwise the result is shown at the end."""
        letters = self.axes.replace("C", "")
        in_order = letters == "".join(a for a in "TZYX" if a in letters)
        return self.request.output_type == "labels" and in_order


@dataclass
class SegmentResult:
    job: SegmentJob
    # labels/mask (*target shape) or probabilities (C, *target shape); None when the
    # output was streamed into the live labels
    output: np.ndarray | None
    model_name: str
    net: object = None  # the network used, for the next run to reuse
    # The objects of the streamed labels as shown, where reviewed pixels kept the user's
    # corrections instead of the prediction (an ObjectsShown); None: as the engine counted.
    shown: object = None
    # A time series' distinct ids in the region segmented (its tracks), else None.
    tracks: int | None = None


def job_time_points(job: SegmentJob) -> int:
    """How many time points ``job`` segments (1 without a T axis)."""
    axis = job.time_axis
    if axis is None:
        return 1
    return len(range(*job.target[axis].indices(job.labels_shape[axis])))


def plan_job(image, request: SegmentRequest, view_state, model_spatial_axes: str,
             in_channels: int | None = None, model_name: str = "the model") -> SegmentJob:
    """Select the pixels of ``image`` (a HostImage) the request asks for.

    ``model_spatial_axes``: what the network sees per sample, e.g. "YX" (2D: slices and
    frames of a stack are run one by one) or "ZYX". ``in_channels``: what the model takes
    (None: unchecked), to pick the channels that fit it (``segment_channels``).
    """
    axes = (request.axes or image.axes).upper()
    if len(axes) != len(image.shape) or set(axes) - set("TZCYX") or len(set(axes)) != len(axes):
        raise UserError(f"axes {axes!r} do not fit the image {image.name} of shape {image.shape}; "
                        "use one distinct letter of T, Z, C, Y, X per axis")
    if not set(model_spatial_axes) <= set(axes):
        raise UserError(f"the model needs {model_spatial_axes} axes; the image has {axes}")
    index: list = [slice(None)] * len(axes)
    if "C" in axes:  # (an integer: the C axis goes away)
        index[axes.index("C")] = channel_index(axes, image.shape, request.channel, in_channels,
                                               image.name, model_name)
    elif in_channels not in (None, 1):
        raise UserError(channel_mismatch(model_name, in_channels, image.name, 1))
    if request.scope == "slice" and view_state is not None:
        for axis, letter in enumerate(axes):
            if letter not in model_spatial_axes and letter != "C":
                position = view_state.position[axis]
                index[axis] = slice(position, position + 1)
    label_axes = [a for a, letter in enumerate(axes) if letter != "C"]
    labels_shape = tuple(image.shape[a] for a in label_axes)
    target = tuple(index[a] for a in label_axes)
    data, data_axes = _selected(image, axes, index)
    first = visible_first(view_state, axes, index, image.shape)
    whole = [pick if letter == "C" else slice(None) for letter, pick in zip(axes, index)]
    range_data, range_axes = (data, data_axes) if whole == index else _selected(image, axes, whole)
    return SegmentJob(request, data, data_axes, target, labels_shape, image.name,
                      dict(image.scale), first, pixels_key(image.data, axes, tuple(whole)),
                      range_data, range_axes)  # fmt: skip


def _selected(image, axes: str, index: list) -> tuple:
    """``(data, axes)`` of the pixels ``index`` (a slice or int per axis of ``axes``, or
    LUMINANCE on C) selects, lazily: luminance reads all colours of the region and gives
    their grey values, the C axis gone."""
    if LUMINANCE not in index:
        data = _select(image.data, tuple(index))
        return data, "".join(a for a, i in zip(axes, index) if isinstance(i, slice))
    colours = [slice(None) if i == LUMINANCE else i for i in index]
    data = _select(image.data, tuple(colours))
    kept = "".join(a for a, i in zip(axes, colours) if isinstance(i, slice))
    return luminance_view(data, kept.index("C"), image.name), kept.replace("C", "")


def visible_first(view_state, axes: str, index: tuple, shape: tuple[int, ...]) -> dict | None:
    """The part of the selected pixels on screen, a slice per axis letter (no C) in the
    selection's coordinates: the slice or frame shown and the field of view (clipped to the
    selection, at least one pixel). None without a view."""
    region = getattr(view_state, "visible_region", None)
    if region is None or len(region) != len(axes):
        return None
    first = {}
    for axis, letter in enumerate(axes):
        chosen = index[axis]
        if letter == "C" or not isinstance(chosen, slice):  # (an int, or LUMINANCE on C)
            continue
        start, stop, _ = chosen.indices(shape[axis])
        size = max(stop - start, 1)
        lo = min(max(region[axis].start - start, 0), size - 1)
        hi = min(max(region[axis].stop - start, lo + 1), size)
        first[letter] = slice(lo, hi)
    return first


def _select(data, index: tuple):
    """``data[index]``, lazily when the array type allows (memmap, zarr, LazyArray)."""
    if all(isinstance(s, slice) and s == slice(None) for s in index):
        return data
    return data[index]
