"""``unet-studio finetune``: fine-tune a model on corrected labels and save it with its lineage.

    unet-studio finetune --image IMG --labels LABELS [--reviewed MASK] \\
        [--image IMG2 --labels LABELS2 ...] [--model BASE] -o OUT_DIR \\
        [--max-seconds S] [--epochs N] [--device auto|cpu|cuda|mps]

``--image``/``--labels`` (and ``--reviewed`` where given) pair up in order. Without
``--model`` the default model is fine-tuned, or, when there is none, a new network
(``--architecture``) is trained from scratch. Checkpoints go to ``OUT_DIR/.checkpoints`` while
training: running the same command again after a crash resumes there.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import time
from pathlib import Path

from unet_studio.app.commands.finetune_data import check_pairs, image_channels, load_examples

HELP = "fine-tune a model on corrected labels (or train a new one) and save it as a model folder"

log = logging.getLogger(__name__)
PROGRESS_EVERY_SECONDS = 5.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("training data (repeat --image/--labels per image)")
    data.add_argument("--image", action="append", required=True, metavar="IMG",
                      help="image stack (TIFF, OME-Zarr, folder or quoted glob)")
    data.add_argument("--labels", action="append", required=True, metavar="LABELS",
                      help="corrected labels for the image before it (same shape, no C axis)")
    data.add_argument("--reviewed", action="append", metavar="MASK",
                      help="mask of reviewed pixels (nonzero = learn from here); give one per "
                           "image or none (then every pixel counts)")
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
                            "(default: the default model)")
    model.add_argument("--architecture", default="unet",
                       help="network to build when there is no model to start from (default: unet)")
    model.add_argument("--spatial-dims", type=int, choices=(2, 3), default=2,
                       help="2D or 3D for a newly built network (default 2)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT_DIR",
                        help="folder for the fine-tuned model (created)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a model already in OUT_DIR, and discard an unfinished "
                             "run there on other data or settings")
    budget = parser.add_argument_group("budget and settings")
    budget.add_argument("--max-seconds", type=float, default=None,
                        help="time budget in seconds for the whole run, held-out scoring before "
                             "and after included (default 60 when no other budget is given)")
    budget.add_argument("--epochs", type=int, default=None, help="passes over the reviewed data")
    budget.add_argument("--max-steps", type=int, default=None, help="optimiser steps")
    budget.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N or mps")
    budget.add_argument("--train-layers", choices=("all", "decoder"), default="all",
                        help="train every layer (default) or only the decoder")
    budget.add_argument("--batch-size", type=int, default=4, help="patches per step (default 4)")
    budget.add_argument("--patch-size", type=int, default=128,
                        help="side of a training patch in pixels (default 128)")
    budget.add_argument("--learning-rate", type=float, default=5e-4,
                        help="peak learning rate (default 5e-4)")
    budget.add_argument("--seed", type=int, default=0,
                        help="random seed of the patches and augmentations (default 0)")
    budget.add_argument("--norm-statistics", choices=("auto", "freeze", "update"), default="auto",
                        help="BatchNorm statistics while training: keep the starting model's "
                             "(freeze), let the batches move them (update), or keep them when "
                             "the model already knows the images (auto, the default)")


def starting_model(args, in_channels: int, spatial_dims: int):
    """(net, parent) from --model, else the default model, else a new --architecture net."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.models.weights import load_model

    library = ModelLibrary()
    info = library.get(args.model) if args.model else library.default()
    if info is None:
        from unet_studio.models.registry import build_model

        log.warning("no default model: training a new %s from scratch", args.architecture)
        net = build_model(args.architecture, spatial_dims=spatial_dims, in_channels=in_channels)
        return net, None
    net = load_model(info.path)
    return net, {"ref": info.ref, "name": info.name, "path": str(info.path)}


# The FinetuneConfig fields this command sets, each from its flag: an out-of-range value is
# reported with the flag the user typed, not the field's name.
FLAG_OF_SETTING = {"max_seconds": "--max-seconds", "epochs": "--epochs",
                   "max_steps": "--max-steps", "device": "--device",
                   "train_layers": "--train-layers", "batch_size": "--batch-size",
                   "patch_size": "--patch-size", "learning_rate": "--learning-rate",
                   "seed": "--seed", "norm_statistics": "--norm-statistics"}


def make_config(args):
    """The FinetuneConfig of the flags; UserError naming the flag whose value is refused."""
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
        return FinetuneConfig(**settings)
    except SettingError as error:
        if error.name not in FLAG_OF_SETTING:
            raise
        raise UserError(f"{FLAG_OF_SETTING[error.name]} {error.rule}") from None


def check_output(output: Path, parent: dict | None, overwrite: bool) -> None:
    """Never write over the parent model, nor over another model unless asked to; and find
    out now, not after the training, when the folder cannot take the model."""
    from unet_studio.app.atomic import check_folder_writable, refuse_unsafe_output
    from unet_studio.app.errors import UserError
    from unet_studio.models.weights import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE

    if parent is not None and output.resolve() == Path(parent["path"]).resolve():
        raise UserError(f"{output} is the model being fine-tuned; choose another -o folder")
    if (output / "config.json").exists() and not overwrite:
        raise UserError(f"{output} already holds a model; use --overwrite or another -o folder")
    check_folder_writable(output)
    for name in (WEIGHTS_FILE, CONFIG_FILE, CARD_FILE):  # (each is replaced by a new file)
        refuse_unsafe_output(output / name)


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
          started: float | None = None):
    """Run the loop, printing a progress line every few seconds (and the last one) to
    stderr. An unfinished run of the same data and settings in ``checkpoints`` is resumed;
    one of another run is an error, or with ``overwrite`` is discarded. ``started``: the
    ``time.monotonic()`` the command began at (its loading counts against the budget)."""
    from unet_studio.models.training import iter_finetune

    generator = iter_finetune(net, examples, config, checkpoint_dir=checkpoints,
                              stale_checkpoint="restart" if overwrite else "raise",
                              started=started)
    shown, unshown = -PROGRESS_EVERY_SECONDS, None
    while True:
        try:
            progress = next(generator)
        except StopIteration as stop:
            if unshown is not None:
                _print_progress(unshown)
            return stop.value
        final = progress.fraction >= 1 and progress.validated
        unshown = progress
        if time.monotonic() - shown >= PROGRESS_EVERY_SECONDS or final:
            shown, unshown = time.monotonic(), None
            _print_progress(progress)


def _print_progress(progress) -> None:
    val = "" if progress.val_loss is None else f"  held-out loss {progress.val_loss:.4f}"
    if progress.val_metric is not None:  # (None: no object in the held-out data to score)
        val += f"  held-out score {progress.val_metric:.3f}"
    left = "" if progress.remaining is None else f", {progress.remaining:.0f} s left"
    print(f"step {progress.step}  epoch {progress.epoch:.1f}  loss "
          f"{progress.smoothed_loss:.4f}{val}  {progress.elapsed:.0f} s "
          f"({100 * progress.fraction:.0f}%{left})", file=sys.stderr, flush=True)


def report(result, output: Path) -> None:
    keys = ("val_loss", "f1_50", "f1_75", "ap_50", "ap_75", "mean_matched_iou")
    if "f1_50" not in result.metrics_after:
        keys += ("val_metric",)
    from unet_studio.models.training.progress import stop_text

    print(f"trained {result.steps} steps in a run of {result.elapsed:.1f} s "
          f"({stop_text(result.stopped)})")
    shown = [k for k in keys if k in result.metrics_after]
    if not shown:
        print("no held-out data: review a larger area to get before/after metrics")
    scored, blocks = result.extra.get("scored_val_crops"), result.extra.get("val_crops")
    if shown and scored is not None and scored < blocks:
        print(f"held-out scores over {scored} of {blocks} held-out blocks (what the time "
              "budget left room for)")
    for key in shown:
        print(f"  {key:18s} before {result.metrics_before.get(key, float('nan')):.4f}"
              f"  after {result.metrics_after[key]:.4f}")
    if result.metrics_after.get("n_true") == 0:
        print(_no_objects_text(result))
    print(f"saved fine-tuned model to {output}")


def _no_objects_text(result) -> str:
    """Why there are no F1/AP figures: the held-out data has no reference object to find
    (the held-out scoring leaves them out rather than calling 0 found of 0 perfect)."""
    before = result.metrics_before.get("n_pred", "?")
    return ("no objects in the held-out data: F1, AP and matched IoU are undefined there, the "
            "held-out loss is the measure (objects predicted in it: "
            f"{before} before, {result.metrics_after['n_pred']} after)")


def run(args: argparse.Namespace) -> int:
    from unet_studio.app.errors import UserError
    from unet_studio.models.task import TaskSpec
    from unet_studio.models.training.lineage import lineage_metadata
    from unet_studio.models.weights import save_model

    started = time.monotonic()  # (loading the model and data counts against --max-seconds)
    output = Path(args.output)
    checkpoints = output / ".checkpoints"
    try:
        config = make_config(args)
        check_output(output, None, args.overwrite)
        check_pairs(args)
        net, parent = starting_model(args, image_channels(args.image[0], args.axes, args.channel),
                                     args.spatial_dims)  # fmt: skip
        check_output(output, parent, args.overwrite)
        task = getattr(net, "task", None) or TaskSpec()
        examples, files = load_examples(
            args, percentiles=(task.lower_percentile, task.upper_percentile),
            spatial_dims=getattr(net, "spatial_dims", args.spatial_dims),
            in_channels=int(getattr(net, "in_channels", 1)))
        result = train(net, examples, config, checkpoints, overwrite=args.overwrite,
                       started=started)
    except ValueError as error:
        raise stale_checkpoint_error(error, checkpoints) or UserError(str(error)) from None
    metadata = lineage_metadata(result, name=output.name, parent=parent, data_files=files)
    save_model(result.net, output, task=getattr(net, "task", None), metadata=metadata)
    shutil.rmtree(checkpoints, ignore_errors=True)
    report(result, output)
    return 0
