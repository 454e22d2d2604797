"""What the Correct panel makes of the labels for use elsewhere: a CSV of per-object
measurements, the tracks of a time series as a napari Tracks layer, and the series in the
Cell Tracking Challenge's format, each computed in a worker thread (a stack may be larger
than RAM). A mixin of :class:`CorrectPanel`, which provides ``session``,
``measure_button``, ``tracks_button`` and ``ctc_button``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from qtpy.QtWidgets import QFileDialog

from unet_studio.app.class_map import labels_classes
from unet_studio.app.ctc_export import iter_export_ctc
from unet_studio.app.errors import UserError
from unet_studio.app.measure import iter_measure_to_csv
from unet_studio.app.measure_class_map import iter_measure_classes_to_csv
from unet_studio.app.model_channels import ChannelLayers, sibling_channel_layers
from unet_studio.app.qt.alive import alive
from unet_studio.app.qt.workers import start_engine
from unet_studio.app.tracks import iter_tracks

# Labels up to this size are copied before they are measured (see export_measurements).
SNAPSHOT_BYTES = 1 << 30


class CorrectExports:
    # ---- measurements ----------------------------------------------------------------------
    def _choose_measurements_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export measurements",
                                              str(self._default_measurements_path()),
                                              "CSV files (*.csv)")
        if path:
            self.export_measurements(path)

    def _default_measurements_path(self) -> Path:
        """``<project, image or home folder>/<image name>_objects.csv`` (``_classes.csv``
        for a class map)."""
        kind = "classes" if labels_classes(self.session) else "objects"
        return self._export_folder() / f"{self._export_stem()}_{kind}.csv"

    def _export_folder(self) -> Path:
        """Where exports go by default: the project's, else the image file's, else home."""
        source = getattr(self.session.host, "image_source", lambda: None)()
        if self.session.project is not None:
            folder = Path(self.session.project.path)
        elif source:
            folder = Path(source).parent
        else:
            folder = Path.home()
        return folder

    def _export_stem(self) -> str:
        image = self.session.host.current_image()
        return _file_stem(image.name) if image else "labels"

    def export_measurements(self, path: str | Path):
        """Measure the objects of the current labels (intensities from the current image)
        into the CSV ``path``, in a worker thread; returns the worker, or None when there is
        nothing to measure (the user is told why). A class map (``app.class_map``) gets a
        row per class and time point instead (``measure_class_map``)."""
        host = self.session.host
        image, labels = host.current_image(), host.current_labels()
        if image is None or labels is None:
            host.notify("Nothing to measure: open an image and segment it (or add labels) first",
                        "error")
            return None
        if isinstance(labels, np.ndarray) and not isinstance(labels, np.memmap) \
                and labels.nbytes <= SNAPSHOT_BYTES:
            # A copy as of the click: edits made while the worker reads would otherwise
            # land in the table half counted. (A bigger stack is measured as it is.)
            labels = labels.copy()
        pixels, pixel_axes = measured_channels(host, image)
        classes = labels_classes(self.session)
        axes = image.axes.replace("C", "")
        try:  # the inputs are checked here, at the click, not in the worker
            if classes:
                steps = iter_measure_classes_to_csv(
                    Path(path), labels, pixels, classes, axes=axes, image_axes=pixel_axes,
                    scale=image.pixel_size_um, time_step=image.time_step_s)
            else:
                steps = iter_measure_to_csv(
                    Path(path), labels, pixels, axes=axes, image_axes=pixel_axes,
                    scale=image.pixel_size_um, time_step=image.time_step_s)
        except UserError as error:
            host.notify(f"Cannot measure {image.name}: {error}", "error")
            return None
        if classes:
            told = classes_measured(classes, image.name, axes, labels.shape, path)
            return self._start("measure", steps, "Measuring",
                               f"measuring the classes of {image.name}",
                               lambda _rows: host.notify(told, "info"))
        return self._start("measure", steps, "Measuring", f"measuring the objects of {image.name}",
                           lambda count: host.notify(
                               f"Measured {count} objects of {image.name}: {path}", "info"))

    def _start(self, kind: str, steps, action: str, task: str, on_result):
        """Run ``steps`` in a worker (``<kind>_worker``), ``<kind>_button`` off until it ends."""
        button = getattr(self, f"{kind}_button")

        def finished() -> None:
            setattr(self, f"{kind}_worker", None)
            # The work outlives the panel: the window may have closed while it ran (the
            # file is written all the same), and its button is gone then.
            if alive(button):
                button.setEnabled(True)

        button.setEnabled(False)
        host = self.session.host
        worker = start_engine(steps, notify=host.notify, action=action, host=host,
                              on_result=on_result, on_finished=finished, task=task)
        setattr(self, f"{kind}_worker", worker)
        return worker

    # ---- Cell Tracking Challenge format ----------------------------------------------------
    def _choose_ctc_folder(self) -> None:
        # A save dialog, not a folder picker: the export makes its folder (a new name).
        path, _ = QFileDialog.getSaveFileName(
            self, "Export tracks (CTC): a new folder",
            str(self._export_folder() / f"{self._export_stem()}_RES"), "Folders (*)",
            options=QFileDialog.Option.DontConfirmOverwrite)
        if path:
            self.export_tracks_ctc(path)

    def export_tracks_ctc(self, folder: str | Path, *, overwrite: bool = False):
        """Write the current labels (a time series) and their tracks as a Cell Tracking
        Challenge result folder (``app.ctc_export``) in a worker thread; returns the worker,
        or None when they cannot be exported (the user is told why)."""
        host = self.session.host
        image, labels = host.current_image(), host.current_labels()
        if image is None or labels is None:
            host.notify("No tracks to export: open a time series and segment it first", "error")
            return None
        # Judged by the labels, not the model chosen now (``app.class_map``): objects an
        # instance model made stay exportable while a semantic model is chosen.
        if self._refuse_class_map_tracks(f"Cannot export the tracks of {image.name}"):
            return None  # (each class would be exported as one "cell" spanning the frame)
        axes = image.axes.replace("C", "")
        if "T" not in axes:  # (before the copy below: a big volume is refused at once)
            host.notify(f"Cannot export the tracks of {image.name}: the Cell Tracking "
                        f"Challenge format is for time series, and it has no T axis ({axes})",
                        "error")
            return None
        if isinstance(labels, np.ndarray) and not isinstance(labels, np.memmap) \
                and labels.nbytes <= SNAPSHOT_BYTES:
            labels = labels.copy()  # (read twice: edits in between would break the tracks)
        try:  # the inputs and the folder are checked here, at the click
            steps = iter_export_ctc(labels, axes, folder, overwrite=overwrite)
        except UserError as error:
            host.notify(f"Cannot export the tracks of {image.name}: {error}", "error")
            return None
        return self._start("ctc", steps, "CTC export", f"exporting the tracks of {image.name}",
                           lambda done: host.notify(
                               f"Exported {done.tracks_text()} of {image.name} in "
                               f"{done.frames} frames: {done.folder}", "info"))

    # ---- tracks ----------------------------------------------------------------------------
    def show_tracks(self):
        """Show the tracks of the current labels (a time series) as a napari Tracks layer,
        computed in a worker thread; returns the worker, or None (the user is told why)."""
        host = self.session.host
        image, labels = host.current_image(), host.current_labels()
        if image is None or labels is None or not hasattr(host, "show_tracks"):
            host.notify("No tracks to show: open a time series and segment it first", "error")
            return None
        # (its button is greyed out on a class map; a key or a script calls this all the same)
        if self._refuse_class_map_tracks(f"No tracks for {image.name}"):
            return None
        try:
            steps = iter_tracks(labels, axes=image.axes.replace("C", ""))
            next(steps)  # the inputs are checked here, at the click (no pixel read yet)
        except UserError as error:
            host.notify(f"No tracks for {image.name}: {error}", "warning")
            return None
        return self._start("tracks", steps, "Tracks", f"finding the tracks of {image.name}",
                           lambda data: self._tracks_found(image.name, data))

    def _refuse_class_map_tracks(self, problem: str) -> bool:
        """Tell the user why a class map has no tracks (``problem``: what cannot be done),
        and return True, when the labels are one (judged by the labels, ``app.class_map``:
        objects an instance model made keep their tracks while a semantic model is chosen)."""
        classes = labels_classes(self.session)
        if classes:
            self.session.host.notify(
                f"{problem}: its labels are a class map ({', '.join(classes)}), not objects; "
                "tracks need objects with ids (segment with an instance model). Export "
                "measurements gives each class's area per time point.", "error")
        return bool(classes)

    def _tracks_found(self, image_name: str, data) -> None:
        if not len(data):
            self.session.host.notify(f"No object of {image_name} is found at two time points",
                                     "warning")
            return
        self.session.host.show_tracks(data, name=f"{image_name} tracks")


def measured_channels(host, image) -> tuple[object, str]:
    """(pixels, their axes) whose intensities the table holds: the image, or, for one
    channel layer of a multichannel file, all its channel layers (as a last C axis, in
    layer order, read lazily): the other channels are what a second channel is measured
    for (a marker's level in each nucleus), as ``unet-studio measure`` gives them."""
    if "C" in image.axes:
        return image.data, image.axes
    layers = sibling_channel_layers(host, image, image.axes)
    if len(layers) < 2:
        return image.data, image.axes
    return ChannelLayers([layer.data for layer in layers]), image.axes + "C"


def measurements_tip(classes) -> str:
    """Export measurements' tooltip for labels that are objects (``classes`` ()) or a class
    map of ``classes``: the table it writes has a row per object, or per class and frame."""
    if classes:
        return ("A CSV table of the classes of this class map: a row per class (and time "
                "point, in a time series) with its size in pixels and µm and its intensity "
                "per channel; the background has no row")
    return ("A CSV table of the objects: size in pixels and µm, centroid, bounding box, "
            "intensity per channel")


def classes_measured(classes, image_name: str, axes: str, shape, path) -> str:
    """"Measured 2 classes (mitochondria, membrane) of em in 5 frames: <path>"."""
    measured = classes[1:]  # (the background, class 0, is what is left: no row, as the CLI)
    frames = dict(zip(axes, shape)).get("T")
    over = "" if frames is None else f" in {frames} frame{'s' if frames != 1 else ''}"
    return (f"Measured {len(measured)} class{'es' if len(measured) != 1 else ''} "
            f"({', '.join(measured)}) of {image_name}{over}: {path}")


def _file_stem(name: str) -> str:
    """A layer name made safe as a file name (layer names may hold slashes or colons)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "image"
