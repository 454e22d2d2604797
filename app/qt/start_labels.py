"""Labels begun by hand from the Correct panel, and a user's 8- or 16-bit labels widened.

An image without labels gets empty labels made as the app makes its own (``session.
show_labels``: 32-bit ids, the image's shape without C, over the image with its scale,
attached to the project and saved like any correction), so napari's brush paints objects
into them from the first stroke. A labels layer made with napari's own "New labels layer"
button holds 8-bit ids: they end at 255, too few for a stack or a time series, and
:func:`widen_labels` gives it 32-bit ids with the same objects.
"""

from __future__ import annotations

import weakref

import numpy as np

from unet_studio.app.class_map import refuse_on_class_map
from unet_studio.app.errors import UserError
from unet_studio.app.host import labels_layer_name
from unet_studio.app.label_ids import NoFreeId
from unet_studio.app.qt.session_project import labels_shape
from unet_studio.models.scratch import scratch_zeros

LABELS_DTYPE = np.dtype(np.int32)  # the app's own labels (a prediction's, see labels_for_prediction)
NEXT_STEP = "paint an object with napari's brush, then press New label id for the next one"


class LabelStarting:
    """New label id (a mixin of :class:`ObjectTools`, using its ``session`` and ``host``):
    an unused id to paint a new object with, on labels started for the purpose when the image
    has none, and on narrow labels widened (after the user agrees) when their ids ran out."""

    _widen_offer = None  # (weak reference to the labels whose widening the user was offered)
    _note = ("", -1, None)  # (what New label id last started, the labels changes then, the labels)

    def fresh_label(self) -> int:
        """Pick an unused label id for painting a new object and select napari's brush with
        it; returns it."""
        refuse_on_class_map(self.session, "New label id")
        labels = self.host.current_labels()
        if labels is None:
            note = start_labels(self.session)
            labels = self.host.current_labels()
            self._note = (note, self.session.labels_changes, weakref.ref(labels))
            self.host.notify(note)
        try:
            label = self.session.fresh_label_id(labels)
        except NoFreeId as full:
            label = self._widened_id(labels, full)
        # (napari's brush paints on the active layer: with the image layer active, the
        # stroke after New label id panned the view)
        getattr(self.host, "activate_labels", lambda: None)()
        if hasattr(self.host, "set_selected_label"):
            self.host.set_selected_label(label)
        return label

    def new_label_id(self, labels: np.ndarray) -> int:
        """An id for an object the tools add (Split, Add object): as the session's fresh id,
        saying how to go on where narrow labels ran out of them."""
        try:
            return self.session.fresh_label_id(labels)
        except NoFreeId as full:
            if not can_widen(labels):
                raise
            raise UserError(f"{ran_out(labels_layer_name(self.host), full)}: press New label "
                            "id to give it 32-bit ids, then try again") from None  # fmt: skip

    def started_note(self) -> str:
        """What New label id started, until the labels change or others are shown (the
        status line's start)."""
        note, changes, labels = self._note
        shown = labels is not None and labels() is self.host.current_labels()
        return f"{note} " if shown and changes == self.session.labels_changes else ""

    def _widened_id(self, labels: np.ndarray, full: NoFreeId) -> int:
        """The first press where narrow ``labels`` ran out of ids offers to widen them, the
        next one widens them; returns the id after the largest they held. Ctrl+Z still
        takes back the edits made before (``widen_labels``)."""
        name = labels_layer_name(self.host)
        if not can_widen(labels) or name is None:
            raise UserError(f"{ran_out(name, full)}: Relabel 1..N frees the ids between "
                            "objects; or save it, close it and press New label id to start "
                            "32-bit labels") from None  # fmt: skip
        if self._widen_offer is None or self._widen_offer() is not labels:
            self._widen_offer = weakref.ref(labels)
            # (what to do first: a notification shows its first line only, and 'no free
            # label id left...' alone read as a dead end on a laptop screen)
            raise UserError(f"Press New label id again to give '{name}' 32-bit ids with the "
                            f"same objects: {used_up(full)}.") from None  # fmt: skip
        self._widen_offer = None
        wide = widen_labels(self.session, name)
        self.host.notify(f"'{name}' now holds 32-bit ids (up to {np.iinfo(wide.dtype).max:,})")
        # (above every id the narrow labels held, erased ones too: as FreshIds would)
        return max(self.session.fresh_label_id(wide), full.largest + 1)


def ran_out(name: str | None, full: NoFreeId) -> str:
    """'The labels ran out of ids', said of layer ``name``."""
    where = "" if name is None else f" in '{name}'"
    return f"no free label id left{where} ({used_up(full)})"  # (one colon in a message)


def used_up(full: NoFreeId) -> str:
    """Why no id is free: 'its uint8 ids end at 255, and 255 has been used'."""
    return f"its {full.dtype} ids end at {np.iinfo(full.dtype).max}, and {full.largest} has been used"


def sentence(text: str) -> str:
    """``text`` as a sentence of the status line: a capital first, a full stop last."""
    return f"{text[:1].upper()}{text[1:]}."


def no_labels_message(host) -> str:
    """Why there is nothing to correct, and how to start. A file's channels open as layers
    of their own, and labels belong to the channel layer they were made on: choosing another
    channel's layer (to adjust its contrast, say) leaves the tools without labels, so say
    which layer has them."""
    sibling = labelled_sibling(host)
    if sibling is not None:
        name = host.current_image().name
        return (f"{name} has no labels: this file's labels were made on its channel layer "
                f"{sibling}; select that layer (or its labels layer) to correct them")  # fmt: skip
    return ("there are no labels yet: press New label id to start labels and paint them by "
            "hand, or segment the image (Segment panel)")  # fmt: skip


def labelled_sibling(host) -> str | None:
    """The name of another channel layer of the current image's file that has labels."""
    from unet_studio.app.model_channels import sibling_channel_layers

    image = host.current_image()
    labelled = getattr(host, "images_with_labels", lambda: set())()
    if image is None or not labelled:
        return None
    for sibling in sibling_channel_layers(host, image, image.axes):
        if sibling.name != image.name and sibling.name in labelled:
            return sibling.name
    return None


def start_labels(session) -> str:
    """Show labels to paint by hand for the current image, which has none on screen: those
    the project saved for it (its labels layer was closed: empty ones would be saved over
    them), else empty ones. Returns what was done and what to do next, for the user."""
    host = session.host
    image = host.current_image()
    if image is None:
        raise UserError("open an image first: labels are painted over an image")
    if labelled_sibling(host) is not None:  # (its labels are on another channel's layer)
        raise UserError(no_labels_message(host))
    shape = labels_shape(image)
    if shape is None:
        raise UserError(f"the axes {image.axes} of {image.name} do not match its shape "
                        f"{image.shape}: set its axes first (Segment panel)")  # fmt: skip
    if session.project is not None and session.restore_from_project():
        return f"Brought back the saved labels of {image.name}: {NEXT_STEP}."
    # (a stack's labels can outgrow the memory: then they live in a temporary file)
    session.show_labels(scratch_zeros(shape, LABELS_DTYPE), protect=False)
    return f"Started empty labels for {image.name}: {NEXT_STEP}."


def can_widen(labels: np.ndarray) -> bool:
    """Are ``labels`` integer ids narrower than the app's, held in memory or a file we may
    copy from (not a lazily read store: copying would read all of it at the click)?"""
    return (isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.integer)
            and labels.dtype.itemsize < LABELS_DTYPE.itemsize)  # fmt: skip


def widen_labels(session, layer_name: str) -> np.ndarray:
    """Give the current labels (layer ``layer_name``) 32-bit ids: the layer shows a copy
    with the same objects, made the current image's own and saved to the project, the
    reviewed marks kept. The layer's undo history goes on (``keep_history``): napari's
    steps replay the narrow ids into the wide copy as they are, and the edits' marks stay
    with the same reviewed regions, so Ctrl+Z reaches back past the widening. Returns the
    new array."""
    host = session.host
    labels = host.current_labels()
    regions = session.ensure_reviewed()  # (the marks of the narrow labels, kept)
    wide = scratch_zeros(labels.shape, LABELS_DTYPE)
    wide[...] = labels
    # The layer keeps its name and place; then the session follows the array it shows
    # (a host shows an array once: the layer holding it is the one updated, not a new one).
    host.set_labels(wide, name=layer_name, keep_history=True)
    return session.show_labels(host.current_labels(), protect=False, reviewed=regions,
                               keep_history=True)  # fmt: skip
