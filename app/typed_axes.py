"""Axes the user types for an image (the Segment panel's Axes box): when they become the
image's own axes, and what to say when they cannot. Qt-free.

Typed axes that only rename the image's axes in the order it already has (a guessed ZYX
that is a time-lapse: TYX) are what the image IS from then on: its layer, its labels and
the project take them, so every tool (Correct, time tools, tracks, Train, Measure, export)
reads them. Typed axes that would put the axes in another order (ZTYX for an image opened
as TZYX) or add, drop or move a channel axis would need the pixels rearranged: the layer
keeps its axes and only the prediction reads the typed ones, and :func:`kept_axes_note`
says so, so that the two never disagree in silence.
"""

from __future__ import annotations

from unet_studio.app.io.canonical import canonical_axes

LETTERS = "TZCYX"


def well_formed(axes: str, ndim: int) -> bool:
    """One distinct letter of T, Z, C, Y, X per dimension (what ``plan_job`` accepts)."""
    return len(axes) == ndim and not set(axes) - set(LETTERS) and len(set(axes)) == len(axes)


def relabels(current: str, typed: str) -> bool:
    """Whether ``typed`` renames the axes ``current`` of an image without rearranging its
    pixels: as many letters, Y and X among them, the channel axis (if any) where it is, and
    the letters in the order T Z C Y X every image opens in (``app.io.canonical``; the
    project keeps that order, and would re-order the saved labels of another)."""
    current, typed = current.upper(), typed.upper()
    if typed == current or not well_formed(typed, len(current)) or not {"Y", "X"} <= set(typed):
        return False
    if current.find("C") != typed.find("C"):
        return False
    return typed == canonical_axes(typed, colours_last=typed.endswith("C"))


def kept_axes_note(current: str, typed: str) -> str:
    """The line under the Axes box when ``typed`` (well formed) is not a renaming of the
    image's axes ``current``: Run segments it as typed, the layer keeps its own; "" when
    there is nothing to say (a renaming, the same axes, or text ``plan_job`` refuses)."""
    current, typed = current.upper(), typed.upper()
    if typed == current or not well_formed(typed, len(current)) or relabels(current, typed):
        return ""
    why = ("adds, drops or moves the channel axis" if current.find("C") != typed.find("C")
           else "puts the axes in another order than the image's (T Z C Y X)")
    return (f"{typed} {why}: Run segments it as {typed}, but the image layer keeps its "
            f"axes {current} (sliders, Correct, tracks, Train and the project go by "
            f"{current}). Name the axes in the file (ImageJ or OME-TIFF) to have the layer follow")


def record_image_axes(project, name: str, source: str | None, axes: str) -> bool:
    """Record ``axes`` as those of the project image that the open layer ``name`` (from
    the file ``source``) stands for; False when the project has no such image (it is added
    with the layer's axes, which are these now) or has these axes already."""
    ref = project.find_image(name, source)
    if ref is None or ref.axes == axes:
        return False
    project.set_image_axes(ref.id, axes)
    return True
