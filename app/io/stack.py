"""``Stack``: an opened image, its axes and physical scale, with pixels left on disk."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from unet_studio.app.io.axes import UNIT_PIXEL, parse_user_axes
from unet_studio.app.io.validate import check_fits_in_memory


@dataclasses.dataclass(frozen=True)
class Stack:
    """An image stack as stored: ``data`` has one dimension per letter of ``axes``.

    path: the file, folder or glob it came from. name: a display name (file stem).
    data: a lazy array-like (``np.memmap`` or :class:`LazyArray`; ``shape``, ``dtype``,
      ``ndim``, ``__getitem__`` returning numpy, ``np.asarray``); reading is deferred.
    axes: letters over ``"TZCYX"``, e.g. ``"ZYX"``, ``"TCYX"``, ``"YXC"``: in that canonical
      order (RGB(A) colours last) when ``open_stack`` made it, whatever order the file
      stores (``metadata["stored_axes"]``); in storage order from the format readers.
    scale: per axis, the pixel size in micrometres (Z, Y, X), the frame interval in seconds
      (T), 1.0 where unknown and for C. units: per non-channel axis, "micrometer", "second" or
      "pixel" (unknown). lazy: True when opening read no pixels.
    metadata: what the file said: "format", "file_axes", "axes_source" ("file", "guessed",
      "user"), "kind" (labels/mask/probabilities/image if written by us), and more.
    levels: for pyramids (OME-Zarr, pyramidal OME-TIFF), every resolution level, level 0
      first (== ``data``), each with the same axes; empty for single-resolution files.
    """

    path: Path
    name: str
    data: Any
    axes: str
    scale: dict[str, float]
    units: dict[str, str]
    lazy: bool = True
    metadata: dict[str, Any] = dataclasses.field(default_factory=dict)
    levels: tuple = ()
    _closers: tuple[Callable[[], None], ...] = dataclasses.field(default=(), repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return len(self.axes)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data.dtype)

    @property
    def sizes(self) -> dict[str, int]:
        """Axis letter -> length, e.g. ``{"Z": 60, "Y": 256, "X": 256}``."""
        return dict(zip(self.axes, self.shape))

    @property
    def scale_known(self) -> bool:
        """True when every non-channel axis has a physical unit."""
        return all(unit != UNIT_PIXEL for unit in self.units.values())

    @property
    def spatial_scale_known(self) -> bool:
        """True when every spatial axis (Z, Y, X) has a physical unit: the pixel sizes that
        shape objects, whether or not a time interval is known."""
        return all(unit != UNIT_PIXEL for axis, unit in self.units.items() if axis in "ZYX")

    def to_numpy(self) -> np.ndarray:
        """All pixels in memory, writable (shape ``self.shape``).

        InputFileError if the file is damaged or the pixels do not fit in memory.
        """
        if isinstance(self.data, np.ndarray):  # a read-only memory map: copy it in
            check_fits_in_memory(self.path, self.data.nbytes)
            return np.array(self.data)
        return np.asarray(self.data)

    def with_axes(self, axes: str) -> Stack:
        """The same pixels with user-set axes (when metadata is missing or wrong).

        Known scale of a letter that keeps its name is kept; others become 1.0 / "pixel".
        """
        axes = parse_user_axes(self.path, axes, self.shape)
        scale = {a: self.scale.get(a, 1.0) for a in axes}
        units = {a: self.units.get(a, UNIT_PIXEL) for a in axes if a != "C"}
        metadata = {**self.metadata, "axes_source": "user"}
        return dataclasses.replace(self, axes=axes, scale=scale, units=units, metadata=metadata)

    def close(self) -> None:
        """Release open file handles (lazy arrays stop working afterwards)."""
        for close in self._closers:
            close()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
