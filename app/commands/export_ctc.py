"""``unet-studio export-ctc LABELS -o FOLDER``: a time series' labels and tracks in the Cell
Tracking Challenge's result format (``maskTTT.tif`` per time point and ``res_track.txt``;
see ``app.ctc_export``), parents of divisions inferred from overlaps. The labels are read a
time point at a time; the folder appears only when complete, and a non-empty one is kept
unless ``--overwrite`` (which replaces an earlier export only). A class map (a file that
records its class names) is refused, as the Correct panel's export refuses one.
"""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "time-series labels and tracks in Cell Tracking Challenge format (maskTTT.tif, res_track.txt)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", metavar="LABELS",
                        help="label image of a time series (TIFF, OME-TIFF, OME-Zarr), one id "
                             "per object kept over time (as predict writes it)")
    parser.add_argument("-o", "--output", required=True, metavar="FOLDER",
                        help="the folder to write (new or empty)")
    parser.add_argument("--axes", default=None, metavar="AXES",
                        help="axes of LABELS if the file does not say (letters of TZYX, e.g. TYX)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an earlier export in FOLDER (default: refuse a non-empty "
                             "folder)")


def _check_labels(stack) -> None:
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.label_files import refuse_intensities
    from unet_studio.app.measure import labels_problem
    from unet_studio.app.measure_inputs import file_classes

    problem = labels_problem(stack.dtype, stack.axes, stack.ndim)
    if problem:
        raise InputFileError(stack.path, problem)
    classes = file_classes(stack)
    if classes:  # (each class would be exported as one "cell" spanning every frame)
        raise InputFileError(stack.path, f"is a class map ({', '.join(classes)}), not objects: "
                                         "tracks need objects with ids (segment with an instance "
                                         "model); measure gives each class's area per time point")
    if "T" not in stack.axes:
        raise InputFileError(stack.path, f"has no T axis ({stack.axes}): CTC tracks need a time "
                                         "series; give --axes (e.g. TYX) if the file's first "
                                         "axis is time")
    refuse_intensities(stack, "give the label image of the series")


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.ctc_export import FolderNotEmptyError, TooManyTracksError, iter_export_ctc
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.io import open_stack
    from unet_studio.app.measure import LabelIdError
    from unet_studio.app.status_line import StatusLine
    from unet_studio.models.generators import drain, relay

    target = Path(args.output).expanduser()
    with open_stack(args.labels, axes=args.axes) as labels:
        _check_labels(labels)
        try:
            steps = iter_export_ctc(labels.data, labels.axes, target, overwrite=args.overwrite)
        except FolderNotEmptyError as error:
            raise InputFileError(target, f"{error.problem} (--overwrite replaces an earlier "
                                         "export)") from None
        progress = StatusLine(labels.name)
        try:
            done = drain(relay(steps, lambda fraction: progress.update(fraction, 1)))
        except (LabelIdError, TooManyTracksError) as error:
            raise InputFileError(labels.path, error.problem) from None
    if progress.live:
        progress.finish("exported")
    print(f"{done.tracks_text()} in {done.frames} frames of {labels.path}: wrote {target}")
    return 0
