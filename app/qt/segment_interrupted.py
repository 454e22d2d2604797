"""What a Segment run that does not finish (cancelled, refused, failed) leaves behind: the
labels as they were before it (a series stopped with "Stop, keep done": its time points
done, the others as they were).

The labels it streamed into are put back (``LiveLabelsDestination.restore``: reviewed pixels
were never touched). An image that had no labels got a new, empty labels layer at Run (the
tiles stream into it); left empty, it would read as "segmented, nothing found", so it is
closed again. A layer that holds something is kept: a cancelled run keeps nothing of its
own, but the user may have painted into the layer meanwhile, or a closed layer's saved
corrections came back into it at Run.
"""

from __future__ import annotations

import numpy as np

from unet_studio.models.slab_label import SLAB_PIXELS, slabs


def put_labels_back(session, live, shown: bool = True) -> None:
    """Undo what the run (streaming into ``live``, a LiveLabelsDestination, or None) did to
    the labels of ``session`` (a StudioSession). GUI thread. A run over a series stopped
    with "Stop, keep done" kept its time points done (the worker put back the others:
    ``LiveLabelsDestination.keep_finished``): with the job's image ``shown`` (current), they
    are taken as a finished run's labels are, saved (a project made for them if need be)
    and the undo history restarted (its steps were taken on the labels before)."""
    if live is None:
        return
    if live.kept_time_points and shown:
        session.finish_streamed_prediction(live.labels)
        return
    if live.written:
        live.restore()  # (done already by the worker as a cancelled or failed run stopped)
        session.host.refresh_labels()
        session.live_labels_changed(live.labels, live.target)
    if live.made_layer and holds_nothing(live.labels):
        session.close_labels(live.labels)


def holds_nothing(labels: np.ndarray) -> bool:
    """True when no pixel of ``labels`` belongs to an object. Read a slab of planes at a
    time, stopping at the first object: a big stack's labels live in a file, whose holes
    are zeros unread (``sparse_extent``: after a cancel, 20 GB of them were read)."""
    from unet_studio.app.qt.live_prepare import may_hold_data
    from unet_studio.models.sparse_extent import data_planes

    if labels.ndim == 0:
        return not labels
    planes = data_planes(labels)
    return not any(np.asarray(labels[core]).any() for core, _ in slabs(labels.shape, SLAB_PIXELS)
                   if may_hold_data(planes, core))


def stopped_text(kept: int, total: int) -> str:
    """The status line after "Stop, keep done": ``kept`` of ``total`` time points kept."""
    if not kept:
        return "Stopped before any time point was done; the labels were left as they were."
    return f"Stopped: {kept} of {total} time points kept; the others were left as they were."
