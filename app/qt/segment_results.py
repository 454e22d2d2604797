"""What a finished Segment run's output becomes on the GUI thread: merged into the labels
being corrected (a slice's new ids above the ones already used, a whole image's objects
under the ids they were shown with), its objects counted where reviewed regions kept the
user's, and which outputs are objects, classes or a mask to show
beside them. Apart from ``segment_logic`` because none of it runs in the worker.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.qt.live_counts import ObjectsShown, objects_shown
from unet_studio.app.qt.live_labels import covers_everything
from unet_studio.app.qt.segment_job import SegmentJob, SegmentRequest, SegmentResult
from unet_studio.app.shown_ids import keep_shown_ids


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


def keep_ids_shown_before(labels: np.ndarray, before: np.ndarray | None, job: SegmentJob,
                          reviewed) -> None:  # fmt: skip
    """In place: a whole image segmented again (``before``: its labels shown before the run,
    or None) gives its objects the ids they had (``shown_ids``), so colours, tables and the
    user's track cuts and joins hold. A plane segmented alone takes its neighbours' ids
    instead (``continue_neighbour_ids``): the target must be everything here."""
    whole = covers_everything(job.target, job.labels_shape)
    if before is None or not whole or np.shape(labels) != tuple(job.labels_shape):
        return
    kept = None
    if reviewed is not None and reviewed.shape == np.shape(labels) and reviewed.any():
        kept = reviewed.mask[job.target]
    keep_shown_ids(labels, before, job.target, kept, job.time_axis)


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
