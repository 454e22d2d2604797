"""How many threads label batches, and results that come back in order, few at a time."""

from __future__ import annotations

import os
import threading
import time

import pytest

from unet_studio.models import label_threads as lt


def test_threads_follow_cores_and_available_memory(monkeypatch):
    monkeypatch.delenv(lt.LABEL_THREADS_ENV, raising=False)
    monkeypatch.setattr(lt.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    monkeypatch.setattr(lt, "available_memory", lambda: 64 << 30)
    assert lt.label_threads() == lt.MAX_LABEL_THREADS
    monkeypatch.setattr(lt, "available_memory", lambda: 3 << 30)  # a gigabyte per thread
    assert lt.label_threads() == 3
    monkeypatch.setattr(lt, "available_memory", lambda: 200 << 20)
    assert lt.label_threads() == 1
    monkeypatch.setattr(lt.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(lt, "available_memory", lambda: None)  # (not Linux)
    assert lt.label_threads() == 2
    monkeypatch.setenv(lt.LABEL_THREADS_ENV, "6")
    assert lt.label_threads() == 6


@pytest.mark.skipif(not os.path.exists("/proc/meminfo"), reason="needs Linux /proc")
def test_available_memory_is_read_on_linux():
    available = lt.available_memory()
    assert available is not None and 0 < available < 1 << 50


def test_results_come_in_order_with_few_computed_ahead():
    """Items that finish out of order come back in order; while the consumer holds back, at
    most two per thread are started (finished batches do not pile up)."""
    started = []
    lock = threading.Lock()

    def work(item):
        with lock:
            started.append(item)
        time.sleep(0.02 * (item % 3))  # later items often finish first
        return item * item

    results = lt.in_order(work, range(20), 3)
    assert next(results) == 0
    time.sleep(0.3)  # the consumer is slow: nothing beyond the window starts
    assert len(started) <= 2 * 3 + 1
    assert [0] + list(results) == [i * i for i in range(20)]
    assert list(lt.in_order(work, range(5), 1)) == [0, 1, 4, 9, 16]


def test_overlapping_earlier_boxes():
    boxes = [(slice(0, 10), slice(0, 10)), (slice(8, 20), slice(0, 10)),
             (slice(20, 30), slice(0, 10)), (slice(0, 30), slice(9, 12))]
    assert [list(a) for a in lt.overlapping_earlier(boxes)] == [[], [0], [], [0, 1, 2]]
    assert lt.overlapping_earlier([]) == []


def test_dependent_work_waits_and_independent_work_runs_at_once():
    """Item j starts only once every item in after[j] has finished; items with no such tie
    run at the same time; every result comes back once; one thread goes in index order."""
    after = [[], [], [0], [1], [2, 3], []]
    finished, overlap, running = set(), [], set()
    lock = threading.Lock()

    def work(j):
        with lock:
            assert set(after[j]) <= finished, f"{j} started before {after[j]} finished"
            running.add(j)
            overlap.append(len(running))
        time.sleep(0.05)
        with lock:
            running.discard(j)
            finished.add(j)
        return j * 10

    results = dict(lt.in_dependency_order(work, len(after), after, 3))
    assert results == {j: j * 10 for j in range(len(after))} and max(overlap) >= 2
    assert [j for j, _ in lt.in_dependency_order(lambda j: j, 6, after, 1)] == list(range(6))


def test_a_stopped_dependency_run_starts_no_more_work():
    started = []
    steps = lt.in_dependency_order(lambda j: started.append(j) or time.sleep(0.05), 10,
                                   [[j - 1] if j else [] for j in range(10)], 2)
    next(steps)
    steps.close()  # (a cancelled labelling)
    time.sleep(0.2)
    assert len(started) <= 2
