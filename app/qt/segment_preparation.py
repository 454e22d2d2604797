"""What a Run press becomes before the Segment panel's worker starts, and what of that is
taken back when the run makes nothing (a mixin of SegmentPanel).

Before: the panel's choices read into a :class:`SegmentRequest`, the job planned for the
current image (its channels fitted to the model), the labels kind checked, and the live
labels the run streams into set up (the autosave project started, a class map's classes
recorded, their disk space taken now). A run that cannot start is refused with a "Not
started" line. After: a run that made nothing drops the autosave project it started, and
labels put back get back what they were recorded as.

Apart from the panel because all of it is the GUI thread's setup around the worker, with
its own state (``_autosave``, ``_classes_before``, ``_replacing``), and each refusal must
come before the first change (a labels layer made, an autosave project started); the panel
starts the worker with what this returns, and stops and queues runs.

Expects the panel's widgets (``tile_combo``, ``device_combo``, ``output_combo``,
``scope_slice``, ``axes_edit``, ``status``), its ``session``, ``_result`` and ``_live``, the
choices' ``_follow_channels``, ``_chosen_channel`` and ``_object_options``
(``SegmentChoices``), and ``SegmentOutcome`` after it (``_on_finished``, ``_restore_live``).
"""

from __future__ import annotations

from dataclasses import replace

from unet_studio.app.errors import UserError
from unet_studio.app.model_checks import check_segments_images
from unet_studio.app.qt.live_edits import start_autosave
from unet_studio.app.qt.live_labels import LiveLabelsDestination, covers_everything
from unet_studio.app.qt.segment_channels import (
    channel_layers_image,
    check_labels_align,
    model_in_channels,
)
from unet_studio.app.qt.segment_classes import (
    check_labels_kind,
    put_classes_back,
    record_run_classes,
)
from unet_studio.app.qt.segment_fit import model_spatial_axes
from unet_studio.app.qt.segment_job import SegmentRequest, plan_job
from unet_studio.app.qt.segment_results import holds_instances
from unet_studio.models.scratch import DiskSpaceError


class SegmentPreparation:
    """Turns the panel's choices into a run's image, request, job and live labels, and
    takes back what that set up when the run makes nothing."""

    # ---- before the worker starts ----------------------------------------------------------
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
                channel=self._chosen_channel(),
                **self._object_options(),
            )  # fmt: skip
        except ValueError as error:
            raise UserError(str(error)) from None

    def _not_started(self, why: str) -> None:
        """A run refused before it began: said where the last run's "Done" stood too."""
        self.status.setText(f"Not started: {why}")
        self.session.host.notify(f"Prediction not started: {why}", "error")

    def _prepared_run(self):
        """The image, request, job and live labels of the run asked for; None (and said
        why) when it cannot start."""
        host = self.session.host
        try:
            request = self.request()
            image = host.current_image()
            if image is None:
                raise UserError("no image: open one first (File > Open, or a sample)")
            job = self._plan(image, request)
            # (class map vs objects: refused before anything changes; see segment_classes)
            self._replacing = check_labels_kind(
                self.session, request, covers_everything(job.target, job.labels_shape))
        except UserError as error:
            self._not_started(str(error))
            return None
        try:  # labels too large for RAM live in a working file: its disk space, taken now
            live = self._live_destination(job)
        except DiskSpaceError as error:
            self._drop_autosave()  # (before the status: the project's end says "ready")
            self._not_started(error.strerror)
            return None
        return image, request, job, live

    def _plan(self, image, request: SegmentRequest):
        """The job for ``image``: the channels that fit the model (the channel layers of its
        file stacked, for a model taking several; ``segment_channels``)."""
        model = self.session.model
        check_segments_images(model)  # (a 1D model: refused before the run, not in it)
        in_channels = model_in_channels(model)
        axes, view = (request.axes or image.axes).upper(), self.session.host.view_state()
        check_labels_align(axes, view, image.name)
        image, axes, view = channel_layers_image(self.session.host, image, axes, in_channels,
                                                 view, model.name)
        return plan_job(image, replace(request, axes=axes), view, model_spatial_axes(model),
                        in_channels, model.name)

    def _live_destination(self, job) -> LiveLabelsDestination | None:
        """Labels stream into the layer being corrected, around the reviewed regions. What
        it must read of them (its backup, the largest id outside the target) is read by the
        worker before the first write (``iter_prepare``), not here: gigabytes on a stack."""
        if not job.streams_into_labels:
            return None
        self._autosave = start_autosave(self.session)  # (before the regions are taken: see live_edits)
        shown = self.session.host.current_labels()
        live = self.session.labels_for_prediction(job.labels_shape)
        # (a layer the user brought is left alone: the run streams into the image's own labels,
        # taken as made for it: a cancelled run closes them only if it leaves them empty)
        had_labels = shown is not None and live is shown
        instances = holds_instances(job.request, self.session.model.task)
        offset = None if instances else 0  # (None: found by the worker, see iter_prepare)
        # (labels shown before Run may hold objects to back up: the backup's disk space is
        # reserved now, so that a full disk is said at Run; new ones start empty)
        destination = LiveLabelsDestination(
            live, job.target, self.session.ensure_reviewed(), offset, time_axis=job.time_axis,
            made_layer=not had_labels, instances=instances, reserve_backup=had_labels,
            name=job.image_name)
        self.session.streaming_ids(live, lambda: destination.largest_written)
        if not instances:  # (a class map: in its classes' colours from the first tile on)
            self._classes_before = record_run_classes(self.session, live)
        if self._autosave is not None:
            self._autosave.note_start()
        return destination

    # ---- taken back: a run that made nothing, labels put back ------------------------------
    def _on_finished(self) -> None:
        made = self._result is not None or (self._live is not None
                                            and bool(self._live.kept_time_points))
        if not made:  # (while the worker is set: the status keeps the run's end)
            self._drop_autosave()
        self._autosave = None
        self._classes_before = None
        super()._on_finished()

    def _restore_live(self, shown: bool = True) -> None:
        """The labels put back as they were before the run, and what they were recorded as
        (classes or objects) too; a series stopped keeping its time points done keeps the
        run's classes."""
        live, before, self._classes_before = self._live, self._classes_before, None
        super()._restore_live(shown)
        if not (shown and live is not None and live.kept_time_points):
            put_classes_back(self.session, before)

    def _drop_autosave(self) -> None:
        """The run made nothing: the autosave project it started goes again, unless the
        user did something in it meanwhile (``live_edits.RunAutosave``)."""
        started, self._autosave = self._autosave, None
        if started is not None and started.untouched():
            self.session.drop_autosave(started.project)
