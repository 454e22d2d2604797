"""release_freed_heap: freed memory that glibc kept inside its heap goes back to the system."""

from __future__ import annotations

import ctypes
import sys

import pytest

from unet_studio.app.heap_release import release_freed_heap

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not hasattr(ctypes.CDLL(None), "malloc_trim"),
    reason="glibc's malloc only")


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS"))


@glibc
def test_freed_heap_memory_goes_back_to_the_system():
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # 80 MB in 64 KB blocks (below any mmap threshold: they come from the heap), each
    # touched; every other one freed. The freed 40 MB lie between blocks still in use, so
    # free() cannot give them back: they stay resident, as after an engine run.
    size = 64 * 1024
    blocks = [libc.malloc(size) for _ in range(1280)]
    for block in blocks:
        ctypes.memset(block, 1, size)
    for block in blocks[::2]:
        libc.free(block)
    try:
        before = _rss_mb()
        assert release_freed_heap()
        assert before - _rss_mb() > 20
    finally:
        for block in blocks[1::2]:
            libc.free(block)


def test_a_no_op_without_glibc(monkeypatch):
    from unet_studio.app import heap_release

    monkeypatch.setattr(heap_release, "_malloc_trim", heap_release._UNLOADED)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert release_freed_heap() is False
