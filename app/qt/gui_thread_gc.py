"""Python's cyclic garbage collector, run on the GUI thread only.

Python collects reference cycles on whichever thread allocates when a generation's count
passes its threshold: a worker thread training, labelling or autosaving. A Qt object owned
by Python and held in a cycle (a session, a panel, a worker's signals) is then deleted on a
thread that does not own it, where Qt cannot unregister its timers: the next timer event
reaches freed memory. (A crash in the GUI thread's event processing, now and then in full
test runs; a core dump showed ``QCoreApplication::notifyInternal2`` handed an object whose
memory already held a string.) The Qt docs allow deleting an object only on its own thread.

So once the app has a session, the automatic collection is off and the GUI thread collects
instead, every ``INTERVAL_MS``, the generations whose counts passed their thresholds: what
the automatic collector would have collected, but here. The workers' cycles wait at most
that long; plain reference counting, which frees almost everything, is unchanged. (The
same cure as pyqtgraph's opt-in ``GarbageCollector``; written here from the Qt rule above.)
"""

from __future__ import annotations

import gc
import threading

from qtpy.QtCore import QCoreApplication, QObject, QTimer

INTERVAL_MS = 500

_installed: GuiThreadCollector | None = None
_startup_frozen = False


def collect_due() -> int | None:
    """Collect the oldest generation whose count passed its threshold, as the automatic
    collector would (an older one takes the younger ones with it); returns it, or None when
    none is due."""
    counts, thresholds = gc.get_count(), gc.get_threshold()
    for generation in (2, 1, 0):
        if thresholds[generation] and counts[generation] > thresholds[generation]:
            gc.collect(generation)
            return generation
    return None


class GuiThreadCollector(QObject):
    """Collects on the GUI thread, on a timer, while automatic collection is off; at the
    application's quit automatic collection comes back (Python's own teardown)."""

    def __init__(self, application: QCoreApplication, interval_ms: int = INTERVAL_MS):
        super().__init__(application)  # (Qt's: deleted with the application, on its thread)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(collect_due)
        self._timer.start()
        application.aboutToQuit.connect(self.stop)
        gc.disable()

    def stop(self) -> None:
        self._timer.stop()
        gc.enable()


def collect_on_gui_thread() -> GuiThreadCollector | None:
    """Make the cyclic collection the GUI thread's (once per process; called on the GUI
    thread, where Qt objects are made). Nothing without an application, or off its thread."""
    global _installed
    application = QCoreApplication.instance()
    if application is None or threading.current_thread() is not threading.main_thread():
        return None
    if _installed is None or not _alive(_installed):
        _installed = GuiThreadCollector(application)
    return _installed


def _alive(collector: GuiThreadCollector) -> bool:
    try:
        collector.objectName()
    except RuntimeError:  # (its application was deleted: a new one needs a new collector)
        return False
    return True


def freeze_startup_objects() -> bool:
    """Leave what the app is made of out of every later full collection: the objects alive
    now, once their garbage is collected, are frozen (``gc.freeze``). napari collects in
    full at every layer removal (and viewer close), on the GUI thread: with napari's, Qt's,
    the window's and the modules' ~450,000 objects walked each time, a removal took 0.38 s
    on the 2-core machine, 0.13 s without them (``benchmarks/bench_layer_removal.py``). A frozen
    object in a reference cycle is never freed, so this is for the standalone app, once,
    before any image is opened: its window and modules live as long as it does, while an
    image layer closed later must go. True when it froze (the first call of a process)."""
    global _startup_frozen
    if _startup_frozen:
        return False
    _startup_frozen = True
    gc.collect()
    gc.freeze()
    return True
