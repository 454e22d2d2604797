"""Marking what the user has reviewed (only reviewed regions become training data): the
slice on screen, or drawn polygons, as :class:`ReviewedRegions` marks; and where the view
is, in the labels' axes (used by the tools that act along the axis the view scrolls)."""

from __future__ import annotations

import numpy as np

from unet_studio.app.errors import UserError


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


def mark_reviewed_view(session, reviewed: bool = True) -> None:
    """Mark (or unmark) the slice on screen as reviewed."""
    regions = session.ensure_reviewed()
    if regions is None:
        raise UserError("nothing to mark: there are no labels on screen")
    regions.mark_region(review_region_for_view(session), reviewed)
    session.reviewed_changed_by_user()


def mark_reviewed_drawn(session) -> int:
    """Mark the polygons drawn on the review-regions layer; returns how many."""
    regions = session.ensure_reviewed()
    polygons = session.host.drawn_regions() if hasattr(session.host, "drawn_regions") else []
    if regions is None or not polygons:
        raise UserError("draw a region first (Draw region), then mark it")
    state = session.host.view_state()
    shown = (-2, -1) if state is None else tuple(a - len(state.position) for a in state.displayed_axes[-2:])
    for vertices in polygons:
        vertices = vertices[:, -regions.mask.ndim :]
        regions.mark_polygon(vertices, plane_axes=_drawn_plane(vertices) or shown)
    session.host.clear_drawn_regions()
    session.reviewed_changed_by_user()
    return len(polygons)


def _drawn_plane(vertices: np.ndarray) -> tuple[int, int] | None:
    """The two axes a polygon was drawn in: those its corners vary along (the view may have
    turned since it was drawn); None when that cannot be told (a line, a point)."""
    varying = [axis - vertices.shape[1] for axis in range(vertices.shape[1])
               if np.ptp(vertices[:, axis]) > 0]
    return tuple(varying) if len(varying) == 2 else None
