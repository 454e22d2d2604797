"""The Segment panel: pick image, model, device, tiles and output; Run / Cancel.

The prediction runs in a worker thread (``workers.start_engine``); progress goes to the
panel's bar and napari's activity dock; labels stream into the layer tile by tile, the slice
and field of view on screen first (``LiveLabelsDestination``, redrawn a few times a second
by ``LiveRedraw``); the final labels replace them on the GUI thread, with reviewed regions
kept (``StudioSession.show_labels``).
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial

import numpy as np
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import (
    QWidget,
)

from unet_studio.app.errors import UserError
from unet_studio.app.kept_ids import keep_reviewed
from unet_studio.app.predict_files import objects_found
from unet_studio.app.qt import segment_layout
from unet_studio.app.qt.live_labels import LiveLabelsDestination, id_offset_outside
from unet_studio.app.qt.live_redraw import LiveRedraw
from unet_studio.app.qt.segment_channels import (
    channel_layers_image,
    check_labels_align,
    model_in_channels,
)
from unet_studio.app.qt.segment_choices import SegmentChoices
from unet_studio.app.qt.segment_intensity import IntensityCache
from unet_studio.app.qt.segment_interrupted import put_labels_back
from unet_studio.app.qt.segment_logic import (
    NetCache,
    SegmentRequest,
    holds_instances,
    is_foreground_mask,
    iter_segment,
    merge_into_labels,
    model_key,
    objects_shown_kept,
    plan_job,
)
from unet_studio.app.qt.workers import (
    describe_error,
    hold_full_collections,
    release_full_collections,
    set_progress,
    start_engine,
)
from unet_studio.models.scratch import DiskSpaceError

log = logging.getLogger(__name__)

# What the status line says while a run is in each stage of the engine.
STAGE_TEXT = {"intensity": "Reading the intensities of {image}…",
              "predict": "Segmenting {image} with {model}…",
              "labelling": "Labelling the objects of {image}…"}


class SegmentPanel(SegmentChoices, QWidget):
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
        self._job_image: str | None = None  # the image the running prediction is for
        self._stage: str | None = None  # the engine's stage last told in the status line
        self._objects: list[int] = []  # objects per time point of the running prediction
        self._result = None
        self._queued_image: str | None = None  # to segment again when this run ends
        self._nets = NetCache()  # a run of the same model skips loading it
        self._intensities = IntensityCache()  # a run on the same pixels skips their pass
        self.intensity_block_pixels: int | None = None  # pixels per step of that pass (None: the engine's)
        self._build()
        self._redraw = LiveRedraw(session.host, self.progress, self)
        self._wire()
        self.refresh_choices()

    # ---- layout ----------------------------------------------------------------------------
    def _build(self) -> None:
        segment_layout.build(self)

    def _wire(self) -> None:
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self.model_folder_button.clicked.connect(self._choose_model_folder)
        self.model_combo.activated.connect(self._model_chosen)
        self.image_combo.activated.connect(self._image_chosen)
        self.axes_edit.editingFinished.connect(self._follow_channels)
        self.output_combo.currentTextChanged.connect(self._output_chosen)
        self.session.model_changed.connect(lambda _info: self._fill_models())
        self.session.models_listed.connect(self._fill_models)
        self.session.predict_requested.connect(self._predict_whole_image)
        self.session.image_renamed.connect(self._image_renamed)
        self.intensity_found.connect(self._on_intensity_found)
        if hasattr(self.session.host, "connect_layers_changed"):
            self.session.host.connect_layers_changed(self._fill_images)
            self.session.host.connect_layers_changed(self._cancel_if_job_image_closed)

    def request(self) -> SegmentRequest:
        """The panel's choices as a SegmentRequest (UserError when something is missing)."""
        if self.session.model is None:
            raise UserError("no model: choose one, or import one in the Models panel")
        self._follow_channels()  # (axes typed without leaving the box: the Channel follows)
        tile_text = self.tile_combo.currentText().strip().lower()
        try:
            tile = None if tile_text in ("", "auto") else int(tile_text)
        except ValueError:
            raise UserError(f"tile size must be 'auto' or a number of pixels, not {tile_text!r}") from None
        try:
            return SegmentRequest(
                model_path=self.session.model.path, device=self.device_combo.currentText() or "auto",
                tile=tile, output_type=self.output_combo.currentText(),
                scope="slice" if self.scope_slice.isChecked() else "stack",
                axes=self.axes_edit.text().strip() or None,
                channel=self.channel_spin.value() if self.channel_spin.isEnabled() else None,
                **self._object_options(),
            )  # fmt: skip
        except ValueError as error:
            raise UserError(str(error)) from None

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

    def _not_started(self, why: str) -> None:
        """A run refused before it began: said where the last run's "Done" stood too."""
        self.status.setText(f"Not started: {why}")
        self.session.host.notify(f"Prediction not started: {why}", "error")

    def _start_run(self) -> None:
        host = self.session.host
        try:
            request = self.request()
            image = host.current_image()
            if image is None:
                raise UserError("no image: open one first (File > Open, or a sample)")
            job = self._plan(image, request)
        except UserError as error:
            self._not_started(str(error))
            return
        try:  # labels too large for RAM live in a working file: its disk space, taken now
            live = self._live_destination(job)
        except DiskSpaceError as error:
            self._not_started(error.strerror)
            return
        self._job_image, self._stage = image.name, "predict"
        self._objects = []  # objects per time point, as each is labelled
        if "C" in (request.axes or image.axes).upper():  # training learns from these channels
            self.session.record_channel(job.request.channel)
        self._set_running(True, STAGE_TEXT["predict"].format(image=image.name,
                                                             model=self.session.model.name))
        if hasattr(host, "start_progress"):
            self._bar = host.start_progress(f"Segmenting {image.name}", 1)
        self._live = live
        axes = (request.axes or image.axes).upper()
        self._redraw.start(job.target if self._live is not None else None, job.labels_shape,
                           [a for a, letter in enumerate(axes) if letter != "C"], self._bar)
        key = model_key(request.model_path)  # (before loading: a retrain meanwhile misses)
        known = self._intensities.known(job.pixels)
        self.worker = start_engine(
            iter_segment(job, self.session.library, self._live, self._nets.get(key), known,
                         self.intensity_found.emit, partial(self._nets.keep, key),
                         self.intensity_block_pixels), notify=host.notify,
            action="Prediction", on_progress=self._on_progress, on_result=self._on_result,
            on_aborted=self._on_aborted, on_finished=self._on_finished, on_error=self._on_error,
            host=host, task=f"segmenting {image.name} with {self.session.model.name} "
                           "(closing stops it before it finishes)",
        )  # fmt: skip

    def _plan(self, image, request: SegmentRequest):
        """The job for ``image``: the channels that fit the model (the channel layers of its
        file stacked, for a model taking several; ``segment_channels``)."""
        model = self.session.model
        in_channels = model_in_channels(model)
        axes, view = (request.axes or image.axes).upper(), self.session.host.view_state()
        check_labels_align(axes, view, image.name)
        image, axes, view = channel_layers_image(self.session.host, image, axes, in_channels,
                                                 view, model.name)
        spatial = model.task.get("spatial_axes") or "YX"
        return plan_job(image, replace(request, axes=axes), view, spatial, in_channels, model.name)

    def _live_destination(self, job) -> LiveLabelsDestination | None:
        """Labels stream into the layer being corrected, around the reviewed regions."""
        if not job.streams_into_labels:
            return None
        had_labels = self.session.host.current_labels() is not None
        live = self.session.labels_for_prediction(job.labels_shape)
        instances = holds_instances(job.request, self.session.model.task)
        offset = id_offset_outside(live, job.target) if instances else 0
        return LiveLabelsDestination(live, job.target, self.session.ensure_reviewed(), offset,
                                     time_axis=job.time_axis, made_layer=not had_labels,
                                     instances=instances)  # fmt: skip

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
            self.status.setText("Cancelling after the current step…")
            self.worker.quit()

    def _on_progress(self, progress) -> None:
        self._redraw.note(progress)  # drawn by the redraw timer: drawing costs the GUI thread
        if getattr(progress, "objects", None) is not None:
            self._objects.append(progress.objects)
        stage = getattr(progress, "stage", None)
        if stage != self._stage and stage in STAGE_TEXT and self.worker is not None:
            self._stage = stage  # (a big stack's labelling takes a while: say it is that)
            self.status.setText(STAGE_TEXT[stage].format(image=self._job_image,
                                                         model=self.session.model.name))

    def _on_intensity_found(self, found) -> None:
        """The run's intensity range is there: kept for the next run on these pixels, and
        what the user should know about them (NaN/inf pixels, one value) told, naming the
        image: a result of empty labels is otherwise a puzzle."""
        self._intensities.keep(found)
        for message in found.messages():
            self.session.host.notify(message, "warning")

    def _image_renamed(self, old: str, new: str) -> None:
        if self._job_image == old:  # renamed while segmented: the results still go to it
            self._job_image = new
            self._fill_images()

    def _job_image_closed(self) -> bool:
        return bool(self._job_image) and self.session.host.image_named(self._job_image) is None

    def _cancel_if_job_image_closed(self) -> None:
        """The user closed the image being segmented: stop (its results have nowhere to go)."""
        if self.worker is not None and self._job_image_closed():
            self.status.setText(f"{self._job_image} was closed: cancelling its prediction…")
            self.worker.quit()

    def _back_to_job_image(self) -> bool:
        """The user may have turned to another image meanwhile: the results (or the restored
        labels) belong to the image the prediction ran on, which becomes current again.
        False when that image was closed: then they must go nowhere (the current image is
        another one, whose corrections they would overwrite)."""
        if self._job_image_closed():
            return False
        current = self.session.host.current_image()
        if self._job_image and (current is None or current.name != self._job_image):
            self.session.select_image(self._job_image)
        return True

    def _on_result(self, result) -> None:
        self._redraw.stop()  # the final labels are shown below: no redraw of stale ones
        if not self._back_to_job_image():
            self._restore_live()
            self.status.setText(f"{self._job_image} was closed: its prediction was dropped.")
            return
        session = self.session
        name = self._job_image or result.job.image_name  # (its name now: renamed meanwhile?)
        if result.output is None:  # streamed into the live labels
            session.finish_streamed_prediction(self._live.labels)
        elif result.job.request.output_type == "probabilities":
            show = getattr(session.host, "show_image", None)
            if show is not None:
                show(result.output, name=f"{name} probabilities", channel_axis=0)
        elif is_foreground_mask(result):
            # A result to look at beside the objects, never written over the labels being
            # corrected (and saved): as the probabilities, its own layer.
            show = getattr(session.host, "show_image", None)
            if show is not None:
                show(merge_into_labels(result, None).astype(np.uint8), name=f"{name} mask")
        else:
            current = session.host.current_labels()
            merged = keep_reviewed(merge_into_labels(result, current), current,
                                   session.ensure_reviewed(), result.job.target,
                                   instances=holds_instances(result.job.request, result.net))  # fmt: skip
            live = session.show_labels(merged, protect=False)  # (protected in the target only)
            result.shown = objects_shown_kept(live, result.job, session.reviewed)
        if session.project is not None and session.image_id is not None:
            session.project.log("predict", image=session.image_id, model=str(result.job.request.model_path))
        self.status.setText(f"Done: {name} segmented with {result.model_name}"
                            f"{self._objects_text(result)}.")
        set_progress(self.progress, 100)
        self._result = result

    def _objects_text(self, result) -> str:
        """": 40 objects (12 kept in reviewed regions)": what the labels layer holds in the
        region segmented, the user's reviewed objects standing where the prediction was
        discarded; as the engine counted them where nothing was reviewed."""
        if result.shown is None:
            return objects_found(self._objects)
        text = objects_found(result.shown.per_group)
        kept = result.shown.kept
        return f"{text} ({kept} kept in reviewed regions)" if kept else text

    def _on_aborted(self) -> None:
        self._redraw.stop()
        closed = not self._back_to_job_image()
        self._restore_live()  # into the job's own labels, even when its image was closed
        self.status.setText(f"Cancelled: {self._job_image} was closed." if closed
                            else "Cancelled; the labels were left as they were.")
        self.cancelled.emit()

    def _on_error(self, error) -> None:
        self._redraw.stop()
        self._back_to_job_image()
        self._restore_live()
        self.status.setText(describe_error(error, "Prediction"))

    def _restore_live(self) -> None:
        put_labels_back(self.session, self._live)  # (closing new labels it left empty)

    def _on_finished(self) -> None:
        self._redraw.stop()
        self._live = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.worker = None
        self._set_running(False)
        self._fill_images()  # the list follows the current image again
        result, self._result = self._result, None
        if result is not None:
            self.finished.emit(result)  # after the panel is ready for the next run
        if self._queued_image is not None:  # (once this run's result is shown)
            QTimer.singleShot(0, self._run_queued)

    def _set_running(self, running: bool, message: str | None = None) -> None:
        self.image_combo.setEnabled(not running)  # the results belong to the image chosen
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            set_progress(self.progress, 0)
        if message:
            self.status.setText(message)
