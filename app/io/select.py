"""Choosing what to segment: channel, time points, Z range, and 2D or 3D interpretation.

``select(stack, Selection(...))`` returns a smaller lazy Stack (nothing is read); an int picks
one index and drops that axis, a ``(start, stop)`` pair keeps a range. ``read_input`` then reads
the selected pixels for a network. RGB(A) images open with their colours as a C axis of 3 or 4
channels; ``channel="luminance"`` turns them into one grey channel (0.299 R + 0.587 G +
0.114 B, alpha ignored), which is what single-channel nuclei models expect.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.io.lazy import LazyArray, _normalise_key
from unet_studio.app.io.stack import Stack
from unet_studio.app.io.validate import replace_nonfinite

LUMINANCE = "luminance"
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _as_index(value, name: str):
    """None, an int, or a slice from a (start, stop) pair / range / slice; ValueError otherwise."""
    if value is None or isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return value
    if isinstance(value, slice):
        return value
    if isinstance(value, range):
        return slice(value.start, value.stop, value.step)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return slice(int(value[0]), int(value[1]))
    raise ValueError(f"{name} must be None, an index, or a (start, stop) pair; got {value!r}")


@dataclasses.dataclass(frozen=True)
class Selection:
    """What part of a stack to segment and how.

    channel: None (all channels, or no C axis), an index, evenly spaced indices as a tuple,
      or "luminance" (RGB(A) -> one grey channel).
    time / z: None (all), an index (drops the axis), or a (start, stop) pair (half-open).
    spatial_dims: 2 (each Z plane on its own), 3 (Z is a spatial axis), or None (3 when the
      selection keeps a Z axis of more than one plane, else 2).
    """

    channel: int | tuple[int, ...] | str | None = None
    time: int | tuple[int, int] | None = None
    z: int | tuple[int, int] | None = None
    spatial_dims: int | None = None

    def __post_init__(self):
        _as_index(self.time, "time")
        _as_index(self.z, "z")
        if self.spatial_dims not in (None, 2, 3):
            raise ValueError(f"spatial_dims must be 2, 3 or None; got {self.spatial_dims!r}")
        if isinstance(self.channel, str) and self.channel != LUMINANCE:
            raise ValueError(f"channel must be an index, a tuple, None or {LUMINANCE!r}; got {self.channel!r}")
        if isinstance(self.channel, (tuple, list)):
            _channel_slice(self.channel)


def _channel_slice(channels) -> slice:
    channels = [int(c) for c in channels]
    steps = {b - a for a, b in zip(channels, channels[1:])}
    if not channels or len(steps) > 1 or (steps and steps.pop() <= 0):
        raise ValueError(f"channels must be increasing and evenly spaced, e.g. (0, 1) or (0, 2); got {channels}")
    step = channels[1] - channels[0] if len(channels) > 1 else 1
    return slice(channels[0], channels[-1] + 1, step)


def _view(data, key: tuple):
    """A lazy view: LazyArray.view, or numpy basic indexing (a view of a memmap)."""
    return data.view(key) if isinstance(data, LazyArray) else data[key]


def select(stack: Stack, selection: Selection | None = None, **fields) -> Stack:
    """The selected part of ``stack`` as a new lazy Stack (``fields`` build a Selection)."""
    selection = selection or Selection(**fields)
    picks = {"T": _as_index(selection.time, "time"), "Z": _as_index(selection.z, "z")}
    channel = selection.channel
    if channel is not None and channel != LUMINANCE:
        picks["C"] = channel if isinstance(channel, (int, np.integer)) else _channel_slice(channel)
    for axis, pick in picks.items():
        if pick is not None and axis not in stack.axes:
            raise UserError(f"{stack.path}: cannot select {axis}: the stack has axes {stack.axes}")
    key = tuple(picks.get(axis) if picks.get(axis) is not None else slice(None) for axis in stack.axes)
    try:
        data = _view(stack.data, key)
    except IndexError as error:
        raise UserError(f"{stack.path}: selection out of range for shape {stack.shape} ({stack.axes}): {error}") from error
    axes = "".join(a for a, k in zip(stack.axes, key) if isinstance(k, slice))
    if channel == LUMINANCE:
        data, axes = _luminance(stack, data, axes)
    spatial_dims = selection.spatial_dims or (3 if "Z" in axes and data.shape[axes.index("Z")] > 1 else 2)
    if spatial_dims == 3 and "Z" not in axes:
        raise UserError(f"{stack.path}: a 3D interpretation needs a Z axis; the selection has axes {axes} "
                        "(set the axes if one of them is depth)")
    return dataclasses.replace(
        stack, data=data, axes=axes, scale={a: stack.scale[a] for a in axes},
        units={a: u for a, u in stack.units.items() if a in axes},
        metadata={**stack.metadata, "selection": selection, "spatial_dims": spatial_dims}, levels=())


def spatial_axes(axes: str, spatial_dims: int) -> str:
    """The axes a network sees as spatial, in storage order: Y and X, plus Z for 3D."""
    wanted = "ZYX" if spatial_dims == 3 else "YX"
    return "".join(a for a in axes if a in wanted)


def loop_axes(axes: str, spatial_dims: int) -> str:
    """Axes processed one index at a time (T, and Z for a 2D interpretation)."""
    return "".join(a for a in axes if a not in spatial_axes(axes, spatial_dims) and a != "C")


class _Luminance:
    """Source for LazyArray: grey values of an RGB(A) array, channel axis removed."""

    def __init__(self, data, channel_axis: int):
        self._data = data
        self._channel_axis = channel_axis
        self.shape = tuple(n for i, n in enumerate(data.shape) if i != channel_axis)
        self.dtype = np.dtype(np.float32)

    def __getitem__(self, key: tuple) -> np.ndarray:
        key = list(_normalise_key(key, len(self.shape)))
        kept_before = sum(isinstance(k, slice) for k in key[: self._channel_axis])
        key.insert(self._channel_axis, slice(0, 3))
        rgb = np.asarray(self._data[tuple(key)], dtype=np.float32)
        return np.tensordot(rgb, _LUMA_WEIGHTS, axes=([kept_before], [0]))


def luminance_view(data, channel_axis: int, path) -> LazyArray:
    """The grey values (0.299 R + 0.587 G + 0.114 B, float32, alpha ignored) of ``data``'s
    RGB(A) along ``channel_axis``, which goes away; lazy: an index reads only its region.
    One function for the CLI's ``--channel luminance``, the Segment panel and fine-tuning,
    so that all three feed a model the same values. Read errors name ``path``."""
    return LazyArray(_Luminance(data, channel_axis), path)


def _luminance(stack: Stack, data, axes: str):
    if "C" not in axes or data.shape[axes.index("C")] not in (3, 4):
        raise UserError(f"{stack.path}: luminance needs an RGB or RGBA image (3 or 4 channels); axes {axes}, shape {tuple(data.shape)}")
    return luminance_view(data, axes.index("C"), stack.path), axes.replace("C", "")


def read_input(stack: Stack) -> np.ndarray:
    """The pixels of a (selected) stack in memory, ready for normalisation.

    Shape ``stack.shape`` in ``stack.axes`` order. NaN/Inf in float images are replaced (see
    ``validate.replace_nonfinite``); damaged files raise InputFileError.
    """
    data, _ = replace_nonfinite(stack.to_numpy(), stack.path)
    return data
