"""What the Segment panel runs: choosing the pixels, and the prediction generator.

The panel builds a :class:`SegmentJob` on the GUI thread (reading only the host's state, no
pixels); :func:`iter_segment` then runs in a worker thread: it loads the network, runs the
engine's ``iter_predict_image`` and returns a :class:`SegmentResult`; the panel shows it on
the GUI thread, keeping reviewed regions (``StudioSession.show_labels``). What is on screen
runs first (``SegmentJob.first``); streamed labels arrive tile by tile, provisional until
their time point's (or volume's) watershed replaces them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.qt.live_labels import ObjectsShown, objects_shown
from unet_studio.app.qt.segment_channels import channel_index, channel_mismatch
from unet_studio.app.qt.segment_intensity import iter_find_intensity, pixels_key

OUTPUT_TYPES = ("labels", "mask", "probabilities")
SCOPES = ("stack", "slice")


@dataclass(frozen=True)
class SegmentRequest:
    """The panel's choices. ``tile``: core tile size (None: automatic); ``scope``: "stack"
    (everything) or "slice" (the plane or frame on screen); ``channel``: which channel of
    an image with a C axis (None: all, for multi-channel models). ``min_size`` (pixels or
    voxels) and ``seed_height`` (pixels: how deep the dip between touching objects must be
    to split them) override the model's post-processing defaults; None keeps them."""

    model_path: Path
    device: str = "auto"
    tile: int | None = None
    output_type: str = "labels"
    scope: str = "stack"
    axes: str | None = None
    channel: int | None = None
    min_size: int | None = None
    seed_height: float | None = None

    def __post_init__(self):
        if self.output_type not in OUTPUT_TYPES:
            raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {self.output_type!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {SCOPES}, got {self.scope!r}")
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
    # Which pixels ``data`` are (a segment_intensity.PixelsKey; None: not to be cached).
    pixels: object = None

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


class NetCache:
    """The network of the last run, for the next run of the same model (``model_key``):
    loading holds the interpreter lock (the GUI stutters) for 15-100 ms with the bundled
    model (2-core VM), longer for a bigger one.
    Filled from the worker thread the moment the network is loaded (one run at a time, and
    the next one reads it only after this one ended), so a cancelled run keeps it too."""

    def __init__(self):
        self._kept: tuple = (None, None)  # (model_key, network)

    def get(self, key: tuple):
        """The network loaded for ``key``, or None."""
        kept_key, net = self._kept
        return net if kept_key == key else None

    def keep(self, key: tuple, net) -> None:
        self._kept = (key, net)  # (one assignment: never a key paired with another's net)


def model_key(path) -> tuple:
    """Identifies a model folder's current weights (a retrained model gets a new key)."""
    weights = Path(path) / "model.safetensors"
    return (str(Path(path).resolve()), weights.stat().st_mtime_ns if weights.exists() else 0)


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
    data = _select(image.data, tuple(index))
    data_axes = "".join(a for a, i in zip(axes, index) if isinstance(i, slice))
    first = visible_first(view_state, axes, index, image.shape)
    return SegmentJob(request, data, data_axes, target, labels_shape, image.name,
                      dict(image.scale), first, pixels_key(image.data, axes, tuple(index)))  # fmt: skip


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
        if letter == "C" or not isinstance(chosen, slice):
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


def iter_segment(job: SegmentJob, library, out=None, net=None, known: dict | None = None,
                 on_intensity=None, on_net=None, block_pixels: int | None = None):
    """Load the model and run the prediction; yields engine progress, returns SegmentResult.

    ``out``: where the engine streams its output (e.g. a LiveLabelsDestination), or None.
    ``net``: the network already loaded by an earlier run of the same model, or None; else
    it is loaded here and handed to ``on_net(net)`` at once (this thread), so that the
    next run reuses it even when this one is cancelled.
    ``known``: intensity ranges an earlier run took over the same pixels (percentiles ->
    IntensityRange, see ``segment_intensity``); otherwise one pass over the pixels takes it,
    here, once per run, yielding "intensity" progress every ``block_pixels`` pixels read
    (None: the engine's block) and cancellable between them. ``on_intensity(IntensityFound)``:
    called (in this thread) once the range is there, before the first tile. A UserError
    naming the image when no pixel is finite.
    Runs in a worker thread: touches no widget, layer or session state.
    """
    from unet_studio.app.predict_files import input_chunks
    from unet_studio.models.inference import iter_predict_image
    from unet_studio.models.task import TaskSpec

    request = job.request
    if net is None:
        net = library.load(request.model_path, device="cpu")
        if on_net is not None:
            on_net(net)
    task = getattr(net, "task", None) or TaskSpec()
    found = yield from iter_find_intensity(job, task, known or {}, block_pixels)
    if on_intensity is not None:
        on_intensity(found)
    image, axes = job.data, job.axes
    tiling = {"tile_shape": request.tile} if request.tile else {}
    output = yield from iter_predict_image(
        net, image, axes=axes, task=task, output_type=request.output_type,
        device=request.device, out=out, scale=job.scale, first=job.first,
        provisional=out is not None, postprocess=request.postprocess_options(),
        intensity=found.intensity, chunks=input_chunks(image), **tiling,
    )  # fmt: skip
    shown = None
    if out is not None and hasattr(out, "finish"):
        out.finish()  # tidy the streamed labels here, off the GUI thread
        shown = out.objects_shown()  # (counted here too: a pass over the labels)
    if out is None:  # (streamed: the result is in the live labels, in their order)
        output = in_labels_order(output, engine_output_axes(net, job), job.axes)
    else:
        output = None
    name = (getattr(net, "metadata", None) or {}).get("name") or getattr(net, "name", "model")
    return SegmentResult(job, output, str(name), net, shown)


def engine_output_axes(net, job: SegmentJob) -> str:
    """The axes of the engine's result for ``job`` (it puts T before Z, and the model's
    spatial axes last, C first for probabilities)."""
    from unet_studio.models.pipeline import output_axes
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.views import StackLayout

    task = getattr(net, "task", None) or TaskSpec()
    layout = StackLayout.from_axes(np.shape(job.data), job.axes, net, task)
    return output_axes(layout, job.request.output_type)


def in_labels_order(output: np.ndarray, axes: str, data_axes: str) -> np.ndarray:
    """``output`` (axes ``axes``) with its axes in the image's order (``data_axes`` without
    C; probabilities keep C first), as the labels layer and the image have them: a ZTYX
    stack's result comes back TZYX, and a reshape alone would mix its planes up."""
    front = "C" if axes.startswith("C") else ""
    wanted = front + data_axes.replace("C", "")
    return np.transpose(output, [axes.index(letter) for letter in wanted])


def merge_into_labels(result: SegmentResult, current: np.ndarray | None) -> np.ndarray:
    """The full labels array with the result written into its target region.

    Scope "stack" gives the result itself. Scope "slice" writes one plane into a copy of
    the current labels (or zeros), shifting the new ids above the ones already used so that
    objects of other planes keep their ids.
    """
    job = result.job
    output = result.output
    if all(s == slice(None) for s in job.target):
        return output.reshape(job.labels_shape)
    if current is None or current.shape != job.labels_shape:
        current = np.zeros(job.labels_shape, dtype=np.int32)
    merged = current.copy()
    block = output.reshape(merged[job.target].shape).astype(merged.dtype, copy=False)
    if holds_instances(result.job.request, result.net):  # (a class map's values are classes)
        outside = merged.copy()
        outside[job.target] = 0
        offset = int(outside.max())
        block = np.where(block > 0, block + offset, 0).astype(merged.dtype)
    merged[job.target] = block
    return merged


def objects_shown_kept(live: np.ndarray, job: SegmentJob, reviewed) -> ObjectsShown | None:
    """The objects of the job's region of ``live`` (labels just shown, reviewed regions
    kept), or None when none of its pixels is reviewed."""
    if reviewed is None or reviewed.shape != live.shape or not reviewed.any():
        return None
    kept = reviewed.mask[job.target]
    return objects_shown(live[job.target], kept, job.time_axis) if kept.any() else None


def holds_instances(request: SegmentRequest, model) -> bool:
    """Are the labels of ``request`` objects, each its own id (an instance model's labels),
    rather than a semantic model's classes? ``model``: a network, or a ModelInfo's task dict."""
    task = model if isinstance(model, dict) else getattr(model, "task", None)
    kind = task.get("kind") if isinstance(task, dict) else getattr(task, "kind", None)
    return request.output_type == "labels" and (kind or "instance") == "instance"


def is_foreground_mask(result: SegmentResult) -> bool:
    """A mask of an instance model (objects against background). A semantic model's mask
    is its class map: the labels to correct."""
    task = getattr(result.net, "task", None)
    return result.job.request.output_type == "mask" and getattr(task, "kind", "instance") == "instance"
