"""What the panels call one step of the slider that a 2D view scrolls through: a "time point"
on a time-lapse, a "slice" on a Z stack. Microscopists step through the frames of a movie,
not its slices, so a panel that said "Mark this slice" on a phase-contrast time-lapse read
as if it had the image wrong.

The Segment panel asks it of the axes a model leaves to the view ("Current time point"),
the Correct panel of the axes beside the plane on screen ("Mark this time point").
"""

from __future__ import annotations

TIME_POINT = "time point"
SLICE = "slice"


def stepped_plane_word(axes: str, plane_axes: str) -> str | None:
    """What one index of the axes of ``axes`` (an image's letters, e.g. "TZYX") off
    ``plane_axes`` (those of one plane: the view's "YX", a 3D model's "ZYX") is called:
    "time point" where T alone is left, "slice" where Z is left (a TZYX stack's plane on
    screen is a Z slice of one time point, and its innermost slider, the one stepped
    through most, is Z's); None where nothing is left: the plane is the whole image. C is
    never stepped through (its channels are shown or read together)."""
    left = {letter for letter in axes.upper() if letter not in plane_axes and letter != "C"}
    if not left:
        return None
    return TIME_POINT if left == {"T"} else SLICE


def view_plane_word(image) -> str:
    """What the Correct panel calls the plane of ``image`` (a HostImage; None: no image yet)
    that a 2D view shows: "time point" on a time-lapse of planes (TYX), else "slice" (a Z
    stack, a time-lapse of stacks, and a 2D image: its one plane, as the panel has always
    called it, with nothing to step through)."""
    if image is None:
        return SLICE
    return stepped_plane_word(image.axes, "YX") or SLICE
