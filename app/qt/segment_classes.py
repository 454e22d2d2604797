"""A semantic model's Segment run streaming its class map into the labels
(``app.class_map``): its classes recorded on them when the run starts, so that the first
tiles already show in the classes' fixed colours (not napari's random colours per value),
and the Correct panel offers the class picker and greys the object tools while it runs.
A run that does not finish gives the labels back as they were, and what they were with
them (``put_classes_back``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_studio.app.class_map import model_classes, settled_classes


@dataclass
class ClassesBefore:
    """What the labels ``labels`` were recorded as before the run recorded its classes on
    them: class names, () for objects, None for nothing recorded."""

    labels: np.ndarray
    names: tuple[str, ...] | None


def record_run_classes(session, live: np.ndarray) -> ClassesBefore | None:
    """Record the current (semantic) model's classes on ``live``, the labels a run streams
    into, when they are the labels being corrected; returns what they were recorded as
    before (None when nothing was recorded now)."""
    host = session.host
    record = getattr(host, "record_labels_classes", None)
    if record is None or host.current_labels() is not live:
        return None
    before = ClassesBefore(live, host.labels_classes())
    record(model_classes(session.model))
    return before


def put_classes_back(session, before: ClassesBefore | None) -> None:
    """A run that recorded its classes (``before``) did not finish, and its labels were
    put back: so is what they are. Unrecorded before, they are settled as the current
    model's rule settles them (``class_map.settled_classes``): nothing can be unrecorded.
    Labels closed, or no longer the ones corrected, are left alone."""
    host = session.host
    if before is None or host.current_labels() is not before.labels:
        return
    names = before.names
    if names is None:
        names = settled_classes(before.labels, session.model)
    host.record_labels_classes(names)
