"""The Correct panel's edits of every object at once (Fill holes, Relabel 1..N, Shift+I:
``app.stack_edits``), computed in a worker thread and applied on the GUI thread as one undo
step.

On a stack of 64 x 1024 x 1024 each takes seconds: computed at the click they froze the
window for 1.5-3.6 s. Labels of up to :data:`SYNC_PIXELS` are still done at the click
(tens of milliseconds): their result shows at once, without a busy state to wait out.

The user keeps painting meanwhile. An edit lists its pixels with the values they had when
it was computed: applied over strokes painted since, it would put those values back (and
a stroke may change what is to be filled: a new outline, a closed hole). So a result is
applied only while the labels are the same array and the session has seen no change of them
(``StudioSession.labels_changes``) since the start; else it is dropped and the user is told
to start it again. Dropped, not recomputed: while the user keeps painting, each
recomputation would be overtaken by the next stroke, seconds of work each time for nothing;
pressing again once done costs them a key.

napari reports a brush stroke only when the mouse button is released (a stroke is one undo
step), and then from the event loop's next turn: a result that arrives while a button is
held waits for the release and one more turn, so the stroke is counted before the check
(and the edit is never folded into the stroke's undo step).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from qtpy.QtCore import QObject, Qt, QTimer, Signal
from qtpy.QtGui import QGuiApplication

from unet_studio.app.errors import UserError
from unet_studio.app.qt.workers import EditWorker, start_engine
from unet_studio.models.generators import drain

SYNC_PIXELS = 1 << 20  # labels up to this many pixels: computed at the click (< ~50 ms)
STROKE_POLL_MS = 50  # while a mouse button is held: how often to look again


@dataclass(eq=False)
class StackEditJob:
    """One edit of every object. ``doing``: what it does, in messages ("filling holes");
    ``again``: how to start it again ("Press Shift+I again"); ``steps``: a generator that
    yields between its steps and returns ``(LabelEdit of the live labels, message)``;
    ``pixels``: how many it reads (the labels, or one time point of them); ``review``: its
    pixels become reviewed (a renumbering changes no outline); ``notify``: its message is a
    notification too (its button may be clicked with the status line hidden by a tool)."""

    doing: str
    again: str
    steps: Generator
    pixels: int
    review: bool = True
    notify: bool = False
    labels: Any = None  # (set at the start: the live labels, and the session's change count)
    changes: int = 0


def told(steps: Generator, done: str, nothing: str) -> Generator:
    """``steps`` (returning a LabelEdit) returning ``(edit, done or nothing)`` for a job."""
    edit = yield from steps
    return edit, nothing if edit.is_empty else done


def with_marks(steps: Generator, regions, labels=None) -> Generator:
    """A job's ``steps`` returning ``(edit, message, marks)``: ``marks`` what the reviewed
    ``regions`` note of the edit (``(regions, marks_for(edit), flat_indices(edit))``, or
    None), found in the worker too: ~0.15 s for the millions of voxels of Shift+I on a
    stack, which the GUI thread then only writes. ``labels``: those the job edits (a plane
    drawn by hand gets no box: ``ReviewedRegions.marks_for``)."""
    edit, message = yield from steps
    if regions is None or edit.is_empty:
        return edit, message, None
    marks = regions.marks_for(edit, labels) if regions.auto_from_edits else None
    return edit, message, (regions, marks, regions.flat_indices(edit))


class StackEditRunner(QObject):
    """Runs one :class:`StackEditJob` at a time for a panel. GUI thread only.

    Signals: ``done(message)`` when a job run in the background ends (applied, nothing to
    do, dropped, stopped or failed): the status line; ``ended()`` just after: no job runs.
    """

    done = Signal(str)
    ended = Signal()

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.job: StackEditJob | None = None
        self.worker = None

    @property
    def busy(self) -> bool:
        return self.job is not None

    def start(self, job: StackEditJob) -> str:
        """Compute and apply ``job``; returns what the status line says: its message when
        done at once (small labels), else that it runs (``done`` tells the end)."""
        if self.job is not None:
            raise UserError(f"still {self.job.doing}: wait for it to end, or stop it with "
                            "Cancel tool")  # fmt: skip
        job.labels, job.changes = self.session.host.current_labels(), self.session.labels_changes
        if job.pixels <= SYNC_PIXELS:
            return self._apply(job, (*drain(job.steps), None))
        self.job = job
        host = self.session.host
        regions = self.session.ensure_reviewed() if job.review else None
        self.worker = start_engine(
            with_marks(job.steps, regions, job.labels), notify=host.notify, action=job.doing.capitalize(), host=host,
            task=job.doing, worker_type=EditWorker,
            on_result=lambda result: self._settle(job, result),
            on_aborted=lambda: self._end(job, f"Stopped {job.doing}: the labels are as they were."),
            on_error=lambda _error: self._end(job, f"{job.doing.capitalize()} failed; the labels "
                                                   "are as they were."),
        )  # fmt: skip
        return f"{job.doing.capitalize()}… (keep working; Cancel tool stops it)"

    def cancel(self) -> None:
        """Stop the job that runs (if any): its result, even one already computed, is
        never applied."""
        job = self.job
        if job is not None:
            self.drop()
            self.done.emit(f"Stopped {job.doing}: the labels are as they were.")
            self.ended.emit()

    def drop(self) -> None:
        """:meth:`cancel` without a word (the panel that would show it is gone)."""
        if self.worker is not None:
            self.worker.quit()
        self.job, self.worker = None, None

    def _settle(self, job: StackEditJob, result) -> None:
        """Apply ``result`` once no mouse button is held, one event-loop turn later."""
        if job is not self.job:
            return  # (stopped meanwhile)
        if _button_held():
            QTimer.singleShot(STROKE_POLL_MS, lambda: self._settle(job, result))
        else:  # (after the report of a stroke just released, queued at its release)
            QTimer.singleShot(0, lambda: self._land(job, result))

    def _land(self, job: StackEditJob, result) -> None:
        if job is not self.job:
            return
        if _button_held():  # (a stroke began within that turn)
            self._settle(job, result)
            return
        message = f"{job.doing.capitalize()} failed; the labels are as they were."
        try:
            message = self._apply(job, result, show_soon=True)
        except UserError as error:
            message = str(error)
            self.session.host.notify(message, "warning")
        finally:
            self._end(job, message)

    def _apply(self, job: StackEditJob, result, show_soon: bool = False) -> str:
        """Apply the job's edit as one undo step unless the labels changed since its start;
        returns what to tell. ``show_soon``: its marks are redrawn a turn later (see
        ``StudioSession.apply_edit``): a result from the background is awaited by nobody, and
        on a big stack that turn is one the user's painting and scrolling get in between."""
        edit, message, marks = result
        session = self.session
        if session.host.current_labels() is not job.labels or session.labels_changes != job.changes:
            message = (f"The labels changed while {job.doing}: nothing was applied, so that the "
                       f"change stays. {job.again} to do it on the labels as they are now.")  # fmt: skip
            session.host.notify(message, "warning")
            return message
        if not edit.is_empty:
            session.apply_edit(edit, review=job.review, show_soon=show_soon, marks=marks)
        if job.notify:
            session.host.notify(message)
        return message

    def _end(self, job: StackEditJob, message: str) -> None:
        if job is not self.job:
            return
        self.job, self.worker = None, None
        self.done.emit(message)
        self.ended.emit()


def _button_held() -> bool:
    return QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton
