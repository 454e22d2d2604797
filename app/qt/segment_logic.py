"""What the Segment panel runs: the prediction generator and the network kept between runs.

The panel builds a :class:`SegmentJob` on the GUI thread (``segment_job.plan_job``, reading
only the host's state, no pixels); :func:`iter_segment` then runs in a worker thread: it
loads the network, runs the engine's ``iter_predict_image`` and returns a
:class:`SegmentResult`; the panel shows it on the GUI thread, keeping reviewed regions
(``StudioSession.show_labels``). What is on screen runs first (``SegmentJob.first``);
streamed labels arrive tile by tile, provisional until their time point's (or volume's)
watershed replaces them.

The job's types and planning live in ``segment_job``, the merging of a result into the
labels in ``segment_results``; their names are importable from here as before.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from unet_studio.app.qt.segment_intensity import iter_find_intensity
from unet_studio.app.qt.segment_job import (
    OUTPUT_TYPES,
    SCOPES,
    SegmentJob,
    SegmentRequest,
    SegmentResult,
    plan_job,
    visible_first,
)
from unet_studio.app.qt.segment_results import (
    holds_instances,
    is_foreground_mask,
    merge_into_labels,
    objects_shown_kept,
)

__all__ = [
    "OUTPUT_TYPES", "SCOPES", "NetCache", "SegmentJob", "SegmentRequest", "SegmentResult",
    "engine_output_axes", "holds_instances", "in_labels_order", "is_foreground_mask",
    "iter_segment", "merge_into_labels", "model_key", "objects_shown_kept", "plan_job",
    "visible_first",
]  # fmt: skip


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
    naming the image when no pixel is finite. Then ``out`` reads what it needs of the
    labels before its first write (``LiveLabelsDestination.iter_prepare``: "backup"
    progress), here rather than on the GUI thread, and as late as can be, so that a cancel
    puts back the edits made since Run too. ``out.note(progress)`` (when it has one) sees
    each step of the engine: a run stopped with ``out.keep_done`` keeps the time points it
    noted done (``out.keep_finished``) instead of putting everything back.
    Runs in a worker thread: touches no widget, layer or session state.
    """
    from unet_studio.app.predict_files import input_chunks
    from unet_studio.models.generators import relay
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
    if hasattr(out, "iter_prepare"):
        yield from out.iter_prepare()
    image, axes = job.data, job.axes
    tiling = {"tile_shape": request.tile} if request.tile else {}
    try:
        engine = iter_predict_image(
            net, image, axes=axes, task=task, output_type=request.output_type,
            device=request.device, out=out, scale=job.scale, first=job.first,
            provisional=out is not None, postprocess=request.postprocess_options(),
            intensity=found.intensity, chunks=input_chunks(image), **tiling,
        )  # fmt: skip
        if hasattr(out, "note"):  # (it notes the time points done, for "Stop, keep done")
            engine = relay(engine, out.note)
        output = yield from engine
        return _result(job, net, output, out)
    except BaseException as stopped:  # cancelled (the generator closed) or failed
        # Put back here, not on the GUI thread: a stack's labels take seconds to copy.
        if isinstance(stopped, GeneratorExit) and getattr(out, "keep_done", False):
            out.keep_finished()  # (stopped, keeping the time points done)
        elif getattr(out, "written", False):
            out.restore()
        raise


def _result(job: SegmentJob, net, output, out) -> SegmentResult:
    """The run's SegmentResult: the engine's ``output`` in the labels' order, or, streamed
    into ``out``, none but the objects shown (in the worker thread, as the rest)."""
    shown = None
    if out is not None and hasattr(out, "finish"):
        out.finish()  # tidy the streamed labels here, off the GUI thread
        shown = out.objects_shown()  # (counted here too: a pass over the labels)
    if out is None:  # (streamed: the result is in the live labels, in their order)
        output = in_labels_order(output, engine_output_axes(net, job), job.axes)
    else:
        output = None
    return SegmentResult(job, output, _model_name(net, job.request.model_path), net, shown,
                         series_tracks(job, net, output, out))


def _model_name(net, model_path) -> str:
    """The model's name as the panel shows it (``ModelInfo.name``): the one its config
    records, else its folder's name. Never the architecture's (``net.name``, "unet"): the
    Done line would name another model than the "Segmenting ... with" line before it."""
    recorded = (getattr(net, "metadata", None) or {}).get("name")
    folder = Path(model_path)
    return str(recorded or folder.name or folder.resolve().name)


def series_tracks(job: SegmentJob, net, output, out) -> int | None:
    """The distinct ids of a time series' labels in the region segmented, as shown (its
    tracks: "885 objects in 5 time points" alone reads as 885 cells); None for anything
    else. Worker thread: a pass over the region, a slab at a time."""
    from unet_studio.app.distinct_ids import count_ids

    axis = job.time_axis
    if axis is None or not holds_instances(job.request, net):
        return None
    labels = out.labels[out.target] if out is not None else output
    if labels is None or labels.shape[axis] < 2:
        return None
    return count_ids(labels, job.axes.replace("C", ""))


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
