"""The Correct panel's Add object (a mixin of :class:`ObjectTools`): the object the network
missed, found from the image around the pick (``app.click_object``), in 2D views and the 3D
rendering, with its track's id in a time series."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from unet_studio.app.class_map import refuse_on_class_map
from unet_studio.app.click_object import FixedIndexView, add_object_edit, contrast_channel
from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.object_search import holds_id
from unet_studio.app.qt.review_marks import view_in_labels

if TYPE_CHECKING:  # (correct_tools imports this module)
    from unet_studio.app.qt.correct_tools import EditScope

MAX_RAY_VOXELS = 4096  # voxels of a view ray read for the 3D rendering's add


class AddingTools:
    def add_object(self, coord, ray=None) -> int:
        """Add the object the network missed under ``coord`` (see ``click_object``), with a
        fresh id, or in a time series the id it has at the time point before or after;
        returns the id. In the 3D rendering ``ray`` (the voxels along the view ray, nearest
        first) gives the point: the brightest voxel the ray meets before any object, what
        the rendering shows there."""
        refuse_on_class_map(self.session, "Add object")
        view = view_in_labels(self.session)
        if view is not None and len(view[1]) >= 3:
            if ray is None or not len(ray):
                raise UserError("in the 3D rendering press the add key over the object (or "
                                "click it in a 2D view)")  # fmt: skip
            coord = self._brightest_on_ray(ray)
        scope = self.scope([coord])
        point = tuple(int(round(c)) for c in scope.coords[0])
        image = self._scope_image(scope, point)
        label = self.new_label_id(self._labels())
        edit = scope.lift(add_object_edit(scope.labels, image, point, label,
                                          sampling=self._sampling(scope)))  # fmt: skip
        going_on = self._id_over_time(scope, edit)
        if going_on is not None:  # (its track's id: missed at this time point only)
            label = going_on
            edit = LabelEdit(edit.indices, edit.old_values,
                             np.full_like(edit.new_values, label), f"add object {label}")
        self.session.apply_edit(edit)
        return label

    def _brightest_on_ray(self, ray) -> tuple[int, ...]:
        """The brightest voxel along ``ray`` (labels indices, nearest the camera first) up to
        the first labelled one (beyond it the ray is hidden)."""
        ray = np.asarray(ray)[:MAX_RAY_VOXELS]
        labels = self._labels()
        hit = np.flatnonzero([labels[tuple(v)] != 0 for v in ray])
        ray = ray[: hit[0]] if hit.size else ray
        if not len(ray):
            raise UserError("the pointer is on an object already")
        scope = self.scope([ray[0]])
        point = tuple(int(c) for c in scope.coords[0])
        image = self._scope_image(scope, point)
        inner = ray if scope.axis is None else np.delete(ray, scope.axis, axis=1)
        values = [float(image[tuple(slice(c, c + 1) for c in v)].ravel()[0]) for v in inner]
        return tuple(int(c) for c in ray[int(np.argmax(values))])

    def _id_over_time(self, scope: EditScope, edit: LabelEdit) -> int | None:
        """In a time series, the id of the object that the added one (``edit``, of the whole
        labels) overlaps most at the time point before or after (a quarter of its pixels at
        least), when that id is not used at its own time point; else None."""
        if scope.axis is None or edit.is_empty:
            return None
        labels = self._labels()
        for t in (scope.t - 1, scope.t + 1):  # (the time point before first)
            if not 0 <= t < labels.shape[scope.axis]:
                continue
            at_t = list(edit.indices)
            at_t[scope.axis] = np.full(edit.size, t, np.int64)
            values = np.asarray(labels[tuple(at_t)])
            values = values[values > 0]
            if not values.size:
                continue
            ids, counts = np.unique(values, return_counts=True)
            best = int(ids[np.argmax(counts)])
            if counts.max() >= 0.25 * edit.size and not holds_id(scope.labels, best):
                return best
        return None

    def _scope_image(self, scope: EditScope, point) -> FixedIndexView:
        """The image of the scope, read lazily; of a multichannel image, the channel where
        ``point`` stands out most."""
        image = self.host.current_image()
        if image is None:
            raise UserError("there is no image to find the object in")
        fixed = {} if scope.axis is None else {image.axes.index("T"): scope.t}
        if "C" not in image.axes:
            view = FixedIndexView(image.data, fixed)
        else:
            c = image.axes.index("C")
            channels = [FixedIndexView(image.data, {**fixed, c: i}) for i in range(image.data.shape[c])]
            view = channels[contrast_channel(channels, point)]
        if view.shape != scope.labels.shape:
            raise UserError(f"the image ({view.shape}) and the labels ({scope.labels.shape}) "
                            "differ in shape")  # fmt: skip
        return view
