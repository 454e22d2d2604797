"""The examples ``unet-studio finetune`` learns from: its --image/--labels/--reviewed files
checked and read lazily, each image giving the network the channels prediction gives it.

Separate from the command (``finetune``) because it is the part about files: which pairs,
which channels, which pixels, and the one-line errors naming the file that is wrong.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)


def read_array(path: str, *, axes: str | None = None, what: str):
    """Pixels and axes of a stack file (InputFileError naming the file on failure)."""
    import numpy as np

    from unet_studio.app.io import open_stack

    with open_stack(path, axes=axes) as stack:
        log.info("reading %s %s (%s %s)", what, stack.path, stack.axes, stack.shape)
        return np.asarray(stack.to_numpy()), stack.axes


def check_pairs(args) -> None:
    """Every --image has its --labels (and its --reviewed, when any is given), and none of
    them is a project (or a folder in one: its labels are what --project reads)."""
    from unet_studio.app.commands.finetune_project import refuse_project_path
    from unet_studio.app.errors import UserError

    args.image, args.labels = args.image or [], args.labels or []
    if not args.image and not args.labels and not getattr(args, "project", None):
        raise UserError("nothing to learn from: give --image IMG --labels LABELS (repeat per "
                        "image) or --project DIR")
    for flag in ("image", "labels", "reviewed"):
        for path in getattr(args, flag) or []:
            refuse_project_path(path)
    if len(args.image) != len(args.labels):
        raise UserError(f"got {len(args.image)} --image but {len(args.labels)} --labels; "
                        "give one --labels per --image")
    if args.reviewed and len(args.reviewed) != len(args.image):
        raise UserError(f"got {len(args.reviewed)} --reviewed for {len(args.image)} images; give "
                        "one per image or none")


def image_channels(path: str, axes: str | None, channel: str | None = None) -> int:
    """How many channels an image file gives the network after ``--channel`` (reads its
    metadata only)."""
    from unet_studio.app.io import open_stack
    from unet_studio.app.predict_files import select_channel

    with open_stack(path, axes=axes) as stack:
        return select_channel(stack, channel).sizes.get("C", 1)


def model_image(image, channel: str | None, in_channels: int):
    """The channels of ``image`` (a Stack) the network learns from: those prediction feeds
    it (``--channel``, the RGB of RGBA for a 3-channel model: ``predict_files``), lazily.
    InputFileError naming the file when the model takes another number of channels."""
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.predict_files import fit_channels_to, select_channel

    chosen = fit_channels_to(in_channels, select_channel(image, channel))
    channels = chosen.sizes.get("C", 1)
    if channels != in_channels:
        hint = " (choose one with --channel INDEX)" if in_channels == 1 else ""
        raise InputFileError(image.path, f"gives {channels} channel(s) ({chosen.axes}), the "
                                         f"model takes {in_channels}{hint}")
    return chosen


def load_examples(args, *, percentiles: tuple[float, float], spatial_dims: int,
                  in_channels: int = 1,
                  class_names: tuple[str, ...] | None = None) -> tuple[list, list[dict]]:
    """TrainingExamples from the --image/--labels/--reviewed triples, and what they came from.

    The files are opened lazily: with a --reviewed mask only its bounding box (plus context)
    is read from the image and labels, and the image is normalised with its own whole-image
    percentiles (``percentiles``: the model's), as in the Train panel and in prediction. The
    network (``in_channels``) gets the channels prediction gives it (``model_image``).
    ``class_names``: the labels are class maps of these classes (a semantic model), else
    instance labels.
    """

    from unet_studio.app.io import open_stack
    from unet_studio.app.training_data import context_margins
    from unet_studio.models.training.examples import example_from_image

    reviewed = args.reviewed or [None] * len(args.image)
    examples, files = [], []
    for image_path, labels_path, mask_path in zip(args.image, args.labels, reviewed):
        with open_stack(image_path, axes=args.axes) as opened, open_stack(labels_path) as labels:
            image = model_image(opened, getattr(args, "channel", None), in_channels)
            log.info("reading image %s (%s %s) and labels %s", image.path, image.axes,
                     image.shape, labels.path)  # fmt: skip
            spatial_shape = tuple(n for a, n in zip(image.axes, image.shape) if a != "C")
            _check_labels(labels, labels_path, image, image_path, spatial_shape)
            _check_kind(labels, labels_path, class_names)
            mask = _reviewed_mask(mask_path, spatial_shape)
            lower, upper = percentiles
            channel_axis = image.axes.index("C") if "C" in image.axes else None
            example = example_from_image(
                image.data, labels.data, mask, channel_axis=channel_axis,
                name=Path(image_path).name, lower=lower, upper=upper,
                margin=context_margins(len(spatial_shape), spatial_dims),
                # (the engine's notes name a pixel by them: "t=1, y=40, x=20", not an index)
                axes=image.axes.replace("C", ""),
            )
        if example is not None:
            _check_label_ids(example.labels, labels_path)
            if class_names is not None:
                _check_classes(example, labels_path, class_names)
            if mask_path is None:
                _check_has_objects(example.labels, labels_path, class_names)
            examples.append(example)
        files.append({"image": str(image_path), "labels": str(labels_path),
                      "reviewed": None if mask_path is None else str(mask_path), "axes": image.axes})
    return examples, files


def _check_labels(labels, path: str, image, image_path: str, spatial_shape: tuple) -> None:
    """Labels that cannot be the image's training labels (other shape, not integers, an
    intensity image): refused, naming the file. Reads one plane of them."""
    import numpy as np

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.label_files import refuse_intensities

    if tuple(labels.shape) != spatial_shape:
        raise InputFileError(path, f"has shape {tuple(labels.shape)}, the image "
                                   f"{image_path} has {image.shape} ({image.axes})")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise InputFileError(path, f"holds {labels.dtype} values, not integer labels")
    refuse_intensities(labels, "give the corrected label image with --labels and the image "
                               "it segments with --image")


def _check_kind(labels, path: str, class_names: tuple[str, ...] | None) -> None:
    """Labels whose file records them as a class map (``Stack.metadata["class_names"]``,
    written by the app or ``predict``) of other classes than the model's, or for an objects
    model (``class_names`` None): refused, naming the file, before anything is read. A file
    recording no classes is not judged here (objects, or a class map from elsewhere: the
    stray-class rule, ``_check_classes``, catches the worst)."""
    from unet_studio.app.class_map import class_values
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.labels_kind import kind_mismatch

    recorded = labels.metadata.get("class_names")
    wanted = class_values(class_names) if class_names else ()
    mismatch = kind_mismatch(recorded, wanted) if recorded else None
    if mismatch is not None:
        raise InputFileError(path, mismatch.sentence("the file", "the model", verb="records")
                             + f"; fine-tune {mismatch.wanted_model} on it instead (--model)")


def _reviewed_mask(path: str | None, spatial_shape: tuple):
    """The --reviewed mask as bool ``(*spatial)`` (every pixel without one); refused,
    naming the file, when it does not fit the labels or marks nothing."""
    import numpy as np

    from unet_studio.app.errors import InputFileError

    if path is None:
        return np.ones(spatial_shape, dtype=bool)
    mask, _ = read_array(path, what="reviewed mask")
    if mask.shape != spatial_shape:
        raise InputFileError(path, f"has shape {mask.shape}, the labels have {spatial_shape}")
    mask = mask != 0
    if not mask.any():
        raise InputFileError(path, "marks no pixel as reviewed (all zero): nothing to learn from")
    return mask


def _check_label_ids(labels, path: str) -> None:
    """Negative ids are neither background nor an object: refused, naming the file."""
    from unet_studio.app.errors import InputFileError
    from unet_studio.app.measure import LabelIdError, check_ids

    try:
        check_ids(labels)
    except LabelIdError as error:
        raise InputFileError(path, error.problem) from None


def _check_classes(example, path: str, class_names: tuple[str, ...]) -> None:
    """A class map whose reviewed pixels hold values past the last class. A few (a stray id
    painted in) are left out of training by the engine, which logs where they are, as the
    Train panel does. More than the engine's share (``unknown_classes``) means the file is
    no class map of these classes (instance labels given by mistake, a map of more
    classes): refused here, naming the file, before any training."""
    from unet_studio.app.errors import InputFileError

    problem = unknown_classes_problem(example.labels, example.reviewed, class_names)
    if problem is not None:
        raise InputFileError(path, problem)


def unknown_classes_problem(labels, reviewed, class_names: tuple[str, ...], *,
                            verb: str = "holds") -> str | None:
    """Why ``labels`` (reviewed where ``reviewed``; None: everywhere) cannot be a class map
    of ``class_names``: more than the engine's share of its reviewed pixels hold no class
    ("holds the value 12, but the classes are ..."; ``verb`` for a plural subject). None
    when they can (a few such pixels are left out of training by the engine)."""
    import numpy as np

    from unet_studio.models.training.targets import unknown_class_mask
    from unet_studio.models.training.unknown_classes import MAX_UNKNOWN_SHARE

    if len(class_names) == 1:  # (binary: every id above 0 is the class, as in the engine)
        return None
    labels = np.asarray(labels)
    reviewed = None if reviewed is None else np.asarray(reviewed, dtype=bool)
    bad = unknown_class_mask(labels, reviewed, num_classes=len(class_names))
    count = int(bad.sum())
    total = labels.size if reviewed is None else int(reviewed.sum())
    if not count or count <= MAX_UNKNOWN_SHARE * total:
        return None
    return (f"{verb} the value {int(labels[bad].max())}, but the classes are 0 to "
            f"{len(class_names) - 1} ({', '.join(class_names)}), in {count} of its {total} "
            f"reviewed pixels (more than {MAX_UNKNOWN_SHARE:.0%}): give a class map of these "
            "classes (instance labels need a model of objects)")


def _check_has_objects(labels, path: str, class_names: tuple[str, ...] | None = None) -> None:
    """Labels without a single object, with no --reviewed mask to say which pixels were
    checked, are more likely a wrong or unfinished file than a verified "nothing here":
    trained on, they teach the model that there are no objects anywhere. Refused, naming the
    file. (With --reviewed, an empty reviewed region is a real background example; the Train
    panel always trains on reviewed regions, so this never refuses one of its rounds.)"""
    from unet_studio.app.errors import InputFileError

    if not labels.any() and class_names is not None:
        raise InputFileError(path, f"holds only class 0 ({class_names[0]}): trained on, the "
                                   "model would learn that there is nothing else anywhere; "
                                   "to teach it that class on purpose, give --reviewed MASK "
                                   "marking the pixels checked")
    if not labels.any():
        raise InputFileError(path, "holds no object (every pixel is 0): trained on, the model "
                                   "would learn that there is nothing to find anywhere; to "
                                   "teach it background on purpose, give --reviewed MASK "
                                   "marking the pixels checked to be empty")
