"""One prediction over a stack, group by group (a group is one time point, or the whole
image without T): the tiles of each group streamed into the output (masks, probabilities)
or kept as two masks until the group's watershed (instance labels), time points linked as
they are labelled, the one on screen first (``StackRun.order_groups``). Driven by
``pipeline.iter_predict_image``, which sets it up; apart from it to keep each module small.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from unet_studio.models import postprocess as post
from unet_studio.models.generators import relay
from unet_studio.models.inference import iter_run_plan
from unet_studio.models.mapped import copy_in_slabs
from unet_studio.models.object_confidence import ConfidenceTally, ObjectConfidence
from unet_studio.models.provisional import provisional_labels
from unet_studio.models.scratch import scratch_zeros
from unet_studio.models.task import TaskSpec
from unet_studio.models.tile_order import tile_priority
from unet_studio.models.time_links import MAX_GAP, TimeLinker

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
    the pixels read by the pass over the stack for its intensity range (no region).
    ``linked``: False on the "postprocess" step of a time point labelled ahead of its turn
    (``StackRun.preview``): its labels are written under ids of their own, linked to the
    other time points (and written again) only in their turn.
    ``confidence``: on a "postprocess" step of instance labels, how sure the model was of
    what it called objects over the run so far, every tile before it (``StackRun.tally``):
    the last step's is the run's."""

    stage: str
    done: float
    total: int
    region: tuple[slice, ...] | None
    objects: int | None = None
    linked: bool = True
    confidence: ObjectConfidence | None = None


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


def _tile_transform(task: TaskSpec, output_type: str, options: dict,
                    tally: ConfidenceTally | None = None):
    """What a tile's logits become in the output, and whether it keeps a channel axis.
    Instance labels: the two masks, their object pixels counted into ``tally``."""
    threshold = options.get("threshold", 0.5)
    if output_type == "probabilities":
        return post.probabilities_from_logits, True
    if task.kind == "instance" and output_type == "labels":
        return _counted_instance_masks(threshold, tally or ConfidenceTally()), True
    if task.kind == "instance":
        return (lambda b: post.foreground_mask(post.softmax(b), threshold=threshold)
                .astype(np.uint8)), False
    return (lambda b: post.semantic_mask(post.probabilities_from_logits(b), threshold=threshold)), False


def _counted_instance_masks(threshold: float, tally: ConfidenceTally):
    def transform(block):
        probabilities = post.softmax(block)
        objects, interior = post.instance_masks(probabilities, threshold=threshold)
        tally.count(probabilities, objects)  # (while the probabilities are at hand)
        return np.stack((objects, interior))
    return transform


class StackRun:
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
        # How sure the model was of its objects (instance labels), each tile's core counted
        # once as it arrives. (A "blend" plan, for networks that are not tile-local, writes
        # overlapping cores: there the share is an estimate, its pixels counted per write.)
        self.tally = ConfidenceTally()
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
        transform, channels = _tile_transform(self.task, self.output_type, self.options,
                                              self.tally)
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
                yield ImageProgress("postprocess", self.done, self.total, group_region, objects,
                                    linked=False, confidence=self.tally.totals())
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
        return ImageProgress("postprocess", self.done, self.total, region, objects,
                             confidence=self.tally.totals())

    def _write_provisional(self, masks, group, region) -> None:
        """Quick labels of one finished tile's core, with ids unique in this run so far."""
        labels, count = provisional_labels(masks[(0, *region)], masks[(1, *region)])
        if count:
            labels[labels > 0] += self.next_id - 1
            self.next_id += count
        self.out[(*group, *region)] = labels


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
