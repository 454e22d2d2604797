"""Marking what the user has reviewed (only reviewed regions become training data): the
slice on screen, or drawn polygons, as :class:`ReviewedRegions` marks; and where the view
is, in the labels' axes (used by the tools that act along the axis the view scrolls)."""

from __future__ import annotations

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.qt.hand_only_hint import tell_if_hand_only
from unet_studio.app.qt.mark_undo import undoable_marking

PLANE_WORDS = {"Z": "slice", "T": "time point"}  # (what one index of an axis is called)


def view_in_labels(session) -> tuple[list[int], set[int]] | None:
    """Where the view is, in the labels' axes (the image's without C): the index on every
    axis and the axes on screen; None without labels or a view."""
    labels = session.host.current_labels()
    state = session.host.view_state()
    image = session.host.current_image()
    if labels is None or state is None or image is None:
        return None
    keep = [a for a, letter in enumerate(image.axes) if letter != "C"]
    position = [state.position[a] for a in keep if a < len(state.position)][-labels.ndim :]
    offset = len(keep) - labels.ndim
    displayed = {keep.index(a) - offset for a in state.displayed_axes if a in keep}
    return position, {a for a in displayed if a >= 0}


def review_region_for_view(session) -> tuple[slice, ...]:
    """The labels region of the plane on screen: the current index on hidden axes, all of
    the displayed ones."""
    view = view_in_labels(session)
    if view is None:
        raise UserError("nothing to mark: there are no labels on screen")
    position, displayed = view
    if len(displayed) >= 3:
        # Marking the whole rendered volume by mistake would turn every unchecked object
        # in it into training data.
        raise UserError("in the 3D view there is no single slice to mark: switch to the 2D "
                        "view, or draw a region")  # fmt: skip
    return tuple(
        slice(None) if a in displayed else slice(position[a], position[a] + 1)
        for a in range(len(position))
    )


def mark_reviewed_view(session, reviewed: bool = True) -> str:
    """Mark (or unmark) the slice on screen as reviewed; returns what was done, as the
    undo step names it ("time point 3 marked as reviewed." on a time-lapse)."""
    regions = session.ensure_reviewed()
    if regions is None:
        raise UserError("nothing to mark: there are no labels on screen")
    region = review_region_for_view(session)
    # (which one: "slice 31 marked as reviewed.", as a range is marked one plane at a time)
    plane = _plane_words(session, region)
    plane = plane[:1].lower() + plane[1:]
    text = f"{plane} marked as reviewed." if reviewed else f"{plane} no longer marked as reviewed."
    with undoable_marking(session, regions, region, reviewed, text):  # (Ctrl+Z takes it back)
        regions.mark_region(region, reviewed)
    session.reviewed_changed_by_user()
    if reviewed:  # (painted by hand only: said what the mark teaches)
        tell_if_hand_only(session, regions, region, _plane_words(session, region))
    return text


def scrolled_plane_axis(region: tuple[slice, ...]) -> int | None:
    """The axis the view scrolls in ``region`` (the plane on screen): the innermost axis
    held at one index (Z of a TZYX stack viewed in YX); None for a single plane."""
    held = [axis for axis, part in enumerate(region) if part.start is not None]
    return held[-1] if held else None


def plane_range(text: str, count: int, word: str) -> tuple[int, int]:
    """``(first, last)`` of "10-25" (or "10..25", "10 to 25", "7": one) among ``count``
    planes called ``word``; UserError saying what is wrong (the numbers are napari's, from
    0, as its slider shows them)."""
    import re

    found = re.fullmatch(r"\s*(\d+)\s*(?:(?:-|\.\.|to)\s*(\d+)\s*)?", text or "")
    if found is None:
        raise UserError(f"{text.strip() or 'nothing'} is not a range of {word}s: write the "
                        f"first and the last, as 10-25")
    first, last = int(found[1]), int(found[2] if found[2] is not None else found[1])
    first, last = min(first, last), max(first, last)
    if last >= count:
        raise UserError(f"there are {count} {word}s, 0 to {count - 1}: {word} {last} does not exist")
    return first, last


def mark_reviewed_planes(session, first: int, last: int) -> str:
    """Mark the planes ``first``..``last`` of the axis the view scrolls as reviewed, whole,
    as R marks the one on screen, one undo step for them all (a 3D stack reviewed once
    its objects are corrected took a press of R per slice). Returns what was done."""
    regions = session.ensure_reviewed()
    if regions is None:
        raise UserError("nothing to mark: there are no labels on screen")
    region = list(review_region_for_view(session))
    axis = scrolled_plane_axis(tuple(region))
    if axis is None:
        raise UserError("these labels are a single plane: Mark this one marks it all")
    region[axis] = slice(first, last + 1)
    region = tuple(region)
    word = PLANE_WORDS.get(_axis_letter(session, axis, len(region)), "plane")
    planes = f"{word}s {first}-{last}" if last > first else f"{word} {first}"
    # (the other axes held, as a time series of stacks has: "of time point 2")
    held = _plane_words(session, tuple(slice(None) if a == axis else part
                                       for a, part in enumerate(region)))
    of = "" if held == "The image" else f" of {held[0].lower()}{held[1:]}"
    text = f"{planes[0].upper()}{planes[1:]}{of} marked as reviewed."
    with undoable_marking(session, regions, region, True, text[0].lower() + text[1:]):
        regions.mark_region(region, True)
    session.reviewed_changed_by_user()
    tell_if_hand_only(session, regions, region, text.removesuffix(" marked as reviewed."))
    return text


def _axis_letter(session, axis: int, ndim: int) -> str:
    image = session.host.current_image()
    letters = "" if image is None else image.axes.replace("C", "")[-ndim:]
    return letters[axis] if len(letters) == ndim else ""


def mark_reviewed_drawn(session, through: bool = False) -> str:
    """Mark the polygons drawn on the review-regions layer; ``through``: in every plane of
    the axis the view scrolls (Z of a stack, T of a time series), each polygon's area at
    the same place. Returns what was marked, for the status line."""
    regions = session.ensure_reviewed()
    polygons = session.host.drawn_regions() if hasattr(session.host, "drawn_regions") else []
    if regions is None or not polygons:
        raise UserError("draw a region first (Draw region), then mark it")
    state = session.host.view_state()
    shown = (-2, -1) if state is None else tuple(a - len(state.position) for a in state.displayed_axes[-2:])
    ndim = regions.mask.ndim
    marks = []  # (vertices, plane axes, through axis or None), all found before marking any
    for vertices in polygons:
        vertices = vertices[:, -ndim:]
        plane = _drawn_plane(vertices) or shown
        marks.append((vertices, plane, _scrolled_axis(session, plane, ndim) if through else None))
    text = _marked_text(session, [axis for _, _, axis in marks], regions.shape)
    box = _drawn_box(marks, regions.shape)
    with undoable_marking(session, regions, box, True, text[0].lower() + text[1:]):
        for vertices, plane, axis in marks:
            regions.mark_polygon(vertices, plane_axes=plane, through_axis=axis)
    session.host.clear_drawn_regions()
    session.reviewed_changed_by_user()  # (one save of the marks, however many planes)
    where = "The drawn region" if len(marks) == 1 else f"The {len(marks)} drawn regions"
    tell_if_hand_only(session, regions, box, where, marked_only=True)
    return text


def _plane_words(session, region: tuple[slice, ...]) -> str:
    """The plane ``region`` (the slice on screen) is, as a sentence starts: "Slice 5",
    "Time point 2, slice 5", "The image" (a single plane)."""
    image = session.host.current_image()
    letters = "" if image is None else image.axes.replace("C", "")[-len(region) :]
    words = []
    for axis, part in enumerate(region):
        if part.start is None:  # (an axis on screen)
            continue
        letter = letters[axis] if len(letters) == len(region) else ""
        words.append(f"{PLANE_WORDS.get(letter, 'plane')} {part.start}")
    text = ", ".join(words) or "the image"
    return text[0].upper() + text[1:]


def _drawn_box(marks: list, shape: tuple[int, ...]) -> tuple[slice, ...]:
    """A box holding every pixel the polygons of ``marks`` mark: on an axis all of them are
    drawn in, their corners' range (a pixel more each side: rasterising rounds); on the
    others (the planes they lie in, or mark through), the whole axis."""
    ndim = len(shape)
    box = []
    for axis in range(ndim):
        drawn_in = all(axis in {p % ndim for p in plane} for _, plane, _ in marks)
        if not drawn_in:
            box.append(slice(0, shape[axis]))
            continue
        low = min(float(np.min(v[:, axis])) for v, _, _ in marks)
        high = max(float(np.max(v[:, axis])) for v, _, _ in marks)
        box.append(slice(max(int(np.floor(low)) - 1, 0), min(int(np.ceil(high)) + 2, shape[axis])))
    return tuple(box)


def _scrolled_axis(session, plane: tuple[int, ...], ndim: int) -> int:
    """The labels axis to mark a polygon drawn in ``plane`` through: the innermost slider
    of the view off the polygon's plane (Z of a TZYX stack viewed in YX), else the last
    axis off it."""
    off_plane = [a for a in range(ndim) if a not in {p % ndim for p in plane}]
    if not off_plane:
        raise UserError("these labels are a single plane: there are no slices or time points "
                        "to mark the region through")  # fmt: skip
    view = view_in_labels(session)
    hidden = [a for a in off_plane if view is None or a not in view[1]]
    return (hidden or off_plane)[-1]


def _marked_text(session, axes: list[int | None], shape: tuple[int, ...]) -> str:
    """The status line: "Marked the drawn region in all 32 slices (Z)." and the like."""
    regions = "the drawn region" if len(axes) == 1 else f"{len(axes)} drawn regions"
    image = session.host.current_image()
    letters = "" if image is None else image.axes.replace("C", "")[-len(shape) :]
    planes = []
    for axis in dict.fromkeys(axes):  # (each axis once, in the order drawn)
        if axis is None:
            planes.append("the plane it was drawn in")
            continue
        letter = letters[axis] if len(letters) == len(shape) else f"axis {axis}"
        word = {"Z": "slices", "T": "time points"}.get(letter, "planes")
        planes.append(f"all {shape[axis]} {word} ({letter})")
    return f"Marked {regions} in {' and '.join(planes)}."


def _drawn_plane(vertices: np.ndarray) -> tuple[int, int] | None:
    """The two axes a polygon was drawn in: those its corners vary along (the view may have
    turned since it was drawn); None when that cannot be told (a line, a point)."""
    varying = [axis - vertices.shape[1] for axis in range(vertices.shape[1])
               if np.ptp(vertices[:, axis]) > 0]
    return tuple(varying) if len(varying) == 2 else None
