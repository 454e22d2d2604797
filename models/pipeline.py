"""The whole prediction pipeline on a stack: normalise, tile, post-process.

An image with axes over "TZCYX" is seen by the network as ``(*outer, C, *spatial)``:
``spatial`` are the network's axes (``task.spatial_axes``, e.g. YX), ``outer`` the rest (T,
and Z for a 2D network run slice by slice). Intensities are normalised with percentiles
computed once over the whole stack. Outputs are computed per group: one time point (or the
whole image without T), so that 3D labels come from one watershed over the whole volume.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from unet_studio.models import postprocess as post
from unet_studio.models.chunk_order import ChunkGrid
from unet_studio.models.generators import relay
from unet_studio.models.inference import iter_run_plan, prepare_plan
from unet_studio.models.mapped import PageReleaser, copy_in_slabs
from unet_studio.models.normalize import (
    IntensityRange,
    intensity_range,
    iter_intensity_range,
    log_intensity_findings,
)
from unet_studio.models.percentiles import BLOCK_PIXELS
from unet_studio.models.postprocess_options import check_postprocess
from unet_studio.models.provisional import provisional_labels
from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.task import TaskSpec
from unet_studio.models.tile_order import tile_priority
from unet_studio.models.tile_runner import InferenceSession
from unet_studio.models.time_links import MAX_GAP, TimeLinker
from unet_studio.models.views import ModelInputView, StackLayout

OUTPUT_TYPES = ("labels", "mask", "probabilities")
OUTPUT_DTYPES = {"labels": np.int32, "mask": np.uint8, "probabilities": np.float32}
# The labels of the time point on screen wait for their turn to be linked while every time
# point before it is labelled: above this many bytes they wait on disk (``scratch_zeros``).
SET_ASIDE_BYTES = 64 * 2**20


@dataclass(frozen=True)
class ImageProgress:
    """``done`` of ``total`` steps; ``region`` (over the output's non-channel axes) is final
    for "predict" steps of mask/probability outputs and for every "postprocess" step; for
    labels with ``provisional``, a "predict" step's region holds that tile's quick labels.
    "labelling" steps come between a group's tiles and its "postprocess" step, one per
    batch of objects labelled: ``done`` grows by the fraction labelled, no region.
    ``objects``: on a "postprocess" step of instance labels, how many objects that group
    (time point) holds (its ids are 1..objects, or with ``link_over_time`` those of the
    objects they continue and new ones). ``iter_image_intensity``'s "intensity" steps count
    the pixels read by the pass over the stack for its intensity range (no region)."""

    stage: str
    done: float
    total: int
    region: tuple[slice, ...] | None
    objects: int | None = None


def output_axes(layout: StackLayout, output_type: str) -> str:
    """Axes of the result: the outer then spatial axes, with C in front for probabilities."""
    front = "C" if output_type == "probabilities" else ""
    return front + "".join(layout.outer_axes) + "".join(layout.spatial_axes)


class _TileDestination:
    """Receives network outputs ``(C, *core)`` per tile (keys ``(*inner, :, *core)``) and
    writes what the output type needs into ``target`` at ``(:, *prefix, *inner, *core)``
    (channel slice only when the transform keeps channels)."""

    def __init__(self, target, shape, prefix, transform, channels: bool):
        self.target, self.shape = target, shape
        self.prefix, self.transform, self.channels = prefix, transform, channels

    def __setitem__(self, key, block):
        inner = len(self.shape) - np.ndim(block)
        value = self.transform(np.asarray(block))
        front = (slice(None),) if self.channels else ()
        self.target[(*front, *self.prefix, *key[:inner], *key[inner + 1:])] = value


def _tile_transform(task: TaskSpec, output_type: str, options: dict):
    threshold = options.get("threshold", 0.5)
    if output_type == "probabilities":
        return post.probabilities_from_logits, True
    if task.kind == "instance" and output_type == "labels":
        return (lambda b: np.stack(post.instance_masks(post.softmax(b), threshold=threshold))), True
    if task.kind == "instance":
        return (lambda b: post.foreground_mask(post.softmax(b), threshold=threshold)
                .astype(np.uint8)), False
    return (lambda b: post.semantic_mask(post.probabilities_from_logits(b), threshold=threshold)), False


def _check_model(net, task: TaskSpec) -> None:
    if task.kind == "instance" and int(net.out_channels) != 3:
        raise ValueError(f"an instance model needs 3 output channels, this one has {net.out_channels}")
    if task.kind == "semantic" and int(net.out_channels) != task.out_channels:
        raise ValueError(f"the task names {task.out_channels} classes, the network gives {net.out_channels}")


def _allocate(out, shape, dtype):
    if out is None:
        return np.zeros(shape, dtype=dtype)
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out must have shape {tuple(shape)}, got {tuple(out.shape)}")
    return out


def postprocess_options(task: TaskSpec, overrides: dict | None) -> dict:
    """The model's post-processing defaults (``task.extra["postprocess"]``, saved with the
    model because a good ``min_size`` depends on the data it was trained for) under the
    caller's explicit options (checked: ``check_postprocess``)."""
    return check_postprocess({**dict(task.extra.get("postprocess", {})), **dict(overrides or {})})


def iter_predict_image(net, image, *, axes: str, task: TaskSpec | None = None,
                       output_type: str = "labels", tile_shape=None, device="auto",
                       batch_size=None, amp=True, mode="auto", tta=False, out=None,
                       scale: dict | None = None, postprocess: dict | None = None,
                       first: dict | None = None, provisional: bool = False,
                       intensity: IntensityRange | None = None, chunks: ChunkGrid | None = None,
                       ) -> Generator[ImageProgress, None, object]:
    """Labels ``int32``, mask ``uint8`` or probabilities ``float32`` for a whole stack.

    ``image``: array-like with ``axes`` (a string over "TZCYX"), read lazily tile by tile.
    Result axes: ``output_axes(...)``: the input's without C (T before Z when both are
    there), and for probabilities the class channel first, e.g. ``"CZYX"``. ``scale``: pixel
    size per axis, any unit (for the watershed's distances, relative to the in-plane pixel:
    ``relative_sampling``); ``postprocess``: options of
    ``labels_from_masks`` plus ``threshold``, ``link_over_time`` (default True: in a
    time series an object keeps its id from one time point to the next, see
    ``time_links``; False: ids 1..N in each) and ``link_max_gap`` (how many time points in
    a row an object may be missed and still take up its id after them; default
    ``time_links.MAX_GAP``), over the model's own defaults in
    ``task.extra["postprocess"]``. Mask and probability outputs stream into
    ``out`` tile by tile; labels keep two bits per pixel of one time point until its
    watershed, which runs in batches (``batched_labels``), both in a scratch file when
    too big for RAM (``scratch``). Closing the generator stops between tiles.

    ``first``: what to do first, a slice per axis letter of the result (e.g. the frame and
    field of view on screen, ``{"T": slice(3, 4), "Y": slice(0, 200), "X": ...}``; axes left
    out count as whole): its time point runs first, and within each, the tiles meeting it,
    nearest its centre first. The result is the same in any order: linked time points are
    linked in time order, the one on screen (labelled first, shown under ids 1..N of its
    own meanwhile) in its turn. ``provisional``: for
    instance labels, each finished tile also writes quick labels of its core into ``out``
    (see ``provisional_labels``), so a viewer of ``out`` sees objects arrive tile by tile;
    the group's watershed labels replace them when the group is done.

    ``intensity``: the stack's ``image_intensity`` when the caller took it already (to tell
    the user what it found, naming the file); else it is taken here, once for the whole
    stack, before the first tile. A ValueError when the stack has no finite pixel.

    ``chunks``: how ``image`` is stored (a ``ChunkGrid`` over its ``axes``, from its reader):
    with chunks several planes deep, a 2D network's tiles then run slab by slab and chunk by
    chunk, so that each chunk is decoded about once (``chunk_order``); the result is the same.
    """
    task = task or getattr(net, "task", None) or TaskSpec()
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
    _check_model(net, task)
    layout = StackLayout.from_axes(image.shape, axes, net, task)
    if intensity is None:
        intensity = image_intensity(image, axes, task)
        log_intensity_findings(intensity, "the image")
    lo, hi = intensity.low, intensity.high
    channels = (int(net.out_channels),) if output_type == "probabilities" else ()
    out = _allocate(out, (*channels, *layout.output_shape()), OUTPUT_DTYPES[output_type])
    with InferenceSession(net, device, amp=amp, tta=tta) as session:
        inner = [range(layout.sizes[a]) for a in layout.inner_axes]
        plan, geometry, batch = prepare_plan(
            session, net, layout.spatial_shape, tile_shape=tile_shape, mode=mode,
            outers=list(itertools.product(*inner)), batch_size=batch_size,
            first=_first_region(layout, first, layout.inner_axes + layout.spatial_axes),
            chunks=_tile_chunks(layout, chunks))
        run = _StackRun(session, ModelInputView(image, layout, lo, hi), layout, plan, geometry,
                        batch, out, task, output_type, postprocess_options(task, postprocess), scale,
                        PageReleaser(image, out))
        run.order_groups(_first_region(layout, first, layout.group_axes))
        run.provisional = provisional and run.watershed
        yield from run.iter_all()
    return out


class _StackRun:
    """One prediction over a stack, group by group (a group = one time point)."""

    def __init__(self, session, source, layout, plan, geometry, batch, out, task, output_type,
                 options, scale, pages):
        self.session, self.source, self.layout = session, source, layout
        self.plan, self.geometry, self.batch = plan, geometry, batch
        self.out, self.task, self.output_type = out, task, output_type
        self.options, self.scale, self.pages = options, scale, pages
        self.watershed = output_type == "labels" and task.kind == "instance"
        self.provisional = False  # write quick per-tile labels (see iter_predict_image)
        self.preview = None  # a time point labelled first, linked later in time order
        self.next_id = 1  # first id of the next tile's provisional labels
        self.done = 0
        self.groups = list(itertools.product(*[range(layout.sizes[a])
                                               for a in layout.group_axes]))
        self.total = len(self.groups) * (len(plan) + int(self.watershed))
        # Time points linked as they are labelled (a group is one time point: its index).
        linked = self.watershed and options.get("link_over_time", True)
        self.linker = (TimeLinker(len(self.groups), max_gap=int(options.get("link_max_gap", MAX_GAP)))
                       if linked and len(self.groups) > 1 and len(layout.group_axes) == 1 else None)

    def order_groups(self, first: tuple[slice, ...] | None) -> None:
        """Run the group (time point) meeting ``first`` (a slice per group axis) first, then
        the others nearest first. Linked time points go in time order after it (their ids
        then equal a run without ``first``): the time point on screen is labelled first and
        shown under ids of its own, then linked again in its turn (``self.preview``)."""
        if first is None or not self.groups or not self.groups[0]:
            return
        self.groups.sort(key=lambda group: tile_priority(
            tuple(slice(i, i + 1) for i in group), first))
        if self.linker is not None and self.groups[0] != min(self.groups):
            # (linking outwards from it, backwards in time, gave other ids and tracks)
            self.preview = self.groups[0]
            self.groups = [self.preview, *sorted(self.groups)]
            self.total += 1  # (its linking, a step of its own)

    def iter_all(self) -> Generator[ImageProgress, None, None]:
        held = None  # the preview's labels, labelled once, until its turn to be linked
        for group in self.groups:
            if group != self.preview:
                yield from self.iter_group(group)
            elif held is None:
                held = yield from self.iter_group(group, link=False)
            else:
                yield self._finish_labels(group, held, None)
                held = None
        self.pages.release()

    def iter_group(self, group: tuple[int, ...], link: bool = True,
                   ) -> Generator[ImageProgress, None, np.ndarray | None]:
        """Tiles streamed into ``out`` (mask, probabilities) or kept as two masks (labels).
        ``link=False``: the labels go into ``out`` under their own ids 1..N, not linked
        yet, and are returned (kept for ``_finish_labels`` in their turn)."""
        layout = self.layout
        transform, channels = _tile_transform(self.task, self.output_type, self.options)
        inner_shape = tuple(layout.sizes[a] for a in layout.inner_axes)
        net_shape = (*inner_shape, int(self.session.net.out_channels), *layout.spatial_shape)
        if self.watershed:
            # Two bits per pixel of a whole time point: on disk when that is too much for RAM.
            masks = scratch_zeros((2, *inner_shape, *layout.spatial_shape), bool)
            self.pages.add(masks)
            destination = _TileDestination(masks, net_shape, (), transform, channels)
        else:
            destination = _TileDestination(self.out, net_shape, group, transform, channels)
        group_source = _GroupSource(self.source, len(layout.group_axes), group)
        group_region = tuple(slice(i, i + 1) for i in group)
        for progress in iter_run_plan(self.session, group_source, self.plan, destination,
                                      self.geometry, self.batch, self.pages):
            if self.provisional:
                self._write_provisional(masks, group, progress.region)
            self.done += 1
            yield ImageProgress("predict", self.done, self.total, group_region + progress.region)
        if self.watershed:
            # A step per batch of objects: the bar moves, and a cancel stops there.
            labels = yield from relay(
                _iter_group_labels(masks, layout, self.options, self.scale),
                lambda fraction: ImageProgress("labelling", self.done + fraction, self.total, None))
            objects = int(labels.max()) if labels.size else 0  # (ids are sequential)
            self.pages.arrays = [a for a in self.pages.arrays if a is not masks]
            if not link:
                copy_in_slabs(self.out, labels, group)
                self.done += 1
                yield ImageProgress("postprocess", self.done, self.total, group_region, objects)
                return _set_aside(labels)
            yield self._finish_labels(group, labels, objects)
        return None

    def _finish_labels(self, group, labels, objects: int | None) -> ImageProgress:
        """A time point's labels linked to the time points before (in place) and written
        into ``out``; ``objects``: their count, None when told already (the preview)."""
        if self.linker is not None:  # (before it reaches ``out``: in place, in slabs)
            self.linker.link(group[0], labels)
        copy_in_slabs(self.out, labels, group)
        self.done += 1
        region = tuple(slice(i, i + 1) for i in group)
        return ImageProgress("postprocess", self.done, self.total, region, objects)

    def _write_provisional(self, masks, group, region) -> None:
        """Quick labels of one finished tile's core, with ids unique in this run so far."""
        labels, count = provisional_labels(masks[(0, *region)], masks[(1, *region)])
        if count:
            labels[labels > 0] += self.next_id - 1
            self.next_id += count
        self.out[(*group, *region)] = labels


def image_intensity(image, axes: str, task: TaskSpec) -> IntensityRange:
    """The normalisation range of a whole stack with ``axes`` (one per channel when it has
    a C axis) at the task's percentiles: what ``iter_predict_image`` normalises by."""
    return intensity_range(image, task.lower_percentile, task.upper_percentile,
                           channel_axis=_channel_axis(axes))


def iter_image_intensity(image, axes: str, task: TaskSpec, *, block_pixels: int = BLOCK_PIXELS,
                         ) -> Generator[ImageProgress, None, IntensityRange]:
    """:func:`image_intensity` step by step: an "intensity" ImageProgress after every block
    of ``block_pixels`` pixels read (a 20 GiB stack takes ~30 s: a GUI shows it move, and
    cancels between two blocks by closing the generator)."""
    return (yield from relay(
        iter_intensity_range(image, task.lower_percentile, task.upper_percentile,
                             channel_axis=_channel_axis(axes), block_pixels=block_pixels),
        lambda step: ImageProgress("intensity", step.done, step.total, None)))


def _channel_axis(axes: str) -> int | None:
    return axes.upper().index("C") if "C" in axes.upper() else None


def _first_region(layout, first: dict | None, axes) -> tuple[slice, ...] | None:
    """``first`` (slices by axis letter) over ``axes``, whole axes where it says nothing."""
    if first is None:
        return None
    unknown = set(first) - set(layout.outer_axes + layout.spatial_axes) - {"C"}
    if unknown:
        raise ValueError(f"first names axes {sorted(unknown)} that the result does not have "
                         f"({''.join(layout.outer_axes + layout.spatial_axes)})")
    return tuple(first.get(a, slice(0, layout.sizes[a])) for a in axes)


def _tile_chunks(layout, chunks: ChunkGrid | None) -> ChunkGrid | None:
    """The image's chunk grid over the plan's tile axes (inner then spatial)."""
    if chunks is None:
        return None
    if len(chunks.shape) != len(layout.axes):
        raise ValueError(f"chunks must give one extent per image axis ({layout.axes}), "
                         f"got {chunks.shape}")
    return chunks.take([layout.axes.index(a) for a in layout.inner_axes + layout.spatial_axes])


def relative_sampling(scale: dict | None, axes) -> tuple[float, ...] | None:
    """The watershed's pixel sizes along ``axes``: ``scale`` (a file's calibration, in µm or
    any unit) over the in-plane pixel's (Y and X), so that distances in the post-processing
    ("grow", "seed_height") stay in in-plane pixels, as the model's defaults and the
    command line mean them, whatever the calibration, while a coarser Z step still counts
    as the longer step it is. None without a scale (every step 1)."""
    if not scale:
        return None
    sizes = [float(scale.get(a, 1.0)) for a in axes]
    sizes = [s if math.isfinite(s) and s > 0 else 1.0 for s in sizes]
    plane = [size for a, size in zip(axes, sizes) if a in "YX"]
    unit = math.prod(plane) ** (1 / len(plane)) if plane else min(sizes)
    return tuple(size / unit for size in sizes)


def _set_aside(labels: np.ndarray) -> np.ndarray:
    """``labels`` kept for later, in RAM only when small (a 3D time point's may be GBs)."""
    if labels.nbytes <= SET_ASIDE_BYTES or isinstance(labels, np.memmap):
        return labels
    kept = scratch_zeros(labels.shape, labels.dtype, ram_bytes=SET_ASIDE_BYTES)
    copy_in_slabs(kept, labels, ())
    return kept


def _iter_group_labels(masks, layout, options, scale):
    """Watershed over the whole group (a 2D image, or the full 3D volume of 2D slices):
    yields the fraction done, returns the labels."""
    sampling = relative_sampling(scale, (*layout.inner_axes, *layout.spatial_axes))
    kwargs = {k: v for k, v in options.items()
              if k not in ("threshold", "link_over_time", "link_max_gap")}
    return (yield from post.iter_labels_from_masks(masks[0], masks[1], sampling=sampling, **kwargs))


class _GroupSource:
    """The part of a ``(*group, *inner, C, *spatial)`` view for one group index."""

    def __init__(self, source, n_group: int, group: tuple[int, ...]):
        self.source, self.group = source, group
        self.shape = source.shape[n_group:]

    def __getitem__(self, key):
        return self.source[(*self.group, *key)]
