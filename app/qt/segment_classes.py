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
from unet_studio.app.labels_kind import KindMismatch, kind_text


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


# A run whose model's kind is not that of the labels it would write into (a class map and
# an objects model, or objects and a semantic model), where the user reviewed corrections:
# the run kept them as they were yet recorded the whole layer as the model's kind, so that
# Delete over a nucleus in a reviewed frame deleted all its class-1 pixels.
MIXED = ("{layer} holds {held} with reviewed corrections, and {model} {outputs}: running it "
         "would mix the two in one layer. Choose {wanted} in the Models panel, or start new "
         "labels (remove or rename the labels layer), then Run")
# ...and with nothing reviewed, the run replaces them (said in its Done line).
REPLACED = " (replacing the {held} the labels held)"


def check_labels_kind(session, request, whole: bool) -> str:
    """Raise a UserError when a run of ``request`` (the current model) would write the
    other kind of labels into the labels being corrected than they are recorded as, and
    they hold reviewed corrections or the run covers only part of them (``whole`` False:
    it would leave the rest as they are, recorded as the model's kind). Returns what the
    Done line adds when the run replaces them (REPLACED), else ""."""
    from unet_studio.app.errors import UserError
    from unet_studio.app.host import labels_layer_name
    from unet_studio.app.qt.segment_results import holds_instances

    host, model = session.host, session.model
    wanted = model_classes(model)
    writes_labels = request.output_type == "labels" or (wanted and request.output_type == "mask")
    held = getattr(host, "labels_classes", lambda: None)()
    if not writes_labels or host.current_labels() is None or held is None:
        return ""  # (other outputs go to layers of their own; nothing recorded: no kind yet)
    if tuple(held) == tuple(wanted):
        return ""
    reviewed = session.ensure_reviewed()
    if (reviewed is not None and reviewed.any()) or not whole:
        layer = labels_layer_name(host)
        instances = holds_instances(request, model.task)
        mismatch = KindMismatch(tuple(held), () if instances else tuple(wanted))
        raise UserError(MIXED.format(
            layer=f"'{layer}'" if layer else "the labels", held=kind_text(mismatch.held),
            model=model.name, outputs=f"outputs {kind_text(mismatch.wanted)}",
            wanted=mismatch.wanted_model))
    return REPLACED.format(held="class map" if held else "objects")


# A region of labels on disk (a memory-mapped stack too big for RAM) up to this many pixels
# is read for its shares (64 MiB of int32 ids, just written, so mostly still in the page
# cache): the slice of a big stack is counted as the slice of a small one is, while the whole
# of a big stack is not read on the GUI thread.
ON_DISK_PIXELS = 1 << 24


def class_shares_text(labels, target, names) -> str:
    """What a semantic run's Done line says it found: each class's share of the region
    segmented (": background 81%, mitochondria 12%, membrane 7%"), not objects. A region
    past CHECKED_PIXELS (ON_DISK_PIXELS for labels on disk) is not counted (a pass would
    freeze the window), nor labels of another array type (a lazy one may read the disk)."""
    from unet_studio.app.class_map import CHECKED_PIXELS
    from unet_studio.app.class_shares import class_shares_text as shares_text

    region = None if labels is None else labels[target]
    limit = ON_DISK_PIXELS if isinstance(region, np.memmap) else CHECKED_PIXELS
    if not isinstance(region, np.ndarray) or region.size > limit or region.size == 0:
        return f": a class map of {', '.join(names)}"
    region = np.asarray(region)  # (a memory-mapped region: read once, here)
    counts = np.bincount(np.clip(region.ravel(), 0, len(names)).astype(np.intp),
                         minlength=len(names) + 1)[:len(names)]  # (values past the classes: left out)
    return f": {shares_text(counts, region.size, names)}"
