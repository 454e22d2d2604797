"""Reference cycles are collected on the GUI thread only, once the app has a session: a Qt
object in a cycle collected on a worker thread was deleted there, where Qt cannot unregister
its timers (crashes in the event processing now and then, in full test runs)."""

from __future__ import annotations

import gc
import threading

import pytest
from qtpy.QtCore import QObject, Qt, QTimer

pytestmark = pytest.mark.qt


def _allocate_cycles(count: int = 60_000) -> None:
    """What a worker thread does: allocate (here lists in cycles), which runs Python's
    automatic collection in it whenever a generation's count passes its threshold."""
    junk = [[] for _ in range(count)]
    for item in junk:
        item.append(item)


def test_a_qt_object_in_a_cycle_is_deleted_on_the_gui_thread(session, qtbot):
    deleted_in: list[threading.Thread] = []
    holder = QObject()
    holder.timer = QTimer(holder)  # (a timer of its own, running, as a session's can be)
    holder.timer.start(10_000)
    holder.itself = holder  # (a reference cycle: only the cyclic collector frees it)
    holder.destroyed.connect(lambda *_: deleted_in.append(threading.current_thread()),
                             Qt.ConnectionType.DirectConnection)
    del holder
    worker = threading.Thread(target=_allocate_cycles)
    worker.start()
    worker.join()
    assert deleted_in == []  # (the worker's allocations collected nothing of the GUI's)
    assert not gc.isenabled()
    qtbot.waitUntil(lambda: bool(deleted_in), timeout=5000)  # (the GUI thread's timer collects it)
    assert deleted_in == [threading.main_thread()]


def test_the_collector_collects_what_the_automatic_one_would(session):
    from unet_studio.app.qt.gui_thread_gc import collect_due

    collect_due()
    gc.collect()
    assert collect_due() is None  # (nothing due)
    _allocate_cycles(gc.get_threshold()[0] * 3)
    assert collect_due() is not None
