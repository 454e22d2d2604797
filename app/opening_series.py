"""Which image of a multi-series file a reader opens: ``unet-studio gui FILE --series N``.

napari's ``viewer.open`` hands a reader the path and nothing else, so the launcher says
the series here, around its ``viewer.open`` calls, and the napari reader
(``plugins.io.read_stacks``) asks :func:`chosen_series`. A context variable set only inside
``with opening_series(n)``: File > Open and drag and drop, outside it, open the first image
as before, and nothing outlives the ``with``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

# (0-based, as ``open_stack(series=...)``; None: nobody chose, the first image)
_SERIES: ContextVar[int | None] = ContextVar("unet_studio_opening_series", default=None)


@contextmanager
def opening_series(series: int | None) -> Iterator[None]:
    """Readers inside the ``with`` open image ``series`` (from 0) of a multi-series file;
    None leaves them to their default, the first."""
    token = _SERIES.set(series)
    try:
        yield
    finally:
        _SERIES.reset(token)


def chosen_series() -> int | None:
    """The series (from 0) asked for by the ``opening_series`` around this call, or None."""
    return _SERIES.get()
