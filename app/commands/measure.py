"""``unet-studio measure LABELS [--image IMAGE] -o OUT.csv``: a table of the objects.

One row per object and time point: its pixel count (and area or volume in µm² / µm³ and the
centroid in µm when the file, or ``--pixel-size``, gives the pixel size), centroid and
bounding box in pixels, the time in seconds beside the frame index when the file states
the time step, and with ``--image`` its mean and integrated intensity per channel. The files are read slab by slab, so stacks larger than RAM
work; the CSV appears only when complete, and an existing one is kept unless ``--overwrite``.

A class map (``--classes`` names its classes, ``--model`` a semantic model, or without
either the file records its class names) gives one row per class and time point instead: pixels, area and intensity, no centroid or box
(``app.measure_classes``).
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from unet_studio.app.errors import InputFileError, UserError

HELP = "per-object table (CSV): size in pixels and µm, centroid, bounding box, intensity"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("labels", metavar="LABELS", help="label image (TIFF, OME-TIFF, OME-Zarr)")
    parser.add_argument("--image", default=None, metavar="IMAGE",
                        help="image to measure intensities in (same T/Z/Y/X sizes; may have "
                             "channels: one mean/integrated pair per channel)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.csv", help="the CSV to write")
    parser.add_argument("--axes", default=None, metavar="AXES",
                        help="axes of LABELS if the file does not say (letters of TZYX, e.g. TYX)")
    parser.add_argument("--image-axes", default=None, metavar="AXES",
                        help="axes of IMAGE if the file does not say (letters of TZCYX)")
    parser.add_argument("--pixel-size", default=None, metavar="UM",
                        help="pixel size in µm, over the file's: one number for Y and X "
                             "(e.g. 0.65), or Z,Y,X (e.g. 2,0.65,0.65); gives the µm columns "
                             "for files that do not state it")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT.csv if it exists (default: refuse and keep it)")
    classes = parser.add_mutually_exclusive_group()
    classes.add_argument("--classes", default=None, metavar="NAMES",
                         help="LABELS is a class map of these classes, background first (e.g. "
                              "background,mitochondria,membrane): one row per class and time "
                              "point (pixels, area, intensity) instead of one per object (default: the "
                              "class names LABELS records, if any)")
    classes.add_argument("--model", default=None, metavar="NAME_OR_DIR",
                         help="the model that made LABELS: a semantic model's classes are "
                              "measured as --classes does")


def known_pixel_sizes(stack) -> dict[str, float]:
    """Micrometres per pixel of the spatial axes whose size the file states."""
    from unet_studio.app.io.axes import UNIT_MICROMETER

    return {a: float(stack.scale[a]) for a in stack.axes
            if a in "ZYX" and stack.units.get(a) == UNIT_MICROMETER}


def parse_pixel_size(text: str) -> dict[str, float]:
    """``--pixel-size``: "0.65" (Y and X), "0.65,0.5" (Y,X) or "2,0.65,0.65" (Z,Y,X), in µm."""
    import math

    from unet_studio.app.errors import UserError

    parts = text.replace(" ", "").split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if not 1 <= len(values) <= 3 or not all(math.isfinite(v) and v > 0 for v in values):
        raise UserError(f"--pixel-size takes one positive number of µm (Y and X) or Z,Y,X "
                        f"(e.g. 2,0.65,0.65), got {text!r}")
    if len(values) == 1:
        values = values * 2
    return dict(zip("ZYX"[-len(values):], values))


def pixel_sizes(args: argparse.Namespace, labels, image) -> dict[str, float]:
    """µm per pixel of the labels' spatial axes: ``--pixel-size`` over what the labels'
    file states (they are what is measured), else the image's."""
    from unet_studio.app.errors import UserError
    from unet_studio.app.measure import spatial_axes

    known = known_pixel_sizes(labels) or (known_pixel_sizes(image) if image else {})
    if args.pixel_size is None:
        return known
    given = parse_pixel_size(args.pixel_size)
    spatial = spatial_axes(labels.axes)
    if "Z" in given and "Z" not in spatial:
        raise UserError(f"--pixel-size gives a Z size, but {labels.path} has no Z axis "
                        f"({labels.axes}): give Y and X only")
    sizes = {**known, **given}
    missing = [a for a in spatial if a not in sizes]
    if missing:  # (a volume in µm³ needs them all: say so rather than leave the column out)
        raise UserError(f"--pixel-size: {labels.path} states no {'/'.join(missing)} size; "
                        f"give Z,Y,X (e.g. 2,0.65,0.65)")
    return {a: v for a, v in sizes.items() if a in spatial}


def time_step(labels, image) -> float | None:
    """Seconds between time points, where the labels' file (else the image's) states it."""
    from unet_studio.app.io.axes import UNIT_SECOND

    for stack in (labels, image):
        if stack is not None and "T" in stack.axes and stack.units.get("T") == UNIT_SECOND:
            return float(stack.scale["T"])
    return None


def _check_labels(stack, class_names) -> None:
    """``class_names``: those ``--classes`` or a semantic ``--model`` gives (a class map is
    not judged as a possible intensity image), None for neither."""
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.label_files import refuse_intensities
    from unet_studio.app.measure import labels_problem

    problem = labels_problem(stack.dtype, stack.axes, stack.ndim)
    if problem:
        raise InputFileError(stack.path, problem)
    refuse_intensities(stack, "give the label image first and the intensities with --image",
                       class_names=class_names)


def _check_image(image, labels) -> None:
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.measure import grid_mismatch

    problem = grid_mismatch(labels.shape, labels.axes, image.shape, image.axes)
    if problem:
        raise InputFileError(image.path, f"{problem} (labels: {labels.path})")


def _check_target(target: Path, args: argparse.Namespace) -> None:
    """Before any work, as predict does: an existing CSV is kept unless --overwrite, and
    even then only a regular file that is not one of the inputs is replaced."""
    from unet_studio.app.atomic import refuse_unsafe_output
    from unet_studio.app.commands.predict_outputs import refuse_existing

    inputs = [p for p in (args.labels, args.image) if p is not None]
    refuse_unsafe_output(target, inputs=inputs)
    refuse_existing([target], args.overwrite)


def _measure(steps, labels, progress) -> int:
    """Drain the measuring steps; an id problem found on the way names the labels file."""
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.measure import LabelIdError
    from unet_studio.models.generators import drain, relay

    try:
        return drain(relay(steps, lambda fraction: progress.update(fraction, 1)))
    except LabelIdError as error:
        raise InputFileError(labels.path, error.problem) from None


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.commands.evaluate_classes import classes_of
    from unet_studio.app.io import open_stack
    from unet_studio.app.measure import iter_measure_to_csv
    from unet_studio.app.measure_inputs import class_map_note, file_classes
    from unet_studio.app.status_line import StatusLine

    if args.pixel_size is not None:  # (a typo stops the run before any file is read)
        parse_pixel_size(args.pixel_size)
    class_names = classes_of(args)
    target = Path(args.output).expanduser()
    _check_target(target, args)
    with contextlib.ExitStack() as files:
        labels = files.enter_context(open_stack(args.labels, axes=args.axes))
        _check_labels(labels, class_names)
        image = None
        if args.image is not None:
            image = files.enter_context(open_stack(args.image, axes=args.image_axes))
            _check_image(image, labels)
        scale = pixel_sizes(args, labels, image)
        progress = StatusLine(labels.name)  # (a big stack takes a while: show it moving)
        note = None
        if class_names is None and not args.model:  # (neither option: what the file says)
            class_names = file_classes(labels)
            note = class_map_note(class_names) if class_names else None
        if class_names is not None:
            return _measure_classes(args, labels, image, scale, class_names, progress, target,
                                    note)
        steps = iter_measure_to_csv(
            target, labels.data, None if image is None else image.data, axes=labels.axes,
            image_axes=None if image is None else image.axes, scale=scale,
            time_step=time_step(labels, image))
        count = _measure(steps, labels, progress)
    if progress.live:  # (the status line ends; the summary goes to stdout, for scripts)
        progress.finish("measured")
    frames = labels.sizes.get("T")  # (none: a 3D stack is one volume, not "1 frame")
    where = (f"{frames} frame{'s' if frames != 1 else ''} of" if frames is not None
             else "the stack" if "Z" in labels.axes else "the image")
    print(f"{count} objects in {where} {labels.path}: wrote {target}")
    return 0


def _measure_classes(args, labels, image, scale, class_names, progress, target: Path,
                     note: str | None = None) -> int:
    """A class map's table: the object rows (few: one per class and frame) as class rows.
    ``note``: the line saying the file's recorded classes were measured, printed first."""
    from unet_studio.app.measure import iter_measure, measure_columns, write_csv
    from unet_studio.app.measure_classes import class_columns, class_rows

    step = time_step(labels, image)
    image_axes = None if image is None else image.axes
    steps = iter_measure(labels.data, None if image is None else image.data, axes=labels.axes,
                         image_axes=image_axes, scale=scale, time_step=step)
    rows = _measure(steps, labels, progress)
    channels = 1 if image is None else image.sizes.get("C", 1)
    columns = class_columns(measure_columns(labels.axes, scale=scale, image_axes=image_axes,
                                            channels=channels, time_step=step))
    try:
        table = class_rows(rows, columns, class_names, labels.sizes.get("T"), step)
    except UserError as error:
        raise InputFileError(labels.path, str(error)) from None
    write_csv(table, columns, target)
    if progress.live:
        progress.finish("measured")
    if note:
        print(note)
    print(f"{len(class_names) - 1} classes ({', '.join(class_names[1:])}) in "
          f"{len(table)} rows of {labels.path}: wrote {target}")
    return 0
