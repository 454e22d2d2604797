"""Which pixels of a label array the user has reviewed, and which they changed.

Only reviewed pixels become training data (the rest is ignored by the loss), changed pixels
get extra weight, and a new prediction never overwrites reviewed pixels
(:meth:`ReviewedRegions.protect`). The user marks whole slices, drawn regions or polygons,
or lets every edit mark the region around it (``auto_from_edits``).

Both masks are dense booleans of the labels' shape, allocated zeroed on first use (the OS
gives their pages memory when first written: a mostly empty mask of a big stack costs
little); they are saved by their marked blocks, bit-packed, in a compressed ``.npz`` (no
pickle, see ``reviewed_file``), so even a 64×1024×1024 stack stays small on disk and
reading it back costs what is marked.
"""

from __future__ import annotations

import json
import weakref
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from unet_studio.app.atomic import atomic_write_bytes, npz_bytes
from unet_studio.app.edit_footprint import edit_marks, mark_footprint, unmark_footprint
from unet_studio.app.format_versions import REVIEWED, NewerFormatError, check_version
from unet_studio.app.hand_drawn import drawn_by_hand, in_one_plane
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.overridden_marks import touched_area, without_touched
from unet_studio.app.polygon_marks import polygon_plane, spread_through
from unet_studio.app.reviewed_file import decode_mask, encode_mask, read_packed_member
from unet_studio.app.reviewed_ids import protected, renumber_clashes

FORMAT = REVIEWED.name


class MarksAdded:
    """The marks one edit added: changed pixels (flat indices of those that were new), the
    reviewed regions ([(region, which pixels of it were new: a mask or flat indices)], or
    None; less what the user marked or unmarked explicitly since), the edit's
    ``review_at`` and its ``_key``."""

    def __init__(self, changed, reviewed, review_at=None, key=(0,)):
        self.changed, self.reviewed, self.review_at, self.key = changed, reviewed, review_at, key


class ReviewedRegions:
    """Reviewed and changed masks over a label array of ``shape`` (e.g. ``(Z, Y, X)``).

    ``auto_from_edits``: :meth:`record_edit` also marks around each edit as reviewed: in
    one plane the bounding box of its pixels of one value (its pixels in a plane drawn by
    hand, when told the labels), through several planes its pixels, grown by
    ``edit_margin`` pixels in each plane (Y and X). ``version`` increases on every change,
    so a store can tell when to save.

    The marks an edit added (:class:`MarksAdded`) are what its undo clears and its redo
    marks again; a later explicit mark or unmark (:meth:`mark_region`, :meth:`mark_mask`,
    :meth:`mark_polygon`: the user's own decision) takes its pixels out of them, so that
    undo and redo leave it as it is.
    """

    def __init__(self, shape: Sequence[int], *, auto_from_edits: bool = True, edit_margin: int = 2):
        self.shape = tuple(int(n) for n in shape)
        self.auto_from_edits = bool(auto_from_edits)
        self.edit_margin = int(edit_margin)
        self.version = 0
        self.old_format = False  # (read from a file that keeps whole masks: see load)
        self._reviewed: np.ndarray | None = None
        self._changed: np.ndarray | None = None
        self._edit_marks = weakref.WeakSet()  # (the MarksAdded an undo or redo may still use)
        self._counted: tuple[tuple, int] | None = None  # ((version, mask id), reviewed pixels)

    @property
    def mask(self) -> np.ndarray:
        """Bool array of ``shape``: True where reviewed (the training mask). Read-only view."""
        return self._readonly(self._reviewed)

    @property
    def changed(self) -> np.ndarray:
        """Bool array of ``shape``: True where the user changed a label. Read-only view."""
        return self._readonly(self._changed)

    def any(self) -> bool:
        return self.count() > 0

    def count(self) -> int:
        """Pixels reviewed: counted once per change (``version``). The panels ask at every
        layer event; over the mask of a 1200 x 2048 x 2048 stack each ask held the window
        for 1 to 5 s after every correction."""
        mask = self._reviewed
        if mask is None:
            return 0
        key = (self.version, id(mask))
        if self._counted is None or self._counted[0] != key:
            # (count_nonzero: ~20x faster than mean() on a 64 M-pixel stack)
            self._counted = (key, int(np.count_nonzero(mask)))
        return self._counted[1]

    def fraction(self) -> float:
        """Share of pixels reviewed, 0..1."""
        return self.count() / max(int(np.prod(self.shape)), 1)

    def mark_region(self, region: tuple[slice, ...], reviewed: bool = True) -> None:
        """Mark (or with ``reviewed=False`` unmark) a box given as a slice per axis."""
        if len(region) != len(self.shape):
            raise ValueError(f"a region needs {len(self.shape)} slices, got {len(region)}")
        self._writable("reviewed")[region] = reviewed
        self._override_edit_marks(region)
        self.version += 1

    def mark_slice(self, index: int, axis: int = 0, reviewed: bool = True) -> None:
        """Mark the whole plane ``index`` along ``axis`` (a frame of a 2D+T or Z stack)."""
        if not 0 <= index < self.shape[axis]:
            raise ValueError(f"slice {index} is outside axis {axis} of length {self.shape[axis]}")
        region = [slice(None)] * len(self.shape)
        region[axis] = slice(index, index + 1)
        self.mark_region(tuple(region), reviewed)

    def mark_mask(self, mask: np.ndarray, region: tuple[slice, ...] | None = None, reviewed=True):
        """Mark the True pixels of ``mask``, which covers ``region`` (default: everything)."""
        region = region or tuple(slice(0, n) for n in self.shape)
        target = self._writable("reviewed")[region]
        if target.shape != np.shape(mask):
            raise ValueError(f"mask of shape {np.shape(mask)} does not cover {target.shape}")
        target[np.asarray(mask, dtype=bool)] = reviewed
        self._override_edit_marks(region, mask)
        self.version += 1

    def mark_polygon(self, vertices, *, plane_axes=(-2, -1), through_axis: int | None = None,
                     reviewed: bool = True) -> None:
        """Mark the inside of a polygon drawn in one plane.

        ``vertices``: (N, ndim) data coordinates, as a napari Shapes polygon gives them; the
        polygon lies in ``plane_axes`` and the other axes are taken from the first vertex.
        ``through_axis``: also an axis other than those (Z, or T): the polygon's area is
        marked in every plane along it (one step; written plane by plane, so that a
        memory-mapped mask of a big stack gets no whole-stack temporary).
        """
        region, plane, axes = polygon_plane(self.shape, vertices, plane_axes)
        if through_axis is None:
            self._writable("reviewed")[tuple(region)][plane] = reviewed
            self._override_edit_marks(tuple(region), plane)
        else:
            self._mark_plane_through(region, plane, axes, through_axis % len(self.shape), reviewed)
        self.version += 1

    def _mark_plane_through(self, region: list, plane: np.ndarray, axes: list[int],
                            through: int, reviewed: bool) -> None:
        """Mark ``plane`` (a mask over ``axes``) in ``region`` at every index of ``through``."""
        if through in axes:
            raise ValueError(f"axis {through} is one of the polygon's plane axes {axes}")
        mask = self._writable("reviewed")
        for index in range(self.shape[through]):
            region[through] = index
            mask[tuple(region)][plane] = reviewed
        region[through] = slice(None)
        self._override_edit_marks(tuple(region),
                                  spread_through(plane, axes, through, self.shape[through]))

    def marks_for(self, edit: LabelEdit, labels=None) -> list:
        """What :meth:`record_edit` will mark for ``edit``, before it is recorded (a worker
        thread may find it for an edit of a whole stack, ~0.1 s for 7 million voxels).
        ``labels``: the label array it edits (before or after it is applied): an edit in
        one plane drawn by hand (``hand_drawn``) marks its grown pixels, not a box; that
        reads the plane's labels and changed pixels (a few ms for 1024 x 1024). None: boxes."""
        part = edit.reviewed_part()
        by_hand = (labels is not None and np.shape(labels) == self.shape
                   and in_one_plane(part) and drawn_by_hand(labels, self._changed, part))
        return edit_marks(part, self.shape, self.edit_margin, by_hand)

    def flat_indices(self, edit: LabelEdit) -> np.ndarray:
        """The edit's pixels as flat (C order) indices, for :meth:`record_edit` (reads no
        mask: a worker may find them, ~50 ms for 8.6 million pixels)."""
        return np.ravel_multi_index(edit.indices, self.shape)

    def record_edit(self, edit: LabelEdit, marks: list | None = None,
                    flat: np.ndarray | None = None, *, labels=None) -> MarksAdded | None:
        """Note the pixels an edit changed; with ``auto_from_edits`` also mark the region
        around them as reviewed (the user looked there; ``edit_marks``: boxes in the plane
        of an edit in one plane, the grown pixels of one through several; a split or merge
        also marks the rest of the objects it leaves, ``LabelEdit.also_reviewed``), of the
        pixels that are evidence only (``LabelEdit.review_at``). ``marks``: :meth:`marks_for` the
        edit, and ``flat``: :meth:`flat_indices`, found before; else ``labels``, the label
        array edited, tells a plane drawn by hand (see :meth:`marks_for`). Returns the marks
        this edit added (None for an empty edit), for :meth:`take_back` when it is undone."""
        if edit.is_empty:
            return None
        if self.auto_from_edits and marks is None:  # (from the pixels changed before it)
            marks = self.marks_for(edit, labels)
        # Flat indices into a flat view: a tuple of index arrays into a 64 M-pixel mask
        # costs ~6x more per read or write (8.6 M pixels: ~60 ms against ~10).
        flat = self.flat_indices(edit) if flat is None else flat
        changed = self._flat("changed")
        added_changed = flat[~changed[flat]]
        changed[added_changed] = True
        added_reviewed = None
        if self.auto_from_edits:
            # Never into other slices or frames than the edit's: those were not looked at,
            # and marking them would make their unchecked labels training data.
            reviewed = self._flat("reviewed").reshape(self.shape)  # (C-contiguous)
            added_reviewed = []
            for region, footprint in marks:
                added_reviewed.append((region, mark_footprint(reviewed[region], footprint)))
        self.version += 1
        return self._noted(MarksAdded(added_changed, added_reviewed, edit.review_at,
                                      _key(edit.indices)))  # fmt: skip

    def take_back(self, added: MarksAdded) -> None:
        """Clear the marks an edit added (it was undone): pixels marked before it stay."""
        self._flat("changed")[added.changed] = False
        for region, new in added.reviewed or ():
            unmark_footprint(self._flat("reviewed").reshape(self.shape)[region], new)
        self.version += 1

    def put_back(self, added: MarksAdded) -> MarksAdded:
        """Mark again what :meth:`take_back` cleared: the edit was redone. The very marks it
        made, not found again (that cost the GUI thread ~0.1 s for a stack's edit, and a
        redo from napari's history has lost the edit's ``review_at``). Returns what was new
        this time, for the redo's own undo."""
        changed = self._flat("changed")
        again_changed = added.changed[~changed[added.changed]]
        changed[again_changed] = True
        again_reviewed = None
        if added.reviewed is not None:
            reviewed = self._flat("reviewed").reshape(self.shape)
            again_reviewed = [(region, mark_footprint(reviewed[region], new))
                              for region, new in added.reviewed]
        self.version += 1
        return self._noted(MarksAdded(again_changed, again_reviewed, added.review_at, added.key))

    def _noted(self, added: MarksAdded) -> MarksAdded:
        """``added``, kept track of while alive: an explicit mark changes it."""
        if added.reviewed is not None:
            self._edit_marks.add(added)
        return added

    def _override_edit_marks(self, region, mask=None) -> None:
        """The user marked or unmarked ``region`` (of it the True pixels of ``mask``) on
        purpose: no undo or redo of an earlier edit changes those pixels any more."""
        if not len(self._edit_marks):
            return
        box, touched = touched_area(region, self.shape, mask)
        for added in list(self._edit_marks):
            added.reviewed = without_touched(added.reviewed, self.shape, box, touched)

    def clear(self) -> None:
        self._reviewed = self._changed = None
        self.version += 1

    def protect(self, new_prediction: np.ndarray, current_labels: np.ndarray) -> np.ndarray:
        """Labels to show after a new prediction (``reviewed_ids.protected``)."""
        return protected(self, new_prediction, current_labels)

    def renumber_clashes(self, labels: np.ndarray, *, region: tuple[slice, ...] | None = None,
                         slab_pixels: int = 1 << 22) -> None:
        """In place, fresh ids for predicted objects clashing with kept ones
        (``reviewed_ids.renumber_clashes``)."""
        renumber_clashes(self, labels, region=region, slab_pixels=slab_pixels)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """A snapshot (copies) of the state, whole masks included (to transform them)."""
        arrays = self._header()
        for name, mask in (("reviewed", self._reviewed), ("changed", self._changed)):
            if mask is not None:
                arrays[name] = mask.copy()
        return arrays

    def saved_arrays(self) -> dict[str, np.ndarray]:
        """What :meth:`write_arrays` writes, the masks' marked blocks only: a snapshot for
        saving off the caller's thread that costs what is marked (a whole-mask copy
        committed 1.5 GB per mask of a 1.5 Gpx stack at every save)."""
        arrays = self._header()
        for name, mask in (("reviewed", self._reviewed), ("changed", self._changed)):
            if mask is not None:
                arrays.update(encode_mask(name, mask))
        return arrays

    def _header(self) -> dict[str, np.ndarray]:
        settings = {"auto_from_edits": self.auto_from_edits, "edit_margin": self.edit_margin}
        return {
            "format": np.array(FORMAT),
            # (2: masks by their marked blocks; 1, or none: whole masks, see format_versions)
            "format_version": np.array(REVIEWED.version, dtype=np.int64),
            "shape": np.array(self.shape, dtype=np.int64),
            "settings": np.array(json.dumps(settings)),
        }

    @staticmethod
    def write_arrays(path: str | Path, arrays: dict[str, np.ndarray]) -> Path:
        """Save a :meth:`saved_arrays` (or :meth:`to_arrays`) snapshot atomically, whole
        masks by their marked blocks, compressed."""
        kept = {}
        for name, array in arrays.items():
            kept.update(encode_mask(name, array) if array.dtype == bool else {name: array})
        return atomic_write_bytes(path, npz_bytes(kept))

    def save(self, path: str | Path) -> Path:
        return self.write_arrays(path, self.saved_arrays())

    @classmethod
    def load(cls, path: str | Path) -> ReviewedRegions:
        """Read a file written by :meth:`save` (or an earlier version's); ValueError if it is
        not one. Costs what is marked, not the stack (see ``reviewed_file``)."""
        try:
            with np.load(path, allow_pickle=False) as data:  # (members read when asked)
                if str(data["format"]) != FORMAT:
                    raise ValueError(f"not a reviewed-regions file (format {data['format']})")
                if "format_version" in data.files:  # (a NewerFormatError is a ValueError)
                    check_version(Path(path), {"format_version": data["format_version"].item()},
                                  REVIEWED)
                shape = tuple(int(n) for n in data["shape"])
                regions = cls(shape, **json.loads(str(data["settings"])))
                for name in ("reviewed", "changed"):
                    if f"{name}_blocks" in data.files:
                        mask = decode_mask(data[f"{name}_blocks"], data[f"{name}_bits"], shape)
                    elif name in data.files:  # (an earlier version's: the whole mask packed)
                        mask = read_packed_member(path, name, shape)
                        regions.old_format = True
                    else:
                        continue
                    setattr(regions, f"_{name}", mask)
        except NewerFormatError:
            raise  # (as it is: "update unet-studio", not "cannot read")
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path}: cannot read reviewed regions: {error}") from error
        return regions

    def _writable(self, name: str) -> np.ndarray:
        attribute = f"_{name}"
        if getattr(self, attribute) is None:
            setattr(self, attribute, np.zeros(self.shape, dtype=bool))
        return getattr(self, attribute)

    def _flat(self, name: str) -> np.ndarray:
        """A 1D view of mask ``name`` (made C-contiguous first, so that it is a view)."""
        mask = self._writable(name)
        if not mask.flags.c_contiguous:
            mask = np.ascontiguousarray(mask)
            setattr(self, f"_{name}", mask)
        return mask.reshape(-1)

    def _readonly(self, mask: np.ndarray | None) -> np.ndarray:
        view = (mask if mask is not None else np.zeros(self.shape, dtype=bool)).view()
        view.flags.writeable = False
        return view


def _key(indices) -> tuple:
    """What an edit and its redo share (the same pixels): size, first and last pixel."""
    if not indices[0].size:
        return (0,)
    return (indices[0].size, tuple(int(i[0]) for i in indices), tuple(int(i[-1]) for i in indices))
