"""Giving freed heap memory back to the system after a long piece of engine work.

A Segment run or a Train round allocates and frees hundreds of MB of tensors and arrays
in a worker thread. glibc's malloc keeps much of what is freed inside its heaps (the
mmap threshold rises with every large free, so later large buffers come from the heaps,
which then fragment): over a long session 150-165 MB of freed memory stayed resident,
while what malloc had handed out grew under 1 MB an open/Segment/Train/close iteration
(``benchmarks/bench_session_drift.py``). ``malloc_trim(0)`` returns the free pages of
every arena to the system. Linux with glibc only; elsewhere (macOS, Windows, musl) it is
a no-op.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import time

log = logging.getLogger(__name__)

_UNLOADED = object()
_malloc_trim = _UNLOADED


def _trim_function():
    """glibc's ``malloc_trim``, or None where there is none."""
    global _malloc_trim
    if _malloc_trim is _UNLOADED:
        _malloc_trim = None
        if sys.platform.startswith("linux"):
            try:
                function = getattr(ctypes.CDLL(None), "malloc_trim", None)  # (the process's libc)
            except OSError:
                function = None
            if function is not None:
                function.argtypes, function.restype = [ctypes.c_size_t], ctypes.c_int
                _malloc_trim = function
    return _malloc_trim


def release_freed_heap() -> bool:
    """Return the free pages of malloc's heaps to the system; True when some were.

    Takes milliseconds (it walks the free chunks of each arena, holding that arena's lock):
    call it when a piece of work ends, not per step. Any thread."""
    trim = _trim_function()
    if trim is None:
        return False
    start = time.perf_counter()
    released = bool(trim(0))
    log.debug("malloc_trim: %s in %.1f ms", released, 1000 * (time.perf_counter() - start))
    return released
