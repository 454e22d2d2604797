"""Labelling batches on several threads at once.

The steps of labelling a batch (sorting for the h-maxima, distance maps, the watershed, the
per-object measures) run in C without holding Python's lock, so batches labelled on several
threads use several cores: measured on 2 cores, 2 threads label the nuclei stack in half the
time. Results are taken in the batches' order, so what is written, and the ids, do not
depend on the number of threads.
"""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import ThreadPoolExecutor

# Batches labelled at once, one per core up to this many: their steps (sorting, distance
# maps, the watershed) run in C without Python's lock; each batch in flight holds ~100 MB.
MAX_LABEL_THREADS = 8
LABEL_THREADS_ENV = "UNET_STUDIO_LABEL_THREADS"


def label_threads() -> int:
    """Threads for labelling batches: the cores this process may use, at most
    ``MAX_LABEL_THREADS`` (``UNET_STUDIO_LABEL_THREADS`` overrides)."""
    value = os.environ.get(LABEL_THREADS_ENV)
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"{LABEL_THREADS_ENV} must be a whole number, got {value!r}") from None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_LABEL_THREADS))


def in_order(function, items, threads: int):
    """``map(function, items)`` on ``threads`` threads, results in the order of ``items``,
    at most two per thread computed ahead (so finished batches do not pile up in memory)."""
    if threads <= 1:
        yield from map(function, items)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="unet-studio-labels") as pool:
        pending = deque()
        for item in items:
            pending.append(pool.submit(function, item))
            if len(pending) > 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
