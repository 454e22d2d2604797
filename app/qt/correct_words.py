"""The Correct panel's words for the plane on screen, following the current image: "Mark this
time point" and "Fill between time points" on a time-lapse (TYX), "Mark this slice" and
"Fill between slices" on a Z stack, a time-lapse of stacks, or a 2D image
(``plane_word.view_plane_word`` says which, and why). A mixin of :class:`CorrectPanel`,
which provides ``session``, ``shown_keys``, the buttons, ``_object_tips`` and
``_shown_classes`` (``correct_classes``) and ``_update_tool_state``.
"""

from __future__ import annotations

from unet_studio.app.qt.plane_word import TIME_POINT, view_plane_word


class CorrectWords:
    plane_word = ""  # (none shown yet: the first _follow_plane_word fills every text)

    def _follow_plane_word(self) -> None:
        """Word the buttons after the current image (another image made current, labels
        shown); the status line follows, as it reads the word when it is drawn."""
        word = view_plane_word(self.session.host.current_image())
        if word == self.plane_word:
            return
        first = not self.plane_word
        self.plane_word = word
        self.mark_slice_button.setText(f"Mark this {word}")
        self.unmark_slice_button.setText(f"Unmark this {word}")
        self.mark_range_button.setText(f"Mark {word}s…")
        self.mark_range_button.setToolTip(f"Mark a range of {word}s as reviewed, whole, in one "
                                          f"step (Ctrl+Z takes it back)")
        self.through_check.setText(f"Through every {word}")
        self.through_check.setToolTip(_through_tip(word))
        self.interpolate_button.setText(f"Fill between {word}s")
        self._set_object_tip(self.interpolate_button, _interpolate_tip(word, self.shown_keys))
        if not first:  # (a class map's refusal names the button as it reads now)
            self._update_tool_state()

    def _set_object_tip(self, widget, tip: str) -> None:
        """A tool's own tooltip: kept aside while a class map greys the tool out (its tooltip
        the refusal then: ``correct_classes``), shown again once it is objects."""
        if widget in getattr(self, "_object_tips", {}):
            self._object_tips[widget] = tip
        if not getattr(self, "_shown_classes", ()):
            widget.setToolTip(tip)


def _through_tip(word: str) -> str:
    if word == TIME_POINT:
        return ("Mark the drawn region at every time point of the time series, not only the "
                "one on screen")  # fmt: skip
    return ("Mark the drawn region in every slice of the stack (of the time point on screen, "
            "in a time series of stacks), not only the one on screen")  # fmt: skip


def _interpolate_tip(word: str, keys: dict[str, str]) -> str:
    by_key = (f"({keys['interpolate']} over an object does the same; "
              f"{keys['interpolate all']}: for every object)")  # fmt: skip
    if word == TIME_POINT:
        return ("Paint a cell at a few time points (one label), then click: the time points "
                "between are filled with its outline, morphing from one painted time point "
                f"to the next {by_key}")  # fmt: skip
    return ("Paint an object on a few slices (one label), then click: the slices between are "
            "filled with its outline, morphing from one painted slice to the next (in a time "
            f"series of stacks, at the time point on screen) {by_key}")  # fmt: skip
