"""Run the engine's ``iter_*`` generators off the GUI thread.

The engine's long work (``iter_predict_image``, ``iter_finetune``) is a generator that yields
progress often. :class:`EngineWorker` advances it in Qt's global thread pool and emits one
``yielded`` signal per step; the signals object lives in the GUI thread, so every connected
callback runs there (queued), never in the worker thread: callbacks may touch widgets and
layers, the worker never does.

Cancel (``worker.quit()``) takes effect between two yields: the generator is *closed* in the
worker thread, so the engine's ``finally`` blocks run there (free the GPU, keep the best
checkpoint) before ``aborted`` is emitted. Pause/resume hold the loop between yields too.

Engine workers run in their own thread pool whose threads have a lower CPU priority (Linux
nice +10): when the engine and the GUI compete for the cores, the GUI thread wins, so the
viewer stays responsive even while every core computes.

While engine work runs, Python's full garbage collections skip the objects that existed
when it started (``collection_hold``): with napari, torch and the rest loaded, a
full collection walks ~500k objects holding the interpreter lock (0.3-0.8 s measured on the
shared 2-core machine), a stall of the GUI thread wherever it happens to be triggered.

Work still running when the program exits is stopped and waited for before anything is torn
down (:func:`finish_engine_work`, at Qt's ``aboutToQuit`` and at Python's exit): a script
that closes its window and ends, or napari driven without its event loop, never quits Qt's
application, and PySide's exit teardown deletes every parentless QObject - a running
worker's signals among them - under the worker ("Signal source has been deleted", twice,
from the worker thread). A worker that still finds its signals gone stops quietly.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from qtpy.QtCore import QCoreApplication, QThreadPool
from superqt.utils import GeneratorWorker

from unet_studio.app import heap_release
from unet_studio.app.errors import UserError
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.collection_hold import hold_full_collections, release_full_collections

log = logging.getLogger(__name__)


def _drive(generator: Generator) -> Generator:
    # GeneratorWorker wants a generator *function*; delegating with ``yield from`` forwards
    # close() to the engine's generator, so cancelling reaches it.
    return (yield from generator)


BACKGROUND_NICENESS = 10
_engine_pool: QThreadPool | None = None


def engine_pool() -> QThreadPool:
    """The thread pool of engine work (created on first use, separate from Qt's global
    pool so that lowering its threads' priority affects nothing else)."""
    global _engine_pool
    if _engine_pool is None:
        _engine_pool = QThreadPool()
        _engine_pool.setMaxThreadCount(2)  # a prediction and a fine-tune at the same time
        application = QCoreApplication.instance()
        if application is not None:  # napari started without our launcher quits here too
            application.aboutToQuit.connect(finish_engine_work)
    return _engine_pool


def _lower_thread_priority() -> None:
    """Make the calling thread yield the CPU to the GUI thread (Linux: per-thread nice)."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICENESS:
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICENESS)
    except OSError as error:  # not allowed here: run at normal priority
        log.debug("could not lower the engine thread's priority: %s", error)


def _finish_engine_work_first_at_exit() -> None:
    """Make :func:`finish_engine_work` the next exit hook to run. atexit runs the hooks last
    registered first, so (re)registering it as work starts puts it ahead of PySide's
    teardown (registered when QtCore was imported) and of the exit hooks of what the work
    uses (a project's autosave, registered when the project opened)."""
    atexit.unregister(finish_engine_work)
    atexit.register(finish_engine_work)


class _SignalsGone(BaseException):
    """The worker's signals object was deleted while it ran (PySide's exit teardown): no one
    is left to tell. (Not an Exception: superqt would report it through those signals.)"""


class EngineWorker(GeneratorWorker):
    """A GeneratorWorker whose cancel closes the engine generator before reporting ``aborted``.

    Signals (all delivered in the GUI thread): ``started``, ``yielded(progress)``,
    ``returned(result)`` (not after a cancel), ``errored(exception)``, ``aborted``,
    ``paused``, ``resumed``, ``finished`` (always last). Exactly one of ``returned``,
    ``errored`` and ``aborted`` comes before ``finished``.

    A cancel that comes while the generator does its last piece of work (a fine-tune's
    final evaluation) is too late: the work is done and its result is reported. superqt
    reports nothing for a run whose abort was requested but that returned (neither
    ``returned`` nor ``aborted``): a round that had trained to its end would vanish.

    Signals deleted while it runs (Qt torn down at exit under it) end it quietly: the
    generator is closed, so that the engine's cleanup still runs, and nothing is emitted.
    """

    # Give the heap memory the work freed back to the system when it ends (a Segment run,
    # a Train round: hundreds of MB; ``heap_release``).
    RELEASES_HEAP = True

    def __init__(self, generator: Generator):
        super().__init__(_drive, generator)
        self._ending = threading.Lock()  # orders a quit() against the generator's return
        self._returned = False

    def quit(self) -> None:
        """Ask to stop between two yields; ignored once the generator has returned."""
        with self._ending:
            if not self._returned:
                super().quit()

    def start(self) -> None:
        """Run in :func:`engine_pool` (superqt's start would use Qt's global pool)."""
        if self in self._worker_set:
            raise RuntimeError("this worker is already started")
        self._worker_set.add(self)
        self._finished.connect(self._set_discard)
        _finish_engine_work_first_at_exit()
        engine_pool().start(self)

    def run(self) -> None:
        """superqt's run, ending quietly when the signals object is gone (see the class)."""
        try:
            super().run()
        except _SignalsGone:  # (work() closed the generator)
            self._forget()
        except RuntimeError:  # (a last signal - returned, errored, finished - had nowhere to go)
            if alive(self.signals):
                raise
            self._forget()

    def _forget(self) -> None:
        """Ended without its signals: no longer counted as running (``_finished``, which
        would have said so, has no object left to come from)."""
        self._running = False
        self._set_discard(self)

    def _tell(self, signal: str, *args: Any) -> None:
        """Emit ``signal``; raises :class:`_SignalsGone` when the signals object was deleted."""
        try:
            getattr(self.signals, signal).emit(*args)
        except RuntimeError:
            if alive(self.signals):
                raise
            raise _SignalsGone from None

    def work(self) -> Any:
        _lower_thread_priority()
        try:
            return self._advance()
        except _SignalsGone:
            self._gen.close()  # (the engine's cleanup still runs: free the GPU, keep a checkpoint)
            raise
        finally:
            # The work's tensors and arrays are freed now; without this glibc keeps much of
            # them in its heaps and a long session's RSS creeps up (see heap_release).
            # Here, in the worker thread, so that the GUI thread never waits for it.
            if self.RELEASES_HEAP:
                heap_release.release_freed_heap()

    def _advance(self) -> Any:
        """Advance the generator to its end (its value) or to a cancel (None)."""
        while True:
            if self.abort_requested:
                self._gen.close()  # runs the engine's cleanup in this thread
                self._tell("aborted")
                return None
            if self._wait_while_paused():
                continue
            try:
                output = self._gen.send(None)
            except StopIteration as stop:
                with self._ending:  # (a cancel asked during this last step came too late)
                    self._returned, self._abort_requested = True, False
                return stop.value
            self._tell("yielded", output)

    def _wait_while_paused(self) -> bool:
        """Handle pause/resume requests; True while the loop should not advance the engine."""
        if self._paused:
            if self._resume_requested:
                self._paused = self._resume_requested = False
                self._tell("resumed")
                return False
            time.sleep(self._pause_interval)
            return True
        if self._pause_requested:
            self._paused, self._pause_requested = True, False
            self._tell("paused")
            return True
        return False


_own_pools: dict[str, QThreadPool] = {}


class _OwnPoolWorker(EngineWorker):
    """An EngineWorker run in a small pool of its own (``POOL``), so that it never waits
    behind a prediction and a fine-tune that fill the engine pool, at the same lowered
    priority (the GUI stays first)."""

    POOL = ""
    # (an edit runs while the user paints: a trim takes malloc's locks for up to tens of
    # ms, which the brush on the GUI thread would wait for; a copy frees little)
    RELEASES_HEAP = False

    def start(self) -> None:
        if self in self._worker_set:
            raise RuntimeError("this worker is already started")
        pool = _own_pools.get(self.POOL)
        if pool is None:
            pool = _own_pools[self.POOL] = QThreadPool()
            pool.setMaxThreadCount(2)  # (a copy or an edit at a time per viewer, mostly)
        self._worker_set.add(self)
        self._finished.connect(self._set_discard)
        _finish_engine_work_first_at_exit()
        pool.start(self)


class FileWorker(_OwnPoolWorker):
    """File work (copying a model folder)."""

    POOL = "files"


class EditWorker(_OwnPoolWorker):
    """An edit of the labels that the user waits for (a fill of every object of a stack:
    seconds), while the user keeps painting on the GUI thread."""

    POOL = "edits"


def engine_work_running() -> bool:
    """Is any engine or file worker (of any panel, of any viewer) started and not finished?
    Renaming a model folder waits for them: any of them may be reading it."""
    return any(isinstance(worker, EngineWorker) for worker in list(EngineWorker._worker_set))


def finish_engine_work(timeout_s: float = 60.0) -> bool:
    """At exit, once the event loop has ended (``aboutToQuit``), and at Python's exit (a
    script's end, where Qt's application never quit): ask every engine, file and edit worker
    still running to stop, and wait (up to ``timeout_s`` in all) until they have, so that
    their cleanup (a fine-tune keeps its best checkpoint, a prediction frees the GPU) runs
    before the interpreter goes away instead of being cut off mid-write, and none of them
    is still running when PySide's teardown deletes their signals. True when all ended."""
    for worker in list(EngineWorker._worker_set):
        if isinstance(worker, EngineWorker):
            worker.quit()
    deadline = time.monotonic() + timeout_s
    pools = [pool for pool in (_engine_pool, *_own_pools.values()) if pool is not None]
    ended = True
    for pool in pools:
        left_ms = max(int((deadline - time.monotonic()) * 1000), 0)
        ended = bool(pool.waitForDone(left_ms)) and ended
    return ended


def describe_error(error: BaseException, action: str) -> str:
    """One line for the user: a UserError's own message, otherwise what failed and why."""
    from unet_studio.models.scratch import DiskSpaceError
    from unet_studio.models.training.unknown_classes import UnknownClassError

    if isinstance(error, (UserError, UnknownClassError)):  # (the engine's says where and what to do)
        return str(error)
    if isinstance(error, DiskSpaceError):  # says where, how much and what to do
        return f"{action} stopped: {error.strerror}"
    return f"{action} failed: {type(error).__name__}: {error}"


def start_engine(
    generator: Generator,
    *,
    notify: Callable[[str, str], Any],
    action: str,
    on_progress: Callable[[Any], Any] | None = None,
    on_result: Callable[[Any], Any] | None = None,
    on_aborted: Callable[[], Any] | None = None,
    on_finished: Callable[[], Any] | None = None,
    on_error: Callable[[BaseException], Any] | None = None,
    start: bool = True,
    host: Any = None,
    task: str | None = None,
    worker_type: type[EngineWorker] = EngineWorker,
) -> EngineWorker:
    """Run ``generator`` in a worker thread, wiring its signals to GUI-thread callbacks.

    ``notify(message, level)`` reports errors (level ``"error"``) — the panels pass their
    host's ``notify``. ``action`` names the work in messages ("Prediction", "Fine-tuning").
    ``task``: what the work is, told to a ``host`` that tracks long work (closing a napari
    window asks first while it runs, and cancels it). ``worker_type``: FileWorker for
    file work. Everything is connected before the worker starts, so no signal is missed.
    """
    worker = worker_type(generator)
    track = getattr(host, "track_task", None)
    if track is not None and task is not None:

        def tracked() -> None:
            worker.finished.connect(track(task, worker.quit))

        tracked() if start else worker.started.connect(tracked)
    if on_progress is not None:
        worker.yielded.connect(on_progress)
    if on_result is not None:
        worker.returned.connect(on_result)
    if on_aborted is not None:
        worker.aborted.connect(on_aborted)

    def report_error(error: BaseException) -> None:
        if not isinstance(error, UserError):
            log.error("%s failed", action, exc_info=(type(error), error, error.__traceback__))
        notify(describe_error(error, action), "error")

    worker.errored.connect(report_error)
    if on_error is not None:
        worker.errored.connect(on_error)
    if start:
        hold_full_collections()
    else:  # held once started (a worker never started never finishes)
        worker.started.connect(hold_full_collections)
    # (released before ``on_finished`` says the work is over: the finished signal reaches
    # its slots one queued event at a time, and what follows the end ran still frozen)
    worker.finished.connect(release_full_collections)
    if on_finished is not None:
        worker.finished.connect(on_finished)
    if start:
        worker.start()
    return worker
