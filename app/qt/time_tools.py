"""The Correct panel's tools for the tracks of a time series (a mixin of
:class:`ObjectTools`): joining a broken track (merge's picks at two time points) and
cutting one (``app.track_edit``)."""

from __future__ import annotations

from unet_studio.app.class_map import refuse_on_class_map
from unet_studio.app.errors import UserError
from unet_studio.app.label_edit import LabelEdit
from unet_studio.app.object_search import holds_id
from unet_studio.app.track_edit import cut_track_edit, join_tracks_edit


class TimeTools:
    def time_axis(self) -> int | None:
        """The labels' time axis, or None (no time series)."""
        image = self.host.current_image()
        axes = "" if image is None else image.axes.replace("C", "")
        return axes.index("T") if "T" in axes and len(axes) == self._labels().ndim else None

    def pick_times(self, coords) -> list[int]:
        """The time points of picks at ``coords`` (none without a time axis)."""
        axis = self.time_axis()
        return [] if axis is None else [int(round(float(p[axis]))) for p in coords]

    def join_edit(self, ids, coords) -> LabelEdit:
        """Merge's picks at two time points: the later object takes the earlier one's id
        from its time point on (``track_edit``)."""
        refuse_on_class_map(self.session, "Joining tracks")
        if len(ids) != 2:
            raise UserError("to join two tracks pick one object before the break and one after "
                            "it (two picks, at two time points)")  # fmt: skip
        return join_tracks_edit(self._labels(), self.time_axis(),
                                list(zip(ids, self.pick_times(coords))))  # fmt: skip

    def cut_track(self, label: int, coord) -> tuple[int, int]:
        """Give ``label`` a fresh id from ``coord``'s time point on (``track_edit``); returns
        (the new id, the time point)."""
        refuse_on_class_map(self.session, "Cut track")
        axis = self.time_axis()
        if axis is None:
            raise UserError("cutting a track needs a time series: these labels have no T axis")
        labels, t = self._labels(), self.pick_times([coord])[0]
        # (the time point before first: where a track that goes on is found at once)
        if not any(holds_id(labels[(slice(None),) * axis + (before,)], label)
                   for before in range(t - 1, -1, -1)):  # fmt: skip
            raise UserError(f"object {label} starts at time point {t}: there is no track "
                            "before it to cut from")  # fmt: skip
        new_id = self.new_label_id(labels)  # (8-bit labels out of ids: how to widen them)
        self.session.apply_edit(cut_track_edit(labels, axis, label, t, new_id))
        return new_id, t
