"""napari's Labels history atoms read as :class:`~unet_studio.app.label_edit.LabelEdit` s.

``Labels.events.paint`` hands over a history *item*: the list of atoms napari applied
together as one undo step. napari's public API does not pin down the form of an atom, so
decoding it is the one part of the history watching (``napari_history``) that depends on
napari's version: it lives here, apart, as plain functions with no Qt and no state.
:func:`atom_to_edit` decodes the two forms napari 0.9 writes and raises
:class:`UnsupportedHistoryFormat` (naming the napari version) on anything else;
``tests/plugins/test_napari_history.py`` checks both forms against the installed napari.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.label_edit import LabelEdit


class UnsupportedHistoryFormat(RuntimeError):
    """napari recorded an edit in a form this version of unet-studio cannot read."""


def _napari_version() -> str:
    import napari

    return napari.__version__


def atom_to_edit(atom, dtype) -> LabelEdit:
    """One napari history atom as a LabelEdit (pixels listed in C order).

    napari 0.9 writes two forms: the 3-tuple ``(indices, old_values, new_values)`` from
    ``data_setitem``, and a named tuple ``(slice_key, mask, old_values, new_value)`` from
    the brush, eraser, fill and polygon (``mask`` None: the whole box changed and
    ``old_values`` is the box).
    """
    if all(hasattr(atom, name) for name in ("slice_key", "mask", "old_values", "new_value")):
        return _masked_atom_to_edit(atom, dtype)
    if isinstance(atom, tuple) and len(atom) == 3:
        indices, old, new = atom
        indices = tuple(np.asarray(i, dtype=np.int64).ravel() for i in indices)
        old = np.asarray(old, dtype=dtype).ravel()
        new = np.broadcast_to(np.asarray(new, dtype=dtype), old.shape).copy()
        return LabelEdit(indices, old, new, "edit")
    raise UnsupportedHistoryFormat(
        f"napari {_napari_version()} recorded a Labels edit as {type(atom).__name__}, a form "
        "unet-studio cannot read; edits made with napari's own tools are not being saved"
    )


def _masked_atom_to_edit(atom, dtype) -> LabelEdit:
    starts = [s.start or 0 for s in atom.slice_key]
    if atom.mask is None:  # every pixel of the box changed; old_values is the box
        box = np.asarray(atom.old_values)
        local = tuple(i.ravel() for i in np.indices(box.shape))
        old = box.ravel()
    else:
        local = np.nonzero(atom.mask)
        old = np.asarray(atom.old_values).ravel()
    indices = tuple((i + s).astype(np.int64) for i, s in zip(local, starts))
    new = np.full(len(old), atom.new_value, dtype=dtype)
    return LabelEdit(indices, old.astype(dtype, copy=False), new, "paint")


def item_to_edits(item, dtype) -> list[LabelEdit]:
    """A history item (list of atoms, applied in order) as LabelEdits in the same order."""
    return [atom_to_edit(atom, dtype) for atom in item]
