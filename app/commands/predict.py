"""``unet-studio predict INPUT... -o OUTPUT``: segment image files with a model.

Each input (a file, a folder of 2D TIFFs, or a glob matching files) is read lazily, run
through the tiled engine and streamed into a TIFF (or a Zarr for very large outputs) with
the input's axes and pixel size. Output appears only when complete: a temporary file is
renamed into place, and a bad input leaves nothing behind. An existing output is replaced
only with ``--overwrite``, or kept and its input skipped with ``--skip-existing`` (an
interrupted batch picks up where it stopped: an output there is whole).
"""

from __future__ import annotations

import argparse
import glob
import logging
import sys
from pathlib import Path

from unet_studio.app.commands.predict_notes import (
    WIDE_LABELS_NOTE,
    batch_summary,
    note_guessed_axes,
    note_object_options,
    note_other_series,
    note_small_tile,
    uncompressed_note,
    unsure_note,
)
from unet_studio.app.commands.predict_outputs import (
    output_bytes,
    output_paths,
    put_back_output,
    refuse_existing,
    set_aside_existing,
)
from unet_studio.app.status_line import StatusLine  # (measure and evaluate import it here)

HELP = "segment images with a model: instance labels, masks or class probabilities"

OUTPUT_TYPES = ("labels", "mask", "probabilities")

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image files (TIFF, OME-TIFF, OME-Zarr, PNG, JPEG), folders of 2D TIFFs "
                             "(one stack each) or globs such as 'images/*.tif' (each file matched "
                             "its own input, as the shell would give them; for the files of one "
                             "stack give their folder)")
    parser.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                        help="output file (.tif, .tiff or .zarr) for one input; a folder for several")
    parser.add_argument("--model", default=None, metavar="NAME_OR_DIR",
                        help="model folder or library name (default: the default model)")
    parser.add_argument("--tile", type=int, default=None, metavar="N",
                        help="tile core size in pixels (default: chosen from memory)")
    parser.add_argument("--device", default="auto", metavar="DEVICE",
                        help="where to compute: auto (default: CUDA, then MPS, then CPU), cpu, "
                             "cuda, cuda:N or mps")
    parser.add_argument("--axes", default=None, metavar="ZYX",
                        help="axes of the input when its metadata is missing or wrong (letters of TZCYX)")
    parser.add_argument("--output-type", default="labels", choices=OUTPUT_TYPES,
                        help="instance labels, a foreground/class mask, or float probabilities")
    parser.add_argument("--channel", default=None, metavar="INDEX",
                        help="channel to segment in a multi-channel image, counting from 0 (0 = "
                             "the first), or 'luminance' for RGB (0 also stands for an image of "
                             "one channel)")
    parser.add_argument("--series", type=int, default=None, metavar="N",
                        help="which image of a multi-series TIFF or of a bioformats2raw OME-Zarr"
                             ", counting from 1 (1 = the first, as 'info' counts)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace output files that already exist (default: refuse, so that "
                             "labels you corrected are never written over by mistake)")
    parser.add_argument("--skip-existing", action="store_true",
                        help="skip the inputs whose output file already exists and do the "
                             "others (to resume an interrupted batch: outputs appear only "
                             "when complete, so one that exists is whole)")
    parser.add_argument("--tta", action="store_true",
                        help="average over flipped copies (slower, slightly smoother)")
    objects = parser.add_argument_group(
        "instance labels (defaults: the model's own, from its config)")
    objects.add_argument("--min-size", type=int, default=None, metavar="PX",
                         help="drop objects smaller than this many pixels (voxels in 3D)")
    objects.add_argument("--seed-height", type=float, default=None, metavar="PX",
                         help="how deep (pixels) the dip between two touching objects must be to "
                              "split them (default: the model's; the bundled model scales it "
                              "with the nuclei, 20%% of their typical radius)")
    objects.add_argument("--no-time-links", action="store_true",
                         help="time series: number each time point's objects 1..N on their own "
                              "(default: an object keeps its id from one time point to the next "
                              "where it overlaps itself or is clearly its partner by position or "
                              "by its own steady motion, and after time points where it was "
                              "missed: see --max-gap)")
    objects.add_argument("--max-gap", type=int, default=None, metavar="N",
                         help="time series: an object missed at up to N time points in a row "
                              "takes up its id again after them, where it clearly is the one "
                              "missed (default 2; 0: never)")


def postprocess_options(args: argparse.Namespace) -> dict:
    """The post-processing options given on the command line (the model's defaults stand
    for the others); UserError for values that cannot work."""
    from unet_studio.app.errors import UserError

    options = {}
    if getattr(args, "min_size", None) is not None:
        if args.min_size < 0:
            raise UserError(f"--min-size must be 0 or more pixels, got {args.min_size}")
        options["min_size"] = args.min_size
    if getattr(args, "seed_height", None) is not None:
        if not args.seed_height > 0:
            raise UserError(f"--seed-height must be a positive number of pixels, got {args.seed_height}")
        options["seed_height"] = args.seed_height
    if getattr(args, "no_time_links", False):
        options["link_over_time"] = False
    if getattr(args, "max_gap", None) is not None:
        if args.max_gap < 0:
            raise UserError(f"--max-gap must be 0 or more time points, got {args.max_gap}")
        options["link_max_gap"] = args.max_gap
    return options


def expand_inputs(patterns: list[str]) -> list[str]:
    """Globs expanded to the files they match (sorted); other paths kept as given."""
    from unet_studio.app.errors import UserError

    expanded = []
    for pattern in patterns:
        if any(c in pattern for c in "*?[") and not Path(pattern).exists():
            matches = sorted(glob.glob(pattern))
            if not matches:
                raise UserError(f"{pattern}: no file matches this pattern")
            expanded.extend(matches)
        else:
            expanded.append(pattern)
    return expanded


def load_network(model: str | None):
    """The network (with ``.task``) named by ``--model``, or the default model."""
    from unet_studio.app.errors import UserError
    from unet_studio.app.model_library import ModelLibrary, bundled_models_dir

    library = ModelLibrary()
    if model is None:
        info = library.default()
        if info is None:
            raise UserError(
                f"no default model is installed (expected one in {bundled_models_dir() / 'default'}); "
                "pass --model with a model folder"
            )
        model = str(info.path)
    try:
        return library.load(model, device="cpu")
    except UserError:
        _refuse_folder_without_model(model)
        raise


def _refuse_folder_without_model(model: str) -> None:
    """A --model folder that exists but holds no model is named as such ("no model
    '/data/run1'" reads as if the folder were missing)."""
    from unet_studio.app.errors import UserError
    from unet_studio.app.model_folder import CONFIG_FILE, WEIGHTS_FILE

    folder = Path(model).expanduser()
    if folder.is_dir() and not (folder / CONFIG_FILE).is_file():  # (else: the library's word)
        missing = " and ".join(n for n in (WEIGHTS_FILE, CONFIG_FILE) if not (folder / n).is_file())
        raise UserError(f"{folder}: this folder holds no model (no {missing}); --model takes a "
                        f"model folder (with {WEIGHTS_FILE} and {CONFIG_FILE}) or a library "
                        "name") from None


def _check_device(device: str) -> None:
    from unet_studio.app.errors import UserError
    from unet_studio.models.devices import resolve_device

    try:
        resolve_device(device)
    except ValueError as error:
        raise UserError(f"--device: {error}") from None


def _check_output_options(args: argparse.Namespace) -> None:
    from unet_studio.app.errors import UserError

    if args.tile is not None and args.tile < 1:
        raise UserError(f"--tile must be a positive number of pixels, got {args.tile}")
    if getattr(args, "skip_existing", False) and args.overwrite:
        raise UserError("--skip-existing keeps existing outputs and --overwrite replaces them: "
                        "choose one")


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.atomic import refuse_unsafe_output
    from unet_studio.app.class_map import model_classes
    from unet_studio.app.errors import UserError
    from unet_studio.app.predict_files import (
        classes_found,
        objects_found,
        open_inputs,
        plan_stack,
        predict_one,
    )

    put_back_output(args.output)
    _check_output_options(args)
    _check_device(args.device)
    args.postprocess = postprocess_options(args)
    inputs = expand_inputs(args.inputs)
    net = load_network(args.model)
    note_object_options(args, net)
    if args.channel is not None and int(net.in_channels) > 1:
        # (else "the model takes 2 channel(s), the image has 1" of a file of 2: --channel
        # had cut them to one)
        raise UserError(f"--channel {args.channel}: the model takes {net.in_channels} channels, "
                        "all of the image's, in its order; drop --channel")
    series = getattr(args, "series", None)
    if series is not None and series < 1:
        raise UserError(f"--series counts from 1 (the first image of a file), got {series}")
    stacks = open_inputs(inputs, args.axes, args.channel, series=0 if series is None else series - 1)
    try:
        for stack in stacks:  # every input fits the model, before any output is written
            plan_stack(net, stack)
            note_other_series(stack, series)
            note_guessed_axes(stack, args.axes)
        note_small_tile(net, args.tile, stacks)
        sizes = [output_bytes(s, net, args.output_type) for s in stacks]
        targets = output_paths(inputs, args.output, args.output_type, sizes)
        skip = getattr(args, "skip_existing", False)
        if not skip:
            refuse_existing(targets, args.overwrite, skippable=True)
        jobs, skipped = set_aside_existing(list(zip(stacks, targets, sizes)), skip)
        for stack, target, _ in skipped:
            sys.stderr.write(f"{stack.name}: skipped: {target} exists\n")
        for _, target, _ in jobs:  # (--overwrite replaces files, never a pipe, link or input)
            refuse_unsafe_output(target, inputs=inputs, folder_ok=target.suffix.lower() == ".zarr")
        # (instance labels end each time point with the labelling of its objects)
        labelling = args.output_type == "labels" and net.task.kind == "instance"
        for stack, target, size in jobs:
            progress = StatusLine(stack.name, labelling=labelling)
            found = predict_one(net, stack, target, args, progress.update)
            written = found.written_bytes or size  # (labels narrowed to uint16: half)
            progress.finish(f"wrote {target}{objects_found(found.per_group, found.tracks)}"
                            f"{classes_found(found, model_classes(net))}"
                            f"{uncompressed_note(target, written)}{unsure_note(found.confidence)}")
            if found.wide_labels:
                sys.stderr.write(f"{target}: {WIDE_LABELS_NOTE}\n")
        if len(targets) > 1 or skipped:
            sys.stderr.write(f"{batch_summary(len(jobs), len(skipped))}\n")
    finally:
        for stack in stacks:
            stack.close()
    return 0
