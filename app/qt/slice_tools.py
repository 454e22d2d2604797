"""The Correct panel's Fill between slices (a mixin of :class:`ObjectTools`): the slices
between an object's painted slices, along the axis the view scrolls, or the time points
between those where a cell is drawn in a 2D time series (``app.slice_interpolation``)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

from unet_studio.app.class_map import refuse_on_class_map
from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.qt.correct_tips import OBJECT_ACTIONS
from unet_studio.app.qt.review_marks import view_in_labels
from unet_studio.app.qt.stack_edit_runner import StackEditJob
from unet_studio.app.slice_interpolation import interpolate_slices_edit
from unet_studio.app.stack_edits import iter_interpolate_all_edit

if TYPE_CHECKING:  # (correct_tools imports this module)
    from unet_studio.app.qt.correct_tools import EditScope


class SliceTools:
    def interpolate_edit(self, label: int, coord) -> tuple[LabelEdit, str]:
        """(the edit filling the slices between the painted slices of ``label``, what was
        filled: "slices" or "time points"). In a volume (at ``coord``'s time point in a time
        series) along the axis the 2D view scrolls through (Z in 3D); in a 2D time series,
        between the time points where the object is drawn (a cell outlined every few
        frames)."""
        if label == 0:
            raise UserError("no object to interpolate: point at one (I), or choose its label")
        refuse_on_class_map(self.session, self._fill_between_name())
        labels, axis, sampling, lift, filled = self._interpolation_target(coord)
        near = tuple(coord) if filled == "time points" else self.scope([coord]).coords[0]
        unit = filled[:-1]
        return lift(interpolate_slices_edit(labels, label, axis, sampling=sampling, near=near,
                                            unit=unit)), filled  # fmt: skip

    def interpolate_all(self, coord) -> str:
        """Fill between the painted slices of every object (where ``coord`` is, as
        :meth:`interpolate_edit`), as one undo step, in a worker on big labels (see
        ``stack_edit_runner``); returns what the status line says."""
        refuse_on_class_map(self.session, self._fill_between_name())
        labels, axis, sampling, lift, filled = self._interpolation_target(coord)
        key = self.keys["interpolate all"].replace("-", "+")
        steps = _interpolated_all(labels, axis, sampling, lift, filled)
        return self.stack_edits.start(StackEditJob(
            f"filling between the painted {filled} of every object", f"Press {key} again",
            steps, labels.size))

    def _fill_between_name(self) -> str:
        """The action as its button reads: "Fill between time points" on a time-lapse."""
        return f"Fill between {self.plane_word()}s"

    def action_name(self, action: str) -> str:
        """What a class map's refusal calls the object tool ``action`` (``OBJECT_ACTIONS``),
        Fill between as its button reads for the image shown."""
        if action in ("interpolate", "interpolate all"):
            return self._fill_between_name()
        return OBJECT_ACTIONS[action]

    def _interpolation_target(self, coord):
        """(labels, axis, pixel size of the other axes, lift to the whole labels, "slices" or
        "time points") for interpolating where ``coord`` is."""
        scope = self.scope([coord])
        if scope.axis is not None and scope.labels.ndim == 2:  # (a 2D time series: along T)
            return self._labels(), scope.axis, self._sampling(scope), lambda e: e, "time points"
        axis = self._slicing_axis(scope)
        sampling = self._sampling(scope)
        plane_sampling = None if sampling is None else sampling[:axis] + sampling[axis + 1 :]
        return scope.labels, axis, plane_sampling, scope.lift, "slices"

    def _slicing_axis(self, scope: EditScope) -> int:
        """The scope's axis the view slices through: the one hidden axis of a 2D view of
        a volume; the first (Z) in the 3D rendering."""
        if scope.labels.ndim < 3:
            raise UserError("interpolating fills the slices between painted slices of a 3D "
                            "stack; these labels have no slices to fill")  # fmt: skip
        view = view_in_labels(self.session)
        displayed = set() if view is None else view[1]
        axes = [a for a in range(self._labels().ndim) if a != scope.axis]  # (scope order)
        hidden = [i for i, a in enumerate(axes) if a not in displayed]
        return hidden[-1] if hidden else 0

    def view_point(self) -> tuple[float, ...]:
        """The labels coordinate of the slice on screen (where a button acts in time)."""
        view = view_in_labels(self.session)
        if view is None:
            raise UserError("there are no labels on screen")
        return tuple(float(p) for p in view[0])

    def interpolate_selected(self) -> str:
        """Fill the slices between the painted slices of the brush's label (the Fill between
        slices button: paint an object on a few slices, then click); returns what it did."""
        refuse_on_class_map(self.session, self._fill_between_name())
        label = int(self.host.selected_label()) if hasattr(self.host, "selected_label") else 0
        if label == 0:
            raise UserError("choose the object's label first: paint with it, or pick it (K)")
        edit, filled = self.interpolate_edit(label, self.view_point())
        return self.apply_interpolation(label, edit, filled)

    def apply_interpolation(self, label: int, edit: LabelEdit, filled: str) -> str:
        """Apply an :meth:`interpolate_edit`; returns what it did."""
        if edit.is_empty:
            return f"Object {label} has no {filled} to fill between."
        self.session.apply_edit(edit)
        return f"Filled the {filled} between the painted {filled} of object {label}."


def _interpolated_all(labels, axis: int, sampling, lift, filled: str) -> Generator:
    """:func:`iter_interpolate_all_edit` of ``labels`` (a time point: ``lift`` makes its edit
    one of the whole labels) returning ``(edit, message)``."""
    edit, count = yield from iter_interpolate_all_edit(labels, axis, sampling=sampling)
    if not count:
        return lift(edit), f"No object has {filled} to fill between."
    return lift(edit), f"Filled the {filled} between the painted {filled} of {count} objects."
