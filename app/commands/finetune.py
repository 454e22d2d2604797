"""``unet-studio finetune``: fine-tune a model on corrected labels and save it with its lineage.

    unet-studio finetune --image IMG --labels LABELS [--reviewed MASK] \\
        [--image IMG2 --labels LABELS2 ...] [--project DIR] [--model BASE] -o OUT_DIR \\
        [--max-seconds S] [--epochs N] [--device auto|cpu|cuda|mps]

``--image``/``--labels`` (and ``--reviewed`` where given) pair up in order; ``--project``
adds the reviewed corrections of a project made in the GUI (``finetune_project``). Without
``--model`` the default model is fine-tuned; ``--new`` trains a new ``--architecture``
network from scratch: one that segments objects (instance labels), or with ``--classes
background,mito,membrane`` one that puts out a class per pixel, learnt from class maps whose
value i is the i-th name (a class map without ``--classes`` would be learnt as objects: the
labels are not guessed at). With a model to fine-tune, ``--classes`` must name its classes.
Checkpoints go to ``OUT_DIR/.checkpoints`` while training: running the same command again
after a crash or Ctrl-C resumes there. One run at a time writes an ``OUT_DIR``
(``finetune_output``). A run from random weights never saves them as its model: when no step
beat them yet it saves a trained step's weights and keeps its run, which the same command
goes on from (``finetune_scratch``).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

from unet_studio.app.commands.finetune_data import check_pairs, image_channels, load_examples
from unet_studio.app.commands.finetune_model import check_model_flags, starting_model
from unet_studio.app.commands.finetune_output import (
    check_output,
    check_space,
    check_still_free,
    output_lock,
    replacing_text,
)
from unet_studio.app.commands.finetune_report import (
    checkpoint_step,
    interrupted_text,
    print_progress,
    report,
    resumed_text,
)
from unet_studio.app.commands.finetune_save import save_on_full_disk
from unet_studio.app.commands.finetune_scratch import (
    TrainedSteps,
    goes_on,
    going_on_text,
    keep_to_go_on,
    scratch_metadata,
    starts_untrained,
    still_random_text,
    trained_result,
)

HELP = ("fine-tune a model on corrected labels (or, with --new, train a new one) and save it as "
        "a model folder")

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("training data (repeat --image/--labels per image, or give "
                                     "--project, or both)")
    data.add_argument("--image", action="append", metavar="IMG",
                      help="image stack (TIFF, OME-Zarr, folder or quoted glob)")
    data.add_argument("--labels", action="append", metavar="LABELS",
                      help="corrected labels for the image before it (same shape, no C axis)")
    data.add_argument("--reviewed", action="append", metavar="MASK",
                      help="mask of reviewed pixels (nonzero = learn from here); give one per "
                           "image or none (then every pixel counts)")
    data.add_argument("--project", metavar="DIR",
                      help="a project folder made in the GUI: learn from the reviewed "
                           "corrections of all its images (it is only read, and may be open "
                           "in a window meanwhile)")
    data.add_argument("--axes", default=None,
                      help="axes of the images if their files do not say (e.g. TYX, ZYX, CYX)")
    data.add_argument("--channel", default=None, metavar="INDEX",
                      help="channel to learn from in a multi-channel image, or 'luminance' for "
                           "RGB: the one 'predict --channel' segmented (a model taking as many "
                           "channels as the image has learns from all; a 3-channel model from "
                           "the RGB of an RGBA image)")
    model = parser.add_argument_group("model")
    model.add_argument("--model", metavar="BASE",
                       help="model to start from: a model folder or a library name "
                            "(default: the --project's current model, else the default model)")
    model.add_argument("--new", action="store_true",
                       help="train a new network from scratch instead of fine-tuning a model "
                            "(its channels come from the data); it segments objects (instance "
                            "labels: 0 background, each object its own number) unless "
                            "--classes is given")
    model.add_argument("--classes", default=None, metavar="NAMES",
                       help="class names separated by commas, background first (e.g. "
                            "background,mitochondria,membrane): the labels are class maps "
                            "(0 the first class, 1 the second...) and --new builds a network "
                            "with one output per class; with a model to fine-tune, its classes")
    model.add_argument("--architecture", default=None,
                       help="the network --new builds (default: unet)")
    model.add_argument("--spatial-dims", type=int, choices=(2, 3), default=None,
                       help="2D or 3D network for --new (default 2)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT_DIR",
                        help="folder for the fine-tuned model (created)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a model already in OUT_DIR (one of your library: the "
                             "projects using it then no longer find it, as said before the "
                             "training), and "
                             "discard an unfinished run there on other data or settings")
    budget = parser.add_argument_group("budget and settings")
    budget.add_argument("--max-seconds", type=float, default=None,
                        help="time budget in seconds for the whole run, held-out scoring before "
                             "and after included (default 60 when no other budget is given)")
    budget.add_argument("--epochs", type=int, default=None, help="passes over the reviewed data")
    budget.add_argument("--max-steps", type=int, default=None, help="optimiser steps")
    budget.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    budget.add_argument("--train-layers", choices=("all", "decoder"), default="all",
                        help="train every layer (default) or only the decoder")
    budget.add_argument("--batch-size", type=int, default=None,
                        help="patches per step (default 4 for a 2D network, 2 for 3D)")
    budget.add_argument("--patch-size", type=int, default=None,
                        help="side of a training patch in pixels (default 128 for a 2D "
                             "network; 3D: 32x64x64 in ZYX)")
    budget.add_argument("--learning-rate", type=float, default=5e-4,
                        help="peak learning rate (default 5e-4)")
    budget.add_argument("--seed", type=int, default=0,
                        help="random seed of the patches and augmentations (default 0)")
    budget.add_argument("--norm-statistics", choices=("auto", "freeze", "update"), default="auto",
                        help="BatchNorm statistics while training: keep the starting model's "
                             "(freeze), let the batches move them (update), or keep them when "
                             "the model already knows the images (auto, the default)")


def check_device(device: str) -> None:
    """Before any loading: a device that is not here, named as predict names it."""
    from unet_studio.app.errors import UserError
    from unet_studio.models.devices import resolve_device

    try:
        resolve_device(device)
    except ValueError as error:
        raise UserError(f"--device: {error}") from None


# The FinetuneConfig fields this command sets, each from its flag: an out-of-range value is
# reported with the flag the user typed, not the field's name.
FLAG_OF_SETTING = {"max_seconds": "--max-seconds", "epochs": "--epochs",
                   "max_steps": "--max-steps", "device": "--device",
                   "train_layers": "--train-layers", "batch_size": "--batch-size",
                   "patch_size": "--patch-size", "learning_rate": "--learning-rate",
                   "seed": "--seed", "norm_statistics": "--norm-statistics"}


def make_config(args, spatial_dims: int = 2):
    """The FinetuneConfig of the flags for a network with ``spatial_dims`` axes (whose
    patch and batch defaults it takes); UserError naming the flag whose value is refused."""
    from unet_studio.app.errors import UserError
    from unet_studio.models.training import FinetuneConfig
    from unet_studio.models.training.config import SettingError

    max_seconds = args.max_seconds
    if max_seconds is None and args.epochs is None and args.max_steps is None:
        max_seconds = 60.0
    settings = {"max_seconds": max_seconds, "epochs": args.epochs, "max_steps": args.max_steps,
                "device": args.device, "train_layers": args.train_layers,
                "batch_size": args.batch_size, "patch_size": args.patch_size,
                "learning_rate": args.learning_rate, "seed": args.seed,
                "norm_statistics": args.norm_statistics}
    try:
        return FinetuneConfig.for_network(spatial_dims, **settings)
    except SettingError as error:
        if error.name not in FLAG_OF_SETTING:
            raise
        raise UserError(f"{FLAG_OF_SETTING[error.name]} {error.rule}") from None


def stale_checkpoint_error(error: ValueError, checkpoints: Path):
    """The CLI's words for a checkpoint left by another run (other data or settings): the
    engine's message names its own options, the way out here is a flag; None for other
    errors."""
    from unet_studio.app.errors import UserError
    from unet_studio.models.training.session_checkpoints import StaleCheckpointError

    if not isinstance(error, StaleCheckpointError):
        return None
    return UserError(f"{checkpoints.parent}: holds an unfinished training run on other data or "
                     "settings; run the same command as then to resume it, pass --overwrite to "
                     "discard it and start afresh, or choose another -o folder")


def train(net, examples, config, checkpoints: Path, *, overwrite: bool = False,
          started: float | None = None, going_on: bool = False, watch=None):
    """Run the loop, printing a progress line every few seconds (and the last one) to
    stderr. An unfinished run of the same data and settings in ``checkpoints`` is resumed
    (and said so); one of another run is an error, or with ``overwrite`` is discarded.
    ``started``: the ``time.monotonic()`` the command began at (its loading counts against
    the budget). ``going_on``: the checkpoint is of a finished run kept to go on from
    (``finetune_scratch``): its budget is on top. ``watch(net, progress)``: called at each
    report, while ``net`` holds that step's weights."""
    from unet_studio.models.training import iter_finetune

    saved = checkpoint_step(checkpoints)
    generator = iter_finetune(net, examples, config, checkpoint_dir=checkpoints,
                              stale_checkpoint="restart" if overwrite else "raise",
                              started=started, more_time_on_resume=going_on)
    if going_on and saved is not None:
        print(going_on_text(checkpoints, config), file=sys.stderr, flush=True)
        saved = None  # (said: not "resuming at step N of the budget")
    shown, unshown, first = -PROGRESS_EVERY_SECONDS, None, True
    while True:
        try:
            progress = next(generator)
        except StopIteration as stop:
            if first:  # (a resumed run that had only its end left)
                _say_resumed(saved, stop.value.steps + 1, None, config)
            if unshown is not None:
                print_progress(unshown)
            return stop.value
        if first:  # (a resumed run whose first report is its end: the step it was saved at)
            at_end = saved is not None and progress.step == saved["step"] and \
                progress.fraction >= 1
            _say_resumed(saved, progress.step + at_end, progress.total_steps, config)
            first = False
        if watch is not None:
            watch(net, progress)
        final = progress.fraction >= 1 and progress.validated
        unshown = progress
        if time.monotonic() - shown >= PROGRESS_EVERY_SECONDS or final:
            shown, unshown = time.monotonic(), None
            print_progress(progress)


def _say_resumed(saved, first_step: int, total_steps, config) -> None:
    text = resumed_text(saved, first_step, total_steps, config.max_seconds)
    if text is not None:
        print(text, file=sys.stderr, flush=True)


def data_channels(args, project) -> int:
    """The channels a new network takes: those of the first --image, else the project's."""
    if args.image:
        return image_channels(args.image[0], args.axes, args.channel)
    from unet_studio.app.commands.finetune_project import project_channels

    return project_channels(project)


def training_examples(args, net, project) -> tuple[list, list[dict]]:
    """The examples of the --image/--labels pairs and of the --project, as ``net`` sees them
    (its percentiles, dimensions and channels), and what they came from."""
    from unet_studio.models.task import TaskSpec

    task = getattr(net, "task", None) or TaskSpec()
    options = {"percentiles": (task.lower_percentile, task.upper_percentile),
               "spatial_dims": int(net.config.spatial_dims),
               "in_channels": int(getattr(net, "in_channels", 1))}
    classes = task.class_names if task.kind == "semantic" else None
    examples, files = load_examples(args, **options, class_names=classes)
    if project is not None:
        from unet_studio.app.commands.finetune_project import project_examples

        more, sources = project_examples(project, **options, class_names=classes)
        examples, files = examples + more, files + sources
    return examples, files


def save(result, net, output: Path, parent: dict | None, files: list[dict]) -> None:
    """The model with its lineage; its config records the device the run used (not "auto")
    and how far from random weights it is (``finetune_scratch.scratch_metadata``)."""
    from unet_studio.models.training.lineage import lineage_metadata
    from unet_studio.models.weights import save_model

    metadata = lineage_metadata(result, name=output.name, parent=parent, data_files=files)
    metadata["finetune"]["config"]["device"] = result.extra.get("device", result.config.device)
    metadata.update(scratch_metadata(net, parent, result))
    save_model(result.net, output, task=getattr(net, "task", None), metadata=metadata)


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.commands.finetune_project import opened_project
    from unet_studio.app.errors import UserError

    started = time.monotonic()  # (loading the model and data counts against --max-seconds)
    output = Path(args.output)
    checkpoints = output / ".checkpoints"
    try:
        make_config(args)  # (the flags checked before any loading; the config comes below)
        check_model_flags(args)
        check_pairs(args)
        check_device(args.device)
        # (a model this command saved from random weights, its run kept to go on from:
        # running the command again goes on and replaces it, ``finetune_scratch``)
        check_output(output, None, args.overwrite or goes_on(output))
        with output_lock(output), opened_project(args.project) as project:
            going_on = goes_on(output)
            net, parent = starting_model(args, data_channels(args, project),
                                         args.spatial_dims or 2, project=project)
            check_output(output, parent, args.overwrite or going_on)
            replacing = replacing_text(output)
            if replacing is not None:  # (once it is not refused; before the training: there
                print(f"warning: {replacing}", file=sys.stderr, flush=True)  # is time to stop it)
            config = make_config(args, int(net.config.spatial_dims))  # (its rank's defaults)
            check_space(output, net, checkpoints)  # (before reading data, not after training)
            examples, files = training_examples(args, net, project)
            untrained, steps = starts_untrained(net, parent), TrainedSteps()
            result = train(net, examples, config, checkpoints, overwrite=args.overwrite,
                           started=started, going_on=going_on,
                           watch=steps.watch if untrained else None)
            if untrained:  # (random weights are no result: a trained step's are saved)
                result = trained_result(result, steps, checkpoints)
            check_still_free(output, args.overwrite or goes_on(output))
            to_go_on = bool(result.extra.get("no_step_beat_start"))
            # (a full disk: tried again with the superseded best checkpoint's space, else
            # an error saying how much to free and where the same command resumes)
            whole = save_on_full_disk(lambda: save(result, net, output, parent, files), output,
                                      checkpoints, net, keep_checkpoints=lambda: to_go_on)
            kept = to_go_on and whole and keep_to_go_on(checkpoints, output, result)
            if not kept:
                shutil.rmtree(checkpoints, ignore_errors=True)
    except ValueError as error:
        raise stale_checkpoint_error(error, checkpoints) or UserError(str(error)) from None
    except KeyboardInterrupt:  # (Ctrl-C, SIGTERM: the engine saved a checkpoint)
        text = interrupted_text(checkpoints)
        if text is not None:
            print(text, file=sys.stderr, flush=True)
        raise
    report(result, output)
    if result.extra.get("no_step_beat_start"):
        print(still_random_text(result, output, kept))
    return 0
