"""The engine's object ids moved above the labels' own, never past the top of their dtype.

A prediction streamed into labels that hold objects outside the region it writes gives its
objects ids above the largest of those (``LiveLabelsDestination.id_offset``). Labels brought
from another tool may hold ids near the top of their dtype (uint16 up to 65,535, int32 up
to 2**31 - 1, uint32 near 2**32): the engine's int32 ids plus such an offset overflowed
(an OverflowError mid-run) or wrapped round, quietly, into negative ids or small ones that
other objects hold. Here the sum is checked exactly first and the run refused where it
does not fit, rather than widening the user's labels: a wider dtype changes what is saved
and doubles a stack's memory, a choice for the user (Relabel 1..N frees the ids instead).
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.errors import UserError


class NoRoomForNewIds(UserError):
    """The run's new object ids do not fit in the labels' dtype above the ids they hold."""


def ids_moved_up(new: np.ndarray, offset: int, dtype: np.dtype, name: str | None = None) -> np.ndarray:
    """``new`` (the engine's labels: 0 background, ids from 1) with every id moved up by
    ``offset``, as ``dtype``; :class:`NoRoomForNewIds` where the largest would pass the
    dtype's top (``name``: the image, for the message)."""
    dtype = np.dtype(dtype)
    top = int(new.max()) if new.size else 0
    if np.issubdtype(dtype, np.integer) and top > 0 and offset + top > np.iinfo(dtype).max:
        raise NoRoomForNewIds(no_room_message(name, offset, dtype, offset + top))
    # (checked in Python's exact integers above: the sum in ``dtype`` cannot wrap now, and
    # uint64 offsets past int64's top need no wider type that does not exist)
    moved = np.asarray(new).astype(dtype, copy=False)
    if offset:
        moved = np.where(moved > 0, moved + dtype.type(offset), dtype.type(0))
    return moved


def check_room_above(largest: int, dtype: np.dtype, name: str | None = None) -> None:
    """Refuse before anything is written when labels of ``dtype`` already hold the largest
    id it can (``largest``): not one new object would have an id of its own."""
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer) and largest >= np.iinfo(dtype).max:
        raise NoRoomForNewIds(no_room_message(name, largest, dtype, largest + 1))


def no_room_message(name: str | None, largest: int, dtype: np.dtype, needed: int) -> str:
    """What went wrong and what to do, naming the image, its largest id and the dtype."""
    labels = "the labels" if name is None else f"the labels of {name}"
    return (f"Segmenting stopped before changing {labels}: they hold ids up to {largest:,}, "
            f"and the new objects need ids up to {needed:,}, past the largest a {dtype} "
            f"label image can hold ({np.iinfo(dtype).max:,}). Press Relabel 1..N (Correct "
            "panel) to number the objects from 1, then segment again")  # fmt: skip
