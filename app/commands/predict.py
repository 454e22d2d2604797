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
import math
import sys
from pathlib import Path

from unet_studio.app.status_line import StatusLine  # (measure and evaluate import it here)

HELP = "segment images with a model: instance labels, masks or class probabilities"

OUTPUT_TYPES = ("labels", "mask", "probabilities")
OUTPUT_SUFFIXES = (".tif", ".tiff", ".zarr")
# An output named like a file of another kind is a mistake, not a folder to create.
NOT_OUTPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".npy", ".npz", ".h5", ".hdf5",
                       ".csv", ".json", ".nd2", ".czi", ".lif", ".mrc")  # fmt: skip
# Beyond this an output goes to Zarr in folder mode: chunked, no 4 GB TIFF limits.
ZARR_ABOVE_BYTES = 4 * 2**30
# Labels to a .tif are a uint16 ImageJ hyperstack (what Fiji's File > Open reads with axes and
# calibration); when ids do not fit they stay int32, which only OME-TIFF holds.
WIDE_LABELS_NOTE = ("labels with ids above 65535 written as 32-bit OME-TIFF; Fiji opens them "
                    "via Bio-Formats")

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


def output_paths(inputs: list[str], output: str, output_type: str, sizes: list[int]) -> list[Path]:
    """Where each input's result goes: ``output`` itself for one input named like a file,
    else ``<output>/<input stem>_<output_type>.tif`` (``.zarr`` above ZARR_ABOVE_BYTES)."""
    from unet_studio.app.errors import UserError

    target = Path(output).expanduser()
    if target.suffix.lower() in NOT_OUTPUT_SUFFIXES and not target.is_dir():
        raise UserError(f"{target}: results are written as .tif, .tiff or .zarr (or into a folder); "
                        f"not {target.suffix}")
    as_file = len(inputs) == 1 and target.suffix.lower() in OUTPUT_SUFFIXES
    if as_file:
        return [target]
    if target.suffix.lower() in OUTPUT_SUFFIXES and not target.is_dir():
        raise UserError(f"{target}: several inputs need an output folder, not a file name")
    names = [_stem(Path(p)) for p in inputs]
    first_with = {}
    for path, name in zip(inputs, names):
        if name in first_with:  # (their outputs would be one file, NAME_labels.tif)
            raise UserError(f"{first_with[name]} and {path} have the same name ({name}); run "
                            "them separately to different outputs")
        first_with[name] = path
    return [target / f"{name}_{output_type}{'.zarr' if size > ZARR_ABOVE_BYTES else '.tif'}"
            for name, size in zip(names, sizes)]


def refuse_existing(targets: list[Path], overwrite: bool, *, skippable: bool = False) -> None:
    """Stop before any work when an output exists: it may be labels the user corrected.
    ``skippable``: the command has ``--skip-existing`` (predict), said when it would help."""
    from unet_studio.app.errors import UserError

    existing = [t for t in targets if t.exists()]
    if existing and not overwrite:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        skip = ", --skip-existing to keep it and do the others" if skippable and len(targets) > 1 else ""
        raise UserError(f"{existing[0]}: already exists{more}; pass --overwrite to replace it{skip}, "
                        "or choose another -o")


def set_aside_existing(jobs: list[tuple], skip: bool) -> tuple[list[tuple], list[tuple]]:
    """``jobs`` (stack, target, size) split into those to run and those skipped because
    their target exists (with ``skip``; else none). An existing output is complete:
    ``open_output`` writes a temporary name and renames it into place at the end."""
    if not skip:
        return jobs, []
    return [j for j in jobs if not j[1].exists()], [j for j in jobs if j[1].exists()]


def _stem(path: Path) -> str:
    name = path.name.rstrip("/") or "image"
    for suffix in (".ome.tiff", ".ome.tif", ".tiff", ".tif", ".zarr"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(name).stem


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


def _output_bytes(stack, net, output_type: str) -> int:
    """Bytes of the (uncompressed) result, to choose between TIFF and Zarr."""
    from unet_studio.app.class_map import model_classes
    from unet_studio.app.predict_files import output_dtype

    pixels = math.prod(n for a, n in zip(stack.axes, stack.shape) if a != "C")
    if output_type == "probabilities":
        return pixels * 4 * int(net.out_channels)
    # (a semantic model's class map is written in its smallest type: uint8 for up to 256)
    classes = (list(model_classes(net)) or None) if output_type == "labels" else None
    return pixels * output_dtype(output_type, classes).itemsize


def uncompressed_note(target: Path, nbytes: int) -> str:
    """"; left uncompressed (...)" when ``open_output`` kept a big TIFF as streamed (a 5 GiB
    labels file instead of a ~100 MiB one would surprise), else ""."""
    from unet_studio.app.io.output import stays_uncompressed, uncompressed_reason

    if not stays_uncompressed(target, nbytes):
        return ""
    return (f"; {uncompressed_reason(nbytes)}: write a .zarr output for a compressed one, or "
            "compress this TIFF afterwards")


def unsure_note(confidence) -> str:
    """"; the model was unsure of 13 % of what it called objects: ..." when it was unsure of
    much of them (``unsure_hint``), with what to do about it from the command line; else ""."""
    from unet_studio.app.unsure_hint import unsure_text

    text = unsure_text(confidence)
    if not text:
        return ""
    return f"; {text}; correct a few objects and fine-tune it on them (unet-studio finetune)"


def _note_small_tile(net, tile: int | None, stacks: list) -> None:
    """Say what a --tile much smaller than the network's halo costs (once, for the first
    input: the others pay the same per pixel)."""
    from unet_studio.app.predict_files import plan_stack
    from unet_studio.app.tile_advice import small_tile_warning

    if tile is None or not stacks:
        return
    layout = plan_stack(net, stacks[0])
    warning = small_tile_warning(net, tile, layout.spatial_shape, stacks[0].name)
    if warning:
        sys.stderr.write(f"unet-studio: warning: {warning}\n")


def _note_other_series(stack, series: int | None) -> None:
    """Say so when a multi-series file is segmented for its first image only."""
    count = stack.metadata.get("series_count", 1)
    if series is None and count > 1:
        sys.stderr.write(f"{stack.path}: holds {count} image series; segmenting the first "
                         "(--series N for another)\n")


def _note_guessed_axes(stack, axes: str | None) -> None:
    """Say so when the file does not name its axes: a plain multi-page TIFF of a time-lapse
    would otherwise be segmented as one 3D volume without a word."""
    if axes is None and stack.metadata.get("axes_source") == "guessed":
        hint = (f"--axes T{stack.axes[1:]} if it is a time series" if stack.axes[0] == "Z"
                else "--axes to set them")
        sys.stderr.write(f"{stack.path}: axes not stated in the file, read as {stack.axes} "
                         f"({hint})\n")


# The flags of the "instance labels" group, by their post-processing option.
OBJECT_FLAGS = {"min_size": "--min-size", "seed_height": "--seed-height",
                "link_over_time": "--no-time-links", "link_max_gap": "--max-gap"}


def _note_object_options(args: argparse.Namespace, net) -> None:
    """A semantic model puts out classes, not objects: the object flags given do nothing
    for it. Said in one line (a user who typed --min-size expects small specks dropped) and
    left out of the run."""
    task = getattr(net, "task", None)
    given = [flag for key, flag in OBJECT_FLAGS.items() if key in args.postprocess]
    if task is None or task.kind != "semantic" or not given:
        return
    sys.stderr.write(f"{', '.join(given)}: not applied; this model puts out classes "
                     f"({', '.join(task.class_names)}), not objects, and "
                     f"{'these options shape' if len(given) > 1 else 'this option shapes'} "
                     "objects only\n")
    args.postprocess = {}


def _check_output_options(args: argparse.Namespace) -> None:
    from unet_studio.app.errors import UserError

    if args.tile is not None and args.tile < 1:
        raise UserError(f"--tile must be a positive number of pixels, got {args.tile}")
    if getattr(args, "skip_existing", False) and args.overwrite:
        raise UserError("--skip-existing keeps existing outputs and --overwrite replaces them: "
                        "choose one")


def _put_back_output(output: str) -> None:
    """An -o output whose last writer was killed while replacing it (the previous one set
    aside under a hidden name, ``io.atomic``) is put back first: a run refused before it
    writes (a bad input, option or model) never reaches the sweep of the next write."""
    from unet_studio.app.io.atomic import put_back_abandoned

    put_back_abandoned(Path(output).expanduser())


def batch_summary(written: int, skipped: int) -> str:
    """The last line of a run over several inputs (the skipped ones counted)."""
    text = f"{written} output{'s' * (written != 1)} written"
    return text + (f", {skipped} skipped (already there)" if skipped else "")


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

    _put_back_output(args.output)
    _check_output_options(args)
    _check_device(args.device)
    args.postprocess = postprocess_options(args)
    inputs = expand_inputs(args.inputs)
    net = load_network(args.model)
    _note_object_options(args, net)
    series = getattr(args, "series", None)
    if series is not None and series < 1:
        raise UserError(f"--series counts from 1 (the first image of a file), got {series}")
    stacks = open_inputs(inputs, args.axes, args.channel, series=0 if series is None else series - 1)
    try:
        for stack in stacks:  # every input fits the model, before any output is written
            plan_stack(net, stack)
            _note_other_series(stack, series)
            _note_guessed_axes(stack, args.axes)
        _note_small_tile(net, args.tile, stacks)
        sizes = [_output_bytes(s, net, args.output_type) for s in stacks]
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
