"""What a Segment run that does not finish (cancelled, refused, failed) leaves behind: the
labels as they were before it.

The labels it streamed into are put back (``LiveLabelsDestination.restore``: reviewed pixels
were never touched). An image that had no labels got a new, empty labels layer at Run (the
tiles stream into it); left empty, it would read as "segmented, nothing found", so it is
closed again. A layer that holds something is kept: a cancelled run keeps nothing of its
own, but the user may have painted into the layer meanwhile, or a closed layer's saved
corrections came back into it at Run.
"""

from __future__ import annotations

import numpy as np

from unet_studio.models.slab_label import slabs

SLAB_PIXELS = 1 << 22  # labels read at once while looking for an object (16 MiB of int32)


def put_labels_back(session, live) -> None:
    """Undo what the run (streaming into ``live``, a LiveLabelsDestination, or None) did to
    the labels of ``session`` (a StudioSession). GUI thread."""
    if live is None:
        return
    if live.written:
        live.restore()  # (done already by the worker as a cancelled or failed run stopped)
        session.host.refresh_labels()
        session.live_labels_changed(live.labels, live.target)
    if live.made_layer and holds_nothing(live.labels):
        session.close_labels(live.labels)


def holds_nothing(labels: np.ndarray) -> bool:
    """True when no pixel of ``labels`` belongs to an object. Read a slab of planes at a
    time, stopping at the first object: a big stack's labels live in a file."""
    if labels.ndim == 0:
        return not labels
    return not any(np.asarray(labels[core]).any() for core, _ in slabs(labels.shape, SLAB_PIXELS))
