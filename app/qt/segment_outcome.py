"""What the Segment panel does as a run reports back from its worker thread: progress and
the stage in the status line, the result shown (streamed labels finished, a slice merged,
probabilities or a mask in a layer of their own), a cancel or an error that puts the labels
back, and the end of the run. Mixed into ``SegmentPanel``; apart from it because starting a
run (the panel) and taking in what it produced are two halves with their own state to
mind: the image the run belongs to may have been renamed, left or closed meanwhile.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QTimer

from unet_studio.app.class_map import model_classes
from unet_studio.app.kept_ids import keep_reviewed
from unet_studio.app.predict_files import objects_found
from unet_studio.app.qt.progress_display import set_progress
from unet_studio.app.qt.segment_classes import class_shares_text
from unet_studio.app.qt.segment_done import DoneLine
from unet_studio.app.qt.segment_interrupted import put_labels_back, stopped_text
from unet_studio.app.qt.segment_results import (
    holds_instances,
    is_foreground_mask,
    keep_ids_shown_before,
    merge_into_labels,
    objects_shown_kept,
)
from unet_studio.app.qt.workers import describe_error
from unet_studio.app.run_regions import kept_region_entries, region_entry
from unet_studio.app.unsure_hint import unsure_share_text

# What the status line says while a run is in each stage of the engine.
STAGE_TEXT = {"intensity": "Reading the intensities of {image}…",
              "backup": "Reading the labels of {image} (to put them back if the run stops)…",
              "predict": "Segmenting {image} with {model}…",
              "labelling": "Labelling the objects of {image}…"}
# ...and while a run goes through the time points of a series, tiles and labelling alike.
SERIES_STAGES = ("predict", "labelling")
SERIES_TEXT = "Segmenting {image} with {model}: {done} of {total} time points done…"


def class_names(net, channels: int) -> list[str]:
    """What each of a network's ``channels`` probability channels is, as its task names
    them (``predict_files.probability_names``, as written into files: "background",
    "foreground", "boundary"; a semantic model's own classes); else "class 1", "class 2"..."""
    from unet_studio.app.predict_files import probability_names

    names = probability_names(net) if hasattr(net, "out_channels") else None
    if names is not None and len(names) == channels:
        return names
    return [f"class {index}" for index in range(1, channels + 1)]


class SegmentOutcome:
    """Uses the panel's ``session``, ``worker``, ``status``, ``progress``, its signals, the
    run's state (``_job_image``, ``_stage``, ``_objects``, ``_time_points``, ``_live``, ``_bar``,
    ``_result``, ``_queued_image``, ``_redraw``), the last run's Done
    line (``_done``, a DoneLine or None), ``_run_queued``,
    ``_set_running`` and ``_fill_images``."""

    # How sure the model was of the running prediction's objects so far (an
    # ObjectConfidence from its instance labels' steps), for its Done line; None when
    # none came (other outputs). Cleared as each run ends.
    _confidence = None
    # The model the running prediction uses (its path, as "predict" entries record it),
    # for a run that ends without a result ("Stop, keep done"): set at Run, not taken at
    # its end (the Models panel may make another model current during an hour's run).
    # Cleared as each run ends.
    _run_model: str | None = None

    def _on_progress(self, progress) -> None:
        self._redraw.note(progress)  # drawn by the redraw timer: drawing costs the GUI thread
        if getattr(progress, "objects", None) is not None:
            self._objects.append(progress.objects)
        if getattr(progress, "confidence", None) is not None:
            self._confidence = progress.confidence  # (the run's so far: the last one counts)
        stage = getattr(progress, "stage", None)
        if stage == "backup" and progress.done >= progress.total and self.worker is not None:
            # The labels read: the first tile runs now (the bar from 0, rather than sit full).
            self._redraw.next_stage()
            stage = "predict"
        counted = self._time_points > 1 and stage in SERIES_STAGES  # (the count moves on)
        if (stage != self._stage or counted) and stage in STAGE_TEXT and self.worker is not None:
            self._stage = stage  # (a big stack's labelling takes a while: say it is that)
            self.status.setText(self._stage_line(stage))

    def _stage_line(self, stage: str) -> str:
        """The status line while the run is in ``stage``. A series gets one line counting
        its time points, not Segmenting and Labelling in turn at each of them (a flicker
        that hid how far the run was)."""
        model = self.session.model.name
        if self._time_points > 1 and stage in SERIES_STAGES:
            done = min(len(self._objects), self._time_points)
            return SERIES_TEXT.format(image=self._job_image, model=model, done=done,
                                      total=self._time_points)
        return STAGE_TEXT[stage].format(image=self._job_image, model=model)

    def _on_intensity_found(self, found) -> None:
        """The run's intensity range is there: kept for the next run on these pixels, and
        what the user should know about them (NaN/inf pixels, one value) told, naming the
        image: a result of empty labels is otherwise a puzzle."""
        self.session.intensities.keep(found)
        if self.worker is not None:  # (what runs now is the first tile: say so, bar from 0)
            self._redraw.next_stage()
            self._stage = "predict"
            self.status.setText(self._stage_line("predict"))
        for message in found.messages():
            self.session.host.notify(message, "warning")

    def _image_renamed(self, old: str, new: str) -> None:
        for chosen in (self._typed_axes, self._channels):  # (what the user chose stays its)
            if old in chosen:
                chosen[new] = chosen.pop(old)
        if self._done is not None:  # the segmented image renamed: still the one it is about
            shown, self._done = self._done.text(), self._done.renamed(old, new)
            if self.status.text() == shown:
                self.status.setText(self._done.text())
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
        self._show_result(result, name)
        if session.project is not None and session.image_id is not None:
            # (the planes it covered: a run on the slice on screen predicted that slice only)
            session.project.log("predict", image=session.image_id,
                                model=str(result.job.request.model_path),
                                region=region_entry(result.job.target, result.job.labels_shape))
        # (about this image and model: the status line changes when the choice does)
        found = self._objects_text(result) if not self._shows_classes(result) else \
            class_shares_text(session.host.current_labels(), result.job.target,
                              model_classes(result.net))
        replacing, self._replacing = getattr(self, "_replacing", ""), ""
        self._done = DoneLine(name, result.job.request.model_path, result.model_name,
                              found + replacing, unsure=unsure_share_text(self._confidence))
        self.status.setText(self._done.text())
        set_progress(self.progress, 100)
        self._result = result

    def _show_result(self, result, name: str) -> None:
        """Put the result where it belongs: the labels being corrected (reviewed regions
        kept), or a layer of its own for probabilities and an instance model's mask."""
        session = self.session
        if result.output is None:  # streamed into the live labels
            # (its objects took the ids shown before in the worker: LiveLabelsDestination.finish)
            session.finish_streamed_prediction(self._live.labels)
            self._record_classes(result)
        elif result.job.request.output_type == "probabilities":
            show = getattr(session.host, "show_image", None)
            if show is not None:
                show(result.output, name=f"{name} probabilities", channel_axis=0,
                     channel_names=class_names(result.net, len(result.output)))
        elif is_foreground_mask(result):
            # A result to look at beside the objects, never written over the labels being
            # corrected (and saved): as the probabilities, its own layer.
            show = getattr(session.host, "show_image", None)
            if show is not None:
                show(merge_into_labels(result, None).astype(np.uint8), name=f"{name} mask")
        else:
            current = session.host.current_labels()
            instances = holds_instances(result.job.request, result.net)
            reviewed = session.ensure_reviewed()
            merged = keep_reviewed(merge_into_labels(result, current), current, reviewed,
                                   result.job.target, instances=instances)
            if instances:  # (the same objects as before keep their ids)
                keep_ids_shown_before(merged, current, result.job, reviewed)
            live = session.show_labels(merged, protect=False)  # (protected in the target only)
            result.shown = objects_shown_kept(live, result.job, session.reviewed)
            self._record_classes(result)

    def _record_classes(self, result) -> None:
        """The labels just shown are the run's model's class map (recorded on them: the
        Correct tools, colours and status bar follow), or its objects."""
        record = getattr(self.session.host, "record_labels_classes", None)
        if record is not None:
            record(model_classes(result.net))

    @staticmethod
    def _shows_classes(result) -> bool:
        """Did the run write a semantic model's class map into the labels (whose objects,
        one per class, would be counted as meaningless "objects")?"""
        output = result.job.request.output_type
        return output in ("labels", "mask") and bool(model_classes(result.net))

    def _objects_text(self, result) -> str:
        """": 40 objects, of which 12 lie in reviewed regions, ...": what the labels layer
        holds in the region segmented, as the engine counted them where nothing was
        reviewed. Of them, those with pixels in reviewed regions: there the user's
        corrections stand and the prediction was discarded (a bare "12 kept in reviewed
        regions" read as if 12 objects had been thrown away or were all there was)."""
        if result.shown is None:
            return objects_found(self._objects, result.tracks)
        text = objects_found(result.shown.per_group, result.tracks)
        kept = result.shown.kept
        if not kept:
            return text
        lie = "lies" if kept == 1 else "lie"
        return (f"{text}, of which {kept} {lie} (at least partly) in reviewed regions, "
                "where your corrections were kept rather than the new prediction")

    def _on_aborted(self) -> None:
        self._redraw.stop()
        closed = not self._back_to_job_image()
        # (a run stopped with "Stop, keep done": how many time points the worker kept)
        kept = None if self._live is None else self._live.kept_time_points
        if kept is None and self._live is not None and self._live.keep_done:
            kept = 0  # (stopped before its first write: nothing to keep, nothing to put back)
        live = self._live
        self._restore_live(shown=not closed)  # into the job's own labels, even when closed
        if kept and not closed:
            self._log_kept_time_points(live)
        if closed:
            self.status.setText(f"Cancelled: {self._job_image} was closed.")
        elif kept is not None:
            self.status.setText(stopped_text(kept, self._time_points))
        else:
            self.status.setText("Cancelled; the labels were left as they were.")
        self.cancelled.emit()

    def _log_kept_time_points(self, live) -> None:
        """A run stopped with "Stop, keep done" kept time points (``live.kept_points``):
        one "predict" entry per run of consecutive ones, marked "stopped". Without them the
        history did not say which model made those labels, and the warning after R
        (``hand_only_hint``) read them as labels opened: the whole image predicted."""
        session = self.session
        points = getattr(live, "kept_points", None)
        model = self._run_model or (None if session.model is None else str(session.model.path))
        if not points or session.project is None or session.image_id is None:
            return
        shape = live.labels.shape
        for region in kept_region_entries(live.target, shape, live.time_axis, points):
            session.project.log("predict", image=session.image_id, model=model,
                                region=region, stopped=True)

    def _on_error(self, error) -> None:
        self._redraw.stop()
        self._back_to_job_image()
        self._restore_live()
        self.status.setText(describe_error(error, "Prediction"))

    def _restore_live(self, shown: bool = True) -> None:
        put_labels_back(self.session, self._live, shown)  # (closing new labels it left empty)

    def _on_finished(self) -> None:
        self._redraw.stop()
        self._confidence = None  # (the next run counts its own)
        self._run_model = None
        if self._live is not None:  # (its backup: gone now, not when the worker is collected)
            self._live.release()
        self._live = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        self.worker = None
        self._set_running(False)
        self._fill_images()  # the list follows the current image again
        result, self._result = self._result, None
        self.session.prediction_ended.emit(result is not None)
        if result is not None:
            self.finished.emit(result)  # after the panel is ready for the next run
        if self._queued_image is not None:  # (once this run's result is shown)
            QTimer.singleShot(0, self._run_queued)
