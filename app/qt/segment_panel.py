"""The Segment panel: pick image, model, device, tiles and output; Run / Cancel.

The prediction runs in a worker thread (``workers.start_engine``); progress goes to the
panel's bar and napari's activity dock; labels stream into the layer tile by tile, the slice
and field of view on screen first (``LiveLabelsDestination``, redrawn a few times a second
by ``LiveRedraw``); the final labels replace them on the GUI thread, with reviewed regions
kept (``StudioSession.show_labels``).

The panel's widgets are laid out by ``segment_layout``, its choices kept by
``SegmentChoices`` (``segment_choices``), its Axes box by ``SegmentAxes`` (``segment_axes``:
axes typed there become the image's at Run); what it does with a run's progress, result,
cancel or error is ``SegmentOutcome`` (``segment_outcome``); what a Run press becomes before
the worker starts (the request, the job, the live labels, or a refusal), and what of that a
run that made nothing takes back, is ``SegmentPreparation`` (``segment_preparation``). Here:
the wiring, and starting, queueing and cancelling a run (or stopping one over a time series
keeping what it did).
"""

from __future__ import annotations

import logging
from functools import partial

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QWidget

from unet_studio.app.errors import UserError
from unet_studio.app.qt import segment_layout
from unet_studio.app.qt.button_focus import set_buttons_enabled
from unet_studio.app.qt.channel_line import add_channel_line
from unet_studio.app.qt.collection_hold import hold_full_collections, release_full_collections
from unet_studio.app.qt.live_edits import RunEdits
from unet_studio.app.qt.live_labels import LiveLabelsDestination
from unet_studio.app.qt.live_redraw import LiveRedraw
from unet_studio.app.qt.progress_display import set_progress
from unet_studio.app.qt.saved_work_line import SavedWorkLine
from unet_studio.app.qt.saved_work_run import go_on_with_run
from unet_studio.app.qt.segment_axes import SegmentAxes
from unet_studio.app.qt.segment_choices import SegmentChoices
from unet_studio.app.qt.segment_classes import ClassesBefore
from unet_studio.app.qt.segment_job import job_time_points
from unet_studio.app.qt.segment_logic import NetCache, iter_segment, model_key
from unet_studio.app.qt.segment_outcome import SegmentOutcome
from unet_studio.app.qt.segment_preparation import SegmentPreparation
from unet_studio.app.qt.segment_results import holds_instances
from unet_studio.app.qt.segment_tips import set_tips
from unet_studio.app.qt.workers import start_engine

log = logging.getLogger(__name__)


class SegmentPanel(SegmentChoices, SegmentAxes, SegmentPreparation, SegmentOutcome, QWidget):
    """Runs the current model on the current image. ``finished(result)`` after a run,
    ``cancelled()`` after a cancel."""

    finished = Signal(object)
    cancelled = Signal()
    # From the worker thread (queued to this one): the run's IntensityFound.
    intensity_found = Signal(object)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.worker = None
        self._bar = None
        self._live: LiveLabelsDestination | None = None
        self._classes_before: ClassesBefore | None = None  # (of the labels a run streams classes into)
        self._replacing = ""  # what the running prediction's Done line adds: labels of the other kind replaced
        self._autosave = None  # the autosave project the running prediction started (RunAutosave)
        self._job_image: str | None = None  # the image the running prediction is for
        self._stage: str | None = None  # the engine's stage last told in the status line
        self._objects: list[int] = []  # objects per time point of the running prediction
        self._time_points = 1  # how many the running prediction segments
        self._result = None
        self._done = None  # the last run's Done line (DoneLine): what it is about, its text
        self._typed_axes = {}  # image name -> the axes the user typed for it
        self._channels = {}  # image name -> the channel picked for it (segment_choices)
        self._queued_image: str | None = None  # to segment again when this run ends
        self._nets = NetCache()  # a run of the same model skips loading it
        self.intensity_block_pixels: int | None = None  # pixels per step of that pass (None: the engine's)
        self._build()
        self._redraw = LiveRedraw(session.host, self.progress, self)
        self._run_edits = RunEdits(session.host, self)  # (strokes made during a run kept)
        self._wire()
        self.refresh_choices()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        segment_layout.build(self)
        # (the project holding this image's corrections from before, when no project is
        # open: on top, where a user back after a restart looks first, before Run)
        self.saved_work_line = SavedWorkLine(self.session.saved_work, self._run_action)
        self.settings.parentWidget().layout().insertWidget(0, self.saved_work_line)
        self.channel_line = add_channel_line(self)  # (a model that cannot take the image's channels)

    def _wire(self) -> None:
        self.run_button.clicked.connect(self._run_pressed)
        self.cancel_button.clicked.connect(self.cancel)
        self.stop_keep_button.clicked.connect(self.stop_keeping_done)
        self.model_folder_button.clicked.connect(self._choose_model_folder)
        self.model_combo.activated.connect(self._model_chosen)
        self.image_combo.activated.connect(self._image_chosen)
        self.axes_edit.editingFinished.connect(self._follow_channels)
        self.axes_edit.editingFinished.connect(self.name_scope)  # (TYX typed: "time point")
        self.channel_spin.valueChanged.connect(self._channel_picked)
        self.axes_edit.textEdited.connect(self._axes_edited)
        self.output_combo.currentTextChanged.connect(self._output_chosen)
        # (methods, not lambdas: Qt ends their connections with the panel; a lambda kept
        # calling a deleted panel, whose widgets raised "already deleted")
        self.session.model_changed.connect(self._model_changed)
        self.session.models_listed.connect(self._fill_models)
        self.session.predict_requested.connect(self._predict_whole_image)
        self.session.image_renamed.connect(self._image_renamed)
        self.session.project_changed.connect(self._project_opened)
        self.session.project_changed.connect(self._status_after_project_opened)
        self.intensity_found.connect(self._on_intensity_found)
        if hasattr(self.session.host, "connect_layers_changed"):
            self.session.host.connect_layers_changed(self._fill_images)
            self.session.host.connect_layers_changed(self._cancel_if_job_image_closed)

    def _status_after_project_opened(self) -> None:
        """A project was opened: the status line told of the work before it (a Done line of
        labels now set aside or not shown), so it says what Run will do instead. (Not while
        a run goes on: its own result starts the autosave project.)"""
        if self.worker is None:
            self._done = None
            self.status.setText("")
            self._say_ready()

    def _follow_channels(self, *args) -> None:
        super()._follow_channels(*args)
        said = self.channel_line.reason
        if self.channel_line.follow(self):  # (shown or gone: the status line follows)
            if said and self.status.text() == f"Not started: {said}":
                self.status.setText("")  # (Run's refusal of a choice no longer made)
            self._say_ready()

    def _say_ready(self) -> None:
        super()._say_ready()
        self.channel_line.quiet_ready_line(self)

    def _model_changed(self, _info) -> None:
        self._fill_models()

    # ---- running ---------------------------------------------------------------------------
    def run(self) -> None:
        """Start a prediction in the background (no-op while one runs)."""
        if self.worker is not None:
            return
        hold_full_collections()  # adding the labels layer allocates a lot: no full collection
        try:
            self._start_run()
        finally:
            release_full_collections()  # the running worker holds its own

    def _run_pressed(self) -> None:
        """Run: while the offer of the image's earlier work stands, asked first (open that
        project, segment in a new one, cancel: ``saved_work_run``). Only the button asks:
        a run asked for otherwise (Train's Accept) has a project open, so no offer."""
        if self.worker is None and not go_on_with_run(self.session,
                                                      self.saved_work_line.chosen(), self):
            return
        self.run()

    def _run_action(self, action) -> None:
        """Run a click's action (the offer line's); a UserError becomes a notification."""
        try:
            action()
        except UserError as error:
            self.session.host.notify(str(error), "warning")

    def _start_run(self) -> None:
        prepared = self._prepared_run()
        if prepared is None:
            return
        image, request, job, live = prepared
        self._adopt_typed_axes(image, request.axes)  # (checked by the job's planning)
        host = self.session.host
        self._done = None  # (a new run: the last one's summary is not what the panel is at)
        self._job_image, self._stage = image.name, "predict"
        self._run_model = str(request.model_path)  # (a stopped run's history names it)
        self._objects = []  # objects per time point, as each is labelled
        self._time_points = job_time_points(job)
        if "C" in (request.axes or image.axes).upper():  # training learns from these channels
            self.session.record_channel(job.request.channel)
        self._live = live  # (before the buttons: "Stop, keep done" is for a streamed series)
        self._set_running(True, self._stage_line("predict"))
        if hasattr(host, "start_progress"):
            self._bar = host.start_progress(f"Segmenting {image.name}", 1)
        axes = (request.axes or image.axes).upper()
        self._redraw.start(job.target if self._live is not None else None, job.labels_shape,
                           [a for a, letter in enumerate(axes) if letter != "C"], self._bar,
                           labelling=holds_instances(request, self.session.model.task))
        key = model_key(request.model_path)  # (before loading: a retrain meanwhile misses)
        known = self.session.intensities.known(job.pixels)  # (the same pixels: no pass)
        self.worker = start_engine(
            iter_segment(job, self.session.library, self._live, self._nets.get(key), known,
                         self.intensity_found.emit, partial(self._nets.keep, key),
                         self.intensity_block_pixels), notify=host.notify,
            action="Prediction", on_progress=self._on_progress, on_result=self._on_result,
            on_aborted=self._on_aborted, on_finished=self._on_finished, on_error=self._on_error,
            host=host, task=f"segmenting {image.name} with {self.session.model.name} "
                           "(closing stops it before it finishes)",
        )  # fmt: skip

    def _predict_whole_image(self) -> None:
        """Train's Accept and Roll back: the current image with the model now chosen. While
        a run is under way, it follows that run (it was dropped, and the image kept the old
        model's labels without a word)."""
        if self.worker is not None:
            image = self.session.host.current_image()
            self._queued_image = None if image is None else image.name
            self.session.host.notify(f"{self._queued_image} will be segmented again with "
                                     f"{self.session.model.name} when the run under way ends")
            return
        self.scope_stack.setChecked(True)
        self.run()

    def _run_queued(self) -> None:
        name, self._queued_image = self._queued_image, None
        host = self.session.host
        if name is None or self.worker is not None or name not in host.image_names():
            return  # (the image was closed meanwhile: nothing to do)
        self.session.select_image(name)
        self._predict_whole_image()

    def cancel(self) -> None:
        if self.worker is not None:
            self._queued_image = None  # (a cancel stops what was to follow too)
            if self._live is not None:  # (pressed after "Stop, keep done": Cancel wins)
                self._live.keep_done = False
            self.status.setText("Cancelling after the current step…")
            self.worker.quit()

    def stop_keeping_done(self) -> None:
        """Stop a run over a time series, keeping the time points whose final labels are
        written (the worker puts back only the others: ``live_keep``). An hour-long run
        over a time-lapse cancelled lost every time point done, to start correcting."""
        if self.worker is None or not self._keeps_done():
            return
        self._queued_image = None
        self._live.keep_done = True  # (read by the worker as it stops)
        self.status.setText("Stopping after the current step, keeping the time points done…")
        self.worker.quit()

    def _keeps_done(self) -> bool:
        """Can the run under way stop keeping its time points done? One streaming labels
        into the layer over several time points."""
        return self._live is not None and self._live.time_axis is not None and self._time_points > 1

    def _set_running(self, running: bool, message: str | None = None) -> None:
        # The results belong to the image chosen, and the run took the other settings when
        # it started: none of them can change it now (each keeps its own state for after).
        self.settings.setEnabled(not running)
        set_buttons_enabled({self.run_button: not running, self.cancel_button: running,
                             self.stop_keep_button: running and self._keeps_done()},
                            self.cancel_button if running else self.run_button)
        set_tips(self, running)
        if running:
            set_progress(self.progress, 0)
        if message:
            self.status.setText(message)
