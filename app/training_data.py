"""What a fine-tuning round learns from: the reviewed corrections of the current image and of
the project's other images (Qt-free; the Train panel calls it on the GUI thread).

Only the bounding box of each image's reviewed pixels is read (plus some context), so a
stack larger than RAM with a few corrected slices costs those slices. Each crop keeps the
intensity percentiles of its whole image, because prediction normalises the whole image.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from unet_studio.app.errors import UserError

CONTEXT = 32  # pixels of context kept around the reviewed box (patches reach past it)


def context_margins(ndim: int, spatial_dims: int) -> tuple[int, ...]:
    """``CONTEXT`` on the network's own axes (the last ``spatial_dims``), none on the others:
    a 2D network learns a Z stack or time series slice by slice, so neighbouring slices are
    not context, only pixels to read."""
    return tuple(0 if axis < ndim - spatial_dims else CONTEXT for axis in range(ndim))


def model_spatial_dims(model_info) -> int:
    return int((getattr(model_info, "architecture_config", None) or {}).get("spatial_dims", 2))


def model_percentiles(model_info) -> tuple[float, float]:
    """The intensity percentiles the model normalises with (its task, else the defaults)."""
    from unet_studio.models.task import TaskSpec

    task = TaskSpec.from_dict(dict(getattr(model_info, "task", None) or {}))
    return task.lower_percentile, task.upper_percentile


def image_example(pixels, axes: str, labels, regions, *, name: str,
                  percentiles: tuple[float, float], spatial_dims: int = 2):
    """The reviewed part of one image as a TrainingExample, None when nothing is reviewed.

    ``pixels``: array-like with one axis per letter of ``axes``; ``labels`` and ``regions``
    (ReviewedRegions): the shape of ``pixels`` without its channel axis; ``spatial_dims``:
    the network's (context is kept on those axes only).
    """
    from unet_studio.models.training.examples import example_from_image

    if regions is None or not regions.any():
        return None
    channel_axis = axes.index("C") if "C" in axes else None
    spatial = tuple(n for a, n in zip(axes, pixels.shape) if a != "C")
    if spatial != tuple(labels.shape):
        raise UserError(f"{name}: the labels ({tuple(labels.shape)}) do not match the image "
                        f"({tuple(pixels.shape)}, axes {axes})")
    lower, upper = percentiles
    return example_from_image(pixels, labels, regions.mask, regions.changed,
                              channel_axis=channel_axis, name=name, lower=lower, upper=upper,
                              margin=context_margins(labels.ndim, spatial_dims))  # fmt: skip


def project_examples(project, *, skip: set[str], open_image: Callable[[str], object | None],
                     percentiles: tuple[float, float], spatial_dims: int = 2) -> tuple[list, list[str]]:
    """Examples from the project's images with reviewed regions, other than the ids in
    ``skip``, and one line per image that could not be used (and why).

    Pixels come from the open image layer of that name (``open_image(name)`` -> HostImage
    or None), else from the image's file, opened lazily.
    """
    examples, problems = [], []
    for ref in project.images:
        if ref.id in skip:
            continue
        regions = project.reviewed(ref.id)
        if regions is None or not regions.any():
            continue
        labels = project.labels(ref.id)
        if labels is None:
            problems.append(f"{ref.name}: reviewed, but its labels were not saved")
            continue
        try:
            example = _example_from_ref(project, ref, labels, regions, open_image,
                                        dict(percentiles=percentiles, spatial_dims=spatial_dims))
        except UserError as error:
            problems.append(str(error))
            continue
        if example is not None:
            examples.append(example)
    return examples, problems


def _example_from_ref(project, ref, labels, regions, open_image, options: dict):
    image = open_image(ref.name)
    if image is not None and image.axes == ref.axes:
        return image_example(image.data, image.axes, labels, regions, name=ref.name, **options)
    path = project.resolve_image_path(ref.id) if ref.path else None
    if path is None or not Path(path).exists():
        where = f"its file {path} is missing" if path else "it is not open and has no file"
        raise UserError(f"{ref.name}: {where}, so its corrections are left out")
    from unet_studio.app.io import open_stack

    try:
        stack = open_stack(path)
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read it ({error}), so its corrections are left out") from None
    with stack:
        if stack.axes != ref.axes:
            raise UserError(f"{path}: opens with axes {stack.axes}, the project has {ref.axes}; "
                            "its corrections are left out")
        return image_example(stack.data, stack.axes, labels, regions, name=ref.name, **options)
