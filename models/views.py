"""How a stack with named axes is fed to a network: layout and a lazy, normalising view.

A stack has axes over "TZCYX" in any order; a network sees ``(*outer, C, *spatial)``. The
view reorders axes and normalises intensities block by block as tiles are read, so a stack
on disk is never copied or converted as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_studio.models.normalize import normalize_intensity

AXIS_LETTERS = "TZCYX"
DEFAULT_SPATIAL_AXES = {1: "X", 2: "YX", 3: "ZYX"}


@dataclass(frozen=True)
class StackLayout:
    """Which stack axes are the network's spatial axes, and which are looped over.

    ``group_axes`` (e.g. T) are processed one index at a time; ``inner_axes`` (Z, for a 2D
    network on a 3D stack) are batched as tiles and post-processed together, so labels are
    consistent across slices. ``outer_axes = group_axes + inner_axes``.
    """

    axes: str
    sizes: dict
    spatial_axes: tuple[str, ...]
    group_axes: tuple[str, ...]
    inner_axes: tuple[str, ...]

    @property
    def outer_axes(self) -> tuple[str, ...]:
        return self.group_axes + self.inner_axes

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        return tuple(self.sizes[a] for a in self.spatial_axes)

    def output_shape(self) -> tuple[int, ...]:
        """Shape over ``outer_axes + spatial_axes`` (a labels array)."""
        return (*[self.sizes[a] for a in self.outer_axes], *self.spatial_shape)

    @classmethod
    def from_axes(cls, shape, axes: str, net, task) -> StackLayout:
        """Checks that the stack fits the network; ValueError saying what does not."""
        axes = str(axes).upper()
        if len(axes) != len(shape) or set(axes) - set(AXIS_LETTERS) or len(set(axes)) != len(axes):
            raise ValueError(
                f"axes {axes!r} do not describe a stack of shape {tuple(shape)}: give one "
                f"letter per dimension from {AXIS_LETTERS!r}, each at most once"
            )
        dims = int(net.spatial_dims)
        spatial = task.spatial_axes if len(task.spatial_axes) == dims else DEFAULT_SPATIAL_AXES[dims]
        missing = [a for a in spatial if a not in axes]
        if missing:
            raise ValueError(f"the model needs a {dims}D image with axes {spatial}; "
                             f"this one has axes {axes} (no {''.join(missing)})")
        sizes = dict(zip(axes, (int(n) for n in shape)))
        channels = sizes.get("C", 1)
        if channels != int(net.in_channels):
            raise ValueError(f"the model takes {net.in_channels} channel(s), the image has {channels}")
        if any(sizes[a] == 0 for a in axes):
            raise ValueError(f"the image has an empty axis: shape {tuple(shape)} ({axes})")
        outer = [a for a in axes if a not in spatial and a != "C"]
        inner = tuple(a for a in outer if a == "Z")
        group = tuple(a for a in outer if a != "Z")
        return cls(axes, sizes, tuple(spatial), group, inner)


class ModelInputView:
    """Lazy ``(*outer, C, *spatial)`` float32 view of a stack, normalised per channel.

    ``__getitem__`` takes one entry per view axis: ints for outer axes, slices elsewhere
    (what ``tiling.read_window`` asks for); ``lo``/``hi`` are scalars or ``(C,)``, kept in
    float64 (a float64 image's range may lie beyond float32's); ``invert``: the task's
    ``invert_intensity`` (``normalize_intensity``).
    """

    def __init__(self, data, layout: StackLayout, lo, hi, *, invert: bool = False):
        self.data, self.layout, self.invert = data, layout, bool(invert)
        self.lo, self.hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
        self.view_axes = (*layout.outer_axes, "C", *layout.spatial_axes)
        self.shape = tuple(layout.sizes.get(a, 1) for a in self.view_axes)
        self.ndim = len(self.shape)

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (len(self.view_axes) - len(key))
        wanted = dict(zip(self.view_axes, key))
        data_key = tuple(wanted[a] for a in self.layout.axes)
        block = np.asarray(self.data[data_key])
        kept = [a for a in self.layout.axes if not isinstance(wanted[a], (int, np.integer))]
        target = [a for a in self.view_axes if a in kept]
        block = np.transpose(block, [kept.index(a) for a in target])
        if "C" not in self.layout.axes and not isinstance(wanted["C"], (int, np.integer)):
            # A single-channel stack gets its channel axis here, after the outer axes.
            position = sum(a in self.layout.outer_axes for a in target)
            block = np.expand_dims(block, position)
            target.insert(position, "C")
        lo, hi = self.lo, self.hi
        if lo.ndim == 1:
            lo, hi = lo[wanted["C"]], hi[wanted["C"]]
        axis = target.index("C") if "C" in target and np.ndim(lo) == 1 else None
        # (NaN/inf pixels are replaced there: they would spread through a tile's convolutions.)
        return normalize_intensity(block, lo, hi, channel_axis=axis, invert=self.invert)
