"""Mark slices… (or time points…): a range of the planes the view scrolls marked reviewed in
one step (a mixin of :class:`CorrectPanel`, which provides ``session``, ``plane_word`` and
``_say``). A 3D stack reviewed once its objects were corrected took a press of R per slice,
or a region drawn "Through every slice", which marks all of them."""

from __future__ import annotations

from qtpy.QtWidgets import QInputDialog

from unet_studio.app.errors import UserError
from unet_studio.app.qt.hand_only_hint import hand_only_said
from unet_studio.app.qt.review_marks import (
    mark_reviewed_planes,
    plane_range,
    review_region_for_view,
    scrolled_plane_axis,
)


class CorrectMarkRange:
    def _mark_range(self) -> None:
        """Ask which planes (the one on screen offered), then mark them."""
        session = self.session
        regions = session.ensure_reviewed()
        if regions is None:
            raise UserError("nothing to mark: there are no labels on screen")
        region = review_region_for_view(session)  # (refuses the 3D view, as R does)
        axis = scrolled_plane_axis(region)
        if axis is None:
            raise UserError("these labels are a single plane: Mark this one marks it all")
        word, count, here = self.plane_word, regions.shape[axis], region[axis].start
        text, chosen = QInputDialog.getText(
            self, f"Mark {word}s", f"{word[0].upper()}{word[1:]}s to mark as reviewed, whole "
            f"(0 to {count - 1}; first-last, as 10-25):", text=f"{here}-{count - 1}")  # fmt: skip
        if not chosen:
            return
        first, last = plane_range(text, count, word)
        with hand_only_said() as said:  # (its warning first, as R's is)
            marked = mark_reviewed_planes(session, first, last)
        self._say(" ".join([*said, marked]))
