"""The network ``unet-studio finetune`` trains: a new one (``--new``, objects or the
``--classes`` asked for) or the model it fine-tunes, with the flags that describe it checked
before anything is read (``finetune``)."""

from __future__ import annotations

import logging
import sys

from unet_studio.app.errors import UserError
from unet_studio.app.model_task import check_same_classes, parse_class_names, semantic_task

log = logging.getLogger(__name__)


def check_model_flags(args) -> None:
    """--architecture and --spatial-dims describe the network --new builds: given without
    it they would be ignored (a model is always fine-tuned then), so they are refused.
    --classes becomes the tuple of its names (UserError naming the flag if they are not)."""
    given = [flag for flag, value in (("--architecture", args.architecture),
                                      ("--spatial-dims", args.spatial_dims)) if value is not None]
    if given and not args.new:
        verb = "describe" if len(given) > 1 else "describes"
        raise UserError(f"{' and '.join(given)} {verb} the network --new builds: add --new to "
                        "train one from scratch, or leave them out to fine-tune a model")
    if args.new and args.model:
        raise UserError("--new trains a new network from scratch, --model fine-tunes a model: "
                        "give one of them")
    if args.classes is not None:
        try:
            args.classes = parse_class_names(args.classes)
        except UserError as error:
            raise UserError(f"--classes: {error}") from None


def starting_model(args, in_channels: int, spatial_dims: int, *, project=None):
    """(net, parent): a new --architecture network with --new, else --model, else the
    current model of --project (the one its corrections were made with: often a round
    accepted in the GUI), else the default model (else, with no default model at all, a new
    U-Net). ``project``: the --project read, whose models folder holds ``project:NAME``."""
    from unet_studio.app.model_library import ModelLibrary
    from unet_studio.models.weights import load_model

    if args.new:
        return new_network(args.architecture or "unet", spatial_dims, in_channels,
                           args.classes), None
    library = ModelLibrary(project_models_dir=None if project is None else project.models_dir)
    current = None if project is None or args.model else project.current_model
    info = None
    if current:
        try:  # (that very model: in a copied project, its ref may name another one here)
            info = library.find(current, project.current_model_identity)
            print(f"fine-tuning the project's current model {info.ref}", file=sys.stderr)
        except UserError as error:
            print(f"the project's current model is not available ({error}): fine-tuning the "
                  "default model", file=sys.stderr)
    if info is None:
        info = library.get(args.model) if args.model else library.default()
    if info is None:
        log.warning("no default model: training a new unet from scratch")
        return new_network("unet", spatial_dims, in_channels, args.classes), None
    net = load_model(library.checked(info).path)  # (the check and wording predict gives)
    if args.classes is not None:
        check_same_classes(net.task, args.classes, f"the model {info.name!r}")
    return net, {"ref": info.ref, "name": info.name, "path": str(info.path)}


def new_network(architecture: str, spatial_dims: int, in_channels: int,
                class_names: tuple[str, ...] | None = None):
    """An untrained network: one output per class of ``class_names`` (its task says so),
    else the 3 outputs of objects (background, foreground, boundary)."""
    from unet_studio.models.registry import build_model

    outputs = {} if class_names is None else {"out_channels": len(class_names)}
    try:
        net = build_model(architecture, spatial_dims=spatial_dims, in_channels=in_channels,
                          **outputs)
    except ValueError as error:
        raise UserError(f"--architecture: {error}") from None
    if class_names is not None:  # (3 classes would otherwise be taken for objects)
        net.task = semantic_task(class_names, spatial_dims)
    return net
