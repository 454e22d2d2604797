"""Where a canvas click lands in a Labels layer, in a 2D view and in the 3D rendering.

In a 2D view a click is a point: napari's ``event.position`` (world coordinates) mapped to
the layer's data. In the 3D rendering (``viewer.dims.ndisplay == 3``) a click is a ray
through the volume; what the user clicked is the first labelled voxel along that ray, the
surface of the object they see. napari's public picking gives the ray: the mouse event's
``view_direction`` and ``dims_displayed`` (``napari._vispy.mouse_event.NapariMouseEvent``,
handed to ``viewer.mouse_drag_callbacks``), mapped to data coordinates with the layer's
public ``world_to_data``. We clip the ray to the data and walk it, nearest the camera
first, as napari's own ``Labels.get_value(..., view_direction=, dims_displayed=)`` and its
3D brush do, only in finer steps (half a voxel) so a thin corner of an object is not
stepped over.
"""

from __future__ import annotations

import numpy as np

STEPS_PER_VOXEL = 2  # samples per voxel of ray length: no voxel the ray crosses is skipped


def layer_dims_displayed(layer, dims_displayed, ndim_world: int) -> list[int]:
    """The displayed world axes as the layer's own axis indices.

    napari aligns a layer's axes with the LAST world axes, so a 3D labels layer under a 4D
    image (TZYX) has its axis 0 at world axis 1.
    """
    offset = ndim_world - layer.ndim
    return [int(d) - offset for d in dims_displayed if int(d) >= offset]


def ray_voxels(layer, position, view_direction, dims_displayed) -> np.ndarray | None:
    """Voxels the view ray through ``position`` crosses, nearest the camera first.

    ``position``, ``view_direction``: world coordinates, one value per world axis (a mouse
    event's ``position`` and ``view_direction``); ``dims_displayed``: the 3 displayed world
    axes. Returns an (N, layer.ndim) int array of data indices (consecutive duplicates
    removed), or None when the ray misses the data.
    """
    position = np.asarray(position, dtype=float)
    displayed = layer_dims_displayed(layer, dims_displayed, len(position))
    if len(displayed) != 3:
        return None
    # The layer's world-to-data transform is affine: map the ray's origin and a second
    # point on it, so scale, translation and rotation all apply to the direction too.
    origin = np.asarray(layer.world_to_data(position), dtype=float)
    tip = np.asarray(layer.world_to_data(position + np.asarray(view_direction, dtype=float)))
    direction = np.zeros_like(origin)
    direction[displayed] = (tip - origin)[displayed]
    shape = np.asarray(layer.data.shape)
    span = _ray_span(origin, direction, displayed, shape)
    if span is None:
        return None
    length = (span[1] - span[0]) * float(np.linalg.norm(direction))
    steps = np.linspace(span[0], span[1], int(np.ceil(STEPS_PER_VOXEL * length)) + 1)
    samples = origin + steps[:, None] * direction
    # napari's data coordinates are pixel centres: round to the voxel holding the sample.
    voxels = np.clip(np.round(samples), 0, shape - 1).astype(np.int64)
    keep = np.ones(len(voxels), dtype=bool)
    keep[1:] = np.any(voxels[1:] != voxels[:-1], axis=1)
    return voxels[keep]


def _ray_span(origin, direction, displayed, shape) -> tuple[float, float] | None:
    """Where the line ``origin + t * direction`` is inside the data, as (t_in, t_out), or
    None. Voxel i spans [i - 0.5, i + 0.5] (napari: data coordinates are pixel centres).

    napari's ``Layer.get_ray_intersections`` does this too, but with ``world=True`` it
    fills the hidden axes with WORLD coordinates, wrong for labels with fewer axes than the
    viewer (3D labels under a TZYX image); clipping here keeps every axis in data space.
    """
    hidden = [a for a in range(len(shape)) if a not in displayed]
    if any(not -0.5 <= origin[a] < shape[a] - 0.5 for a in hidden):
        return None
    low, high = -0.5, shape[displayed] - 0.5
    o, d = origin[displayed], direction[displayed]
    moving = d != 0
    if np.any(~moving & ((o < low) | (o > high))):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        t_low, t_high = (low - o) / d, (high - o) / d
    t_in = np.max(np.where(moving, np.minimum(t_low, t_high), -np.inf))
    t_out = np.min(np.where(moving, np.maximum(t_low, t_high), np.inf))
    return (float(t_in), float(t_out)) if t_in <= t_out and np.isfinite([t_in, t_out]).all() else None


def first_labelled_voxel(labels, voxels: np.ndarray, only: int | None = None) -> np.ndarray:
    """The first of ``voxels`` (N, ndim) holding a label (label ``only``, when given), else
    the first one (background)."""
    if isinstance(labels, np.ndarray):
        values = labels[tuple(voxels.T)]
    else:  # memmap-like or zarr: read the ray's bounding box with basic slicing only
        low, high = voxels.min(axis=0), voxels.max(axis=0) + 1
        box = np.asarray(labels[tuple(slice(a, b) for a, b in zip(low, high))])
        values = box[tuple((voxels - low).T)]
    hits = np.flatnonzero(values if only is None else values == only)
    return voxels[hits[0]] if len(hits) else voxels[0]


def click_coordinate(layer, event) -> tuple[float, ...] | None:
    """Labels data coordinate (one float per layer axis) that a mouse event points at (see
    ``pointer_coordinate``)."""
    return pointer_coordinate(layer, event.position, getattr(event, "view_direction", None),
                              getattr(event, "dims_displayed", None))


def pointer_coordinate(layer, position, view_direction, dims_displayed) -> tuple[float, ...] | None:
    """Labels data coordinate (one float per layer axis) at world ``position`` (a click's,
    or the mouse pointer's for a key), seen along ``view_direction`` (one value per world
    axis; None in a 2D view) over the displayed world axes ``dims_displayed``.

    3D rendering: the first labelled voxel along the ray (only the selected label counts
    while napari shows it alone; the ray's entry voxel when it only crosses background),
    None when the ray misses the data. 2D view: ``position`` in data coordinates (the
    current index on the hidden axes included).
    """
    displayed = list(dims_displayed or ())
    if len(displayed) == 3 and view_direction is not None and layer.ndim >= 3:
        voxels = ray_voxels(layer, position, view_direction, displayed)
        if voxels is None:
            return None
        # With "show selected" napari renders that label alone: the others are not seen.
        only = int(layer.selected_label) if layer.show_selected_label else None
        return tuple(float(v) for v in first_labelled_voxel(layer.data, voxels, only))
    return tuple(float(v) for v in layer.world_to_data(position))
