"""Labelling batches on several threads at once.

The steps of labelling a batch (sorting for the h-maxima, distance maps, the watershed, the
per-object measures) run in C without holding Python's lock, so batches labelled on several
threads use several cores (measured on 2 cores: 2 threads label the nuclei stack of
``bench_labels_memory.py`` 1.7x faster than one). Results are taken in the batches' order, so what is written, and the ids, do not
depend on the number of threads.
"""

from __future__ import annotations

import heapq
import os
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

import numpy as np

# Batches labelled at once: one per core, at most this many, and at most one per
# ``MEMORY_PER_THREAD`` of the memory available: each batch in flight holds ~200 MB
# (measured: 2 threads instead of 1 raise the labelling's peak by ~190 MiB), so that the
# labelling of a stack stays near a gigabyte whatever the machine.
MAX_LABEL_THREADS = 4
MEMORY_PER_THREAD = 1 << 30
LABEL_THREADS_ENV = "UNET_STUDIO_LABEL_THREADS"


def label_threads() -> int:
    """Threads for labelling batches: the cores this process may use, at most
    ``MAX_LABEL_THREADS`` and one per ``MEMORY_PER_THREAD`` of available memory
    (``UNET_STUDIO_LABEL_THREADS`` overrides)."""
    value = os.environ.get(LABEL_THREADS_ENV)
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            raise ValueError(f"{LABEL_THREADS_ENV} must be a whole number, got {value!r}") from None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    available = available_memory()
    by_memory = MAX_LABEL_THREADS if available is None else available // MEMORY_PER_THREAD
    return max(1, min(cores or 1, MAX_LABEL_THREADS, by_memory))


def available_memory() -> int | None:
    """Bytes of memory available to new work (Linux ``MemAvailable``), None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def in_order(function, items, threads: int):
    """``map(function, items)`` on ``threads`` threads, results in the order of ``items``,
    at most one per thread waiting beyond those running (so finished batches do not pile
    up in memory)."""
    if threads <= 1:
        yield from map(function, items)
        return
    pending = deque()
    with ThreadPoolExecutor(threads, thread_name_prefix="unet-studio-labels") as pool:
        try:
            for item in items:
                pending.append(pool.submit(function, item))
                if len(pending) >= 2 * threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:  # stopped early (a cancelled run): only those running are waited for
            for future in pending:
                future.cancel()


def overlapping_earlier(boxes) -> list[np.ndarray]:
    """For each box (a tuple of slices with starts and stops), the indices of the earlier
    boxes it overlaps."""
    if not boxes:
        return []
    starts = np.asarray([[s.start for s in box] for box in boxes])
    stops = np.asarray([[s.stop for s in box] for box in boxes])
    return [np.flatnonzero(np.all((starts[:j] < stops[j]) & (starts[j] < stops[:j]), axis=1))
            for j in range(len(boxes))]


def in_dependency_order(function, count: int, after, threads: int):
    """Run ``function(j)`` for j in ``range(count)`` on ``threads`` threads, each only once
    every index in ``after[j]`` (earlier ones) has finished; yields ``(j, result)`` as each
    finishes, the lowest ready index started first. Work whose results would depend on the
    order (batches writing into overlapping crops) thus sees what one thread going through
    the indices in order would, while independent work runs at once."""
    if threads <= 1:
        for j in range(count):
            yield j, function(j)
        return
    waiting_on = [len(a) for a in after]
    dependents = [[] for _ in range(count)]
    for j, earlier in enumerate(after):
        for i in earlier:
            dependents[int(i)].append(j)
    ready = [j for j in range(count) if not waiting_on[j]]
    heapq.heapify(ready)
    running = {}
    # Stopped early (a cancelled run: the generator closed), those running finish and no
    # more start: only ``threads`` are ever submitted at once.
    with ThreadPoolExecutor(threads, thread_name_prefix="unet-studio-labels") as pool:
        while ready or running:
            while ready and len(running) < threads:
                j = heapq.heappop(ready)
                running[pool.submit(function, j)] = j
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(finished, key=running.get):
                j = running.pop(future)
                result = future.result()
                for k in dependents[j]:
                    waiting_on[k] -= 1
                    if not waiting_on[k]:
                        heapq.heappush(ready, k)
                yield j, result
