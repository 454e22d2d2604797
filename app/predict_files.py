"""Predicting files to files (what ``unet-studio predict`` does), Qt-free.

Inputs are opened lazily with ``app.io.open_stack`` and results streamed with
``app.io.open_output``, so a stack larger than RAM runs in bounded memory (labels keep two
bits per pixel of one time point until its watershed). Every problem with an input becomes
an ``InputFileError`` naming it, and no output file is left behind.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from unet_studio.app.class_map import model_classes
from unet_studio.app.distinct_ids import count_ids
from unet_studio.app.errors import InputFileError, UserError
from unet_studio.models.object_confidence import ObjectConfidence
from unet_studio.models.scratch import DiskSpaceError

log = logging.getLogger(__name__)

# What each output streams as (instance labels: ids of a big stack may pass 65535); a
# semantic model's labels, a class map, take the smallest type of its classes instead
# (``class_map_dtype``).
OUTPUT_DTYPES = {"labels": np.int32, "mask": np.uint8, "probabilities": np.float32}


def class_map_dtype(classes: int) -> np.dtype:
    """The smallest unsigned type holding the values 0..``classes``-1 of a class map: uint8
    up to 256 classes (4 bytes a pixel as int32 made a 1.5 GiB input's map 3.2 GB), else
    uint16 (else uint32)."""
    return np.dtype(np.min_scalar_type(max(1, classes) - 1))


def output_dtype(output_type: str, classes) -> np.dtype:
    """What ``predict_one`` streams and writes for ``output_type``; ``classes``: a class
    map's class values (a semantic model's labels), else empty or None."""
    if output_type == "labels" and classes:
        return class_map_dtype(len(classes))
    return np.dtype(OUTPUT_DTYPES[output_type])


def open_inputs(inputs: list[str], axes: str | None, channel: str | None, *, series: int = 0) -> list:
    """Open every input (no pixels read) before any work, so a bad one stops the run early.
    ``series``: the image of a multi-series TIFF or bioformats2raw OME-Zarr (0: the first;
    other inputs ignore it)."""
    from unet_studio.app.io import open_stack

    stacks = []
    try:
        for spec in inputs:
            stack = open_stack(spec, axes=axes, series=series)
            stacks.append(stack)
            stacks[-1] = select_channel(stack, channel)
    except BaseException:
        for stack in stacks:
            stack.close()
        raise
    return stacks


def select_channel(stack, channel: str | None):
    """``stack`` with the channel ``--channel`` names (an index or "luminance"; None: all),
    lazily; InputFileError naming the file when it has no such channel."""
    if channel is None:
        return stack
    from unet_studio.app.io.select import LUMINANCE, select

    if channel.lower() == LUMINANCE:
        return select(stack, channel=LUMINANCE)
    try:
        index = int(channel)
    except ValueError:
        raise UserError(f"--channel must be an index or {LUMINANCE!r}, got {channel!r}") from None
    if index < 0:
        # Refused, not read as Python's "from the end": in a batch of files with different
        # channel counts, -1 would be a different stain in each.
        raise UserError(f"--channel counts from 0 (the first channel), got {index}")
    if "C" not in stack.axes:
        if index == 0:  # (its one channel: a batch may mix one- and many-channel images)
            return stack
        raise InputFileError(stack.path, f"has one channel only (axes {stack.axes}); "
                                         "drop --channel or use 0")
    count = stack.sizes["C"]
    if index >= count:
        raise UserError(f"--channel {index}: {stack.path} has {count} channels (0-{count - 1})")
    return select(stack, channel=index)


def fit_channels(net, stack):
    """The RGB of an RGBA ``stack`` for a model taking 3 channels (alpha is no stain: what
    the Segment panel gives such a model too); ``stack`` itself otherwise."""
    return fit_channels_to(int(net.in_channels), stack)


def fit_channels_to(in_channels: int, stack):
    """``fit_channels`` for a model taking ``in_channels`` (fine-tuning: the same channels)."""
    if in_channels == 3 and stack.sizes.get("C") == 4:
        from unet_studio.app.io.select import select

        return select(stack, channel=(0, 1, 2))
    return stack


def plan_stack(net, stack):
    """The engine's layout for ``stack`` (after ``fit_channels``) under ``net``;
    InputFileError when they do not fit."""
    from unet_studio.models.views import StackLayout

    stack = fit_channels(net, stack)
    try:
        return StackLayout.from_axes(stack.shape, stack.axes, net, net.task)
    except ValueError as error:
        channels = stack.sizes.get("C", 1)
        hint = ""
        if "channel" in str(error) and int(net.in_channels) == 1 < channels:
            # (--channel picks one: no help when the model takes more than one)
            rgb = " (or --channel luminance for RGB)" if channels in (3, 4) else ""
            hint = f"; choose one with --channel INDEX{rgb}"
        raise InputFileError(stack.path, f"{error}{hint}") from None


def objects_found(per_group: list[int], tracks: int | None = None) -> str:
    """": 76 objects" (one image or stack), ": 730 objects in 10 time points", or "" when no
    instance labels were made (what the CLI and the Segment panel say when done). ``tracks``:
    the distinct ids of a time series linked over time, said after its summed count
    (": 885 objects in 5 time points, 267 tracks"): the sum alone reads as 885 cells."""
    if not per_group:
        return ""
    total = sum(per_group)
    text = f": {total} object{'s' * (total != 1)}"
    if len(per_group) > 1:
        text += f" in {len(per_group)} time points"
        if tracks is not None:
            text += f", {tracks} track{'s' * (tracks != 1)}"
    return text


def classes_found(found: FoundObjects, names) -> str:
    """": background 71%, mitochondria 9%, membrane 20%" for the class map ``found`` (classes
    ``names``), "" for any other output (what the CLI says when done, in place of objects)."""
    from unet_studio.app.class_shares import class_shares_text

    if not found.class_counts:
        return ""
    return f": {class_shares_text(found.class_counts, found.class_pixels, names)}"


@dataclass(frozen=True)
class FoundObjects:
    """What ``predict_one`` labelled: the objects of each time point (empty for masks and
    probabilities) and, for a time series linked over time, its distinct ids (tracks);
    ``confidence``: how sure the model was of them (an ObjectConfidence; None but for
    instance labels)."""

    per_group: list[int]
    tracks: int | None = None
    confidence: ObjectConfidence | None = None
    # Labels: the uncompressed bytes written (None: as streamed, 4 a pixel): a class map's
    # (uint8) or, to a .tif, instance labels' uint16 pixels; or wide_labels when their ids
    # did not fit and they stayed int32 (OME-TIFF).
    written_bytes: int | None = None
    wide_labels: bool = False
    # A semantic model's labels (a class map): the pixels of each class, out of class_pixels
    # (said instead of objects: ``class_shares.class_shares_text``); () for the other outputs.
    class_counts: tuple[int, ...] = ()
    class_pixels: int = 0


def predict_one(net, stack, target: Path, options, on_progress=None) -> FoundObjects:
    """Segment ``stack`` into ``target`` (TIFF or Zarr by suffix) with ``net``; returns the
    number of objects of each time point (instance labels; empty for the other outputs) and
    the tracks of a linked time series. Instance labels stream as int32; to a ``.tif`` they
    end as a uint16 ImageJ hyperstack when their ids fit (``_write_imagej_labels``). A
    semantic model's labels (a class map) stream and stay as ``class_map_dtype`` (uint8).

    ``options``: ``output_type``, ``tile``, ``device``, ``tta`` and optionally
    ``postprocess`` (a dict of post-processing options; the CLI's arguments).
    ``on_progress(done, total, stage)`` is called after every tile ("predict") and every
    batch of objects labelled ("labelling": ``done`` grows by fractions of one step).
    """
    from dataclasses import replace

    from unet_studio.app.class_shares import count_classes
    from unet_studio.app.io import open_output
    from unet_studio.app.io.canonical import canonical_axes
    from unet_studio.app.io.write import output_format
    from unet_studio.models.pipeline import output_axes

    stack = fit_channels(net, stack)
    layout = plan_stack(net, stack)
    intensity = stack_intensity(net, stack)  # (before the output: a refusal leaves none)
    output_type = options.output_type
    axes = output_axes(layout, output_type)
    channels = (int(net.out_channels),) if output_type == "probabilities" else ()
    names = probability_names(net) if output_type == "probabilities" else None
    # A semantic model's labels are a class map: its class names go into the file
    # (``write_stack``), so that it opens as one again (colours, names) and says what it is.
    classes = (list(model_classes(net)) or None) if output_type == "labels" else None
    dtype = output_dtype(output_type, classes)
    shape = dict(zip(axes, (*channels, *layout.output_shape())))
    # The file in the canonical TZCYX order, as files are read (probabilities' classes then
    # sit where ImageJ keeps channels); the engine writes through a transposed view of it.
    file_axes = canonical_axes(axes)
    scale = {a: float(stack.scale.get(a, 1.0)) for a in axes if a != "C"}
    units = {a: u for a, u in stack.units.items() if a in axes}
    try:
        with open_output(target, tuple(shape[a] for a in file_axes), dtype, axes=file_axes,
                         scale=scale, units=units, source=stack.path, kind=output_type,
                         channel_names=names, class_names=classes) as out:
            found = _predict_into(out.transpose([file_axes.index(a) for a in axes]), axes, net,
                                  stack, options, intensity, on_progress)
            if classes:  # (one more pass over the class map, written as streamed)
                found = replace(found, class_counts=count_classes(out, len(classes)),
                                class_pixels=int(out.size), written_bytes=int(out.nbytes))
            elif output_type == "labels" and output_format(target) == "tiff":
                found = _write_imagej_labels(out, target, file_axes, scale, units, found,
                                             classes)
    except _StreamReplaced as replaced:
        return replaced.found
    return found


def probability_names(net) -> list[str] | None:
    """The classes of ``net``'s probability channels, as its task names them (written into
    the file, so that other readers label the channels); None where the task names another
    number of classes than the net puts out (a hand-edited config: unnamed, not misnamed)."""
    names = getattr(getattr(net, "task", None), "class_names", None) or ()
    return [str(name) for name in names] if len(names) == int(net.out_channels) else None


def _predict_into(out, axes: str, net, stack, options, intensity, on_progress) -> FoundObjects:
    """Run the engine over ``stack`` into ``out`` (named by ``axes``): what it found."""
    from unet_studio.models.pipeline import iter_predict_image

    generator = iter_predict_image(
        net, stack.data, axes=stack.axes, task=net.task, output_type=options.output_type,
        tile_shape=options.tile, device=options.device, tta=options.tta, out=out,
        scale=stack.scale if stack.spatial_scale_known else None,  # (T plays no part)
        postprocess=getattr(options, "postprocess", None), intensity=intensity,
        chunks=input_chunks(stack.data))
    per_group, confidence = _run(generator, on_progress, stack.path)
    tracks = count_ids(out, axes) if _linked(net, options, axes, per_group) else None
    return FoundObjects(per_group, tracks, confidence)


class _StreamReplaced(Exception):  # noqa: N818 (not an error: the way out of open_output)
    """Raised inside ``open_output`` once the labels it streamed were written to the target
    as uint16: leaving its block by an exception makes it drop its int32 temporary instead
    of committing it over them (the target never holds the int32 file, even for a moment)."""

    def __init__(self, found: FoundObjects):
        super().__init__("labels written as uint16")
        self.found = found


def _write_imagej_labels(out, target: Path, axes: str, scale: dict, units: dict,
                         found: FoundObjects, class_names: list[str] | None = None) -> FoundObjects:
    """Write the streamed int32 labels ``out`` (named by ``axes``) to the .tif ``target`` as
    a uint16 ImageJ hyperstack, as the GUI's labels writer does (Fiji's File > Open reads
    every TIFF with ImageJ's own reader, which ignores OME-XML: a TYX OME-TIFF opens as Z
    slices, without its frame interval), and raise ``_StreamReplaced``. Ids above 65535
    cannot be uint16: ``found`` is returned with ``wide_labels`` and ``open_output`` keeps
    its int32 OME-TIFF. Their largest id is known only now: one more pass over ``out``."""
    from dataclasses import replace

    from unet_studio.app.io.output import stays_uncompressed
    from unet_studio.app.io.tiff_write import write_uint16_labels
    from unet_studio.app.io.write import resolve_scale, value_range

    if value_range(out)[1] > np.iinfo(np.uint16).max:
        return replace(found, wide_labels=True)
    nbytes = int(out.size) * np.dtype(np.uint16).itemsize
    scale, units = resolve_scale(axes, scale, units, None)  # (as open_output resolved them)
    write_uint16_labels(target, out, axes=axes, scale=scale, units=units,
                        compress=not stays_uncompressed(target, nbytes), class_names=class_names)
    raise _StreamReplaced(replace(found, written_bytes=nbytes))


def _linked(net, options, axes: str, per_group: list[int]) -> bool:
    """Whether the labels of several time points were linked (ids kept over time): their
    distinct ids are then tracks; numbered 1..N per time point, they mean nothing."""
    from unet_studio.models.pipeline import postprocess_options

    if "T" not in axes or len(per_group) < 2:
        return False
    settings = postprocess_options(net.task, getattr(options, "postprocess", None))
    return bool(settings.get("link_over_time", True))


def input_chunks(data):
    """How the pixels of ``data`` (a stack's, or a layer's) are stored, for a tile order
    that decodes each chunk about once (an OME-Zarr in 16-plane chunks;
    ``models.chunk_order``); None for other inputs."""
    grid = getattr(data, "chunk_grid", None)
    return grid() if callable(grid) else None


def stack_intensity(net, stack):
    """The normalisation range of the whole stack (one pass over its pixels), after warning
    about what the user should know, naming the file: NaN/inf pixels and what they were
    taken as, or an image of one value. InputFileError when no pixel is finite."""
    from unet_studio.models.normalize import intensity_findings
    from unet_studio.models.pipeline import image_intensity

    try:
        intensity = image_intensity(stack.data, stack.axes, net.task)
    except ValueError as error:
        raise InputFileError(stack.path, str(error)) from None
    for finding in intensity_findings(intensity):
        log.warning("%s: %s", stack.path, finding)
    return intensity


def _run(generator, on_progress, path: Path) -> tuple[list[int], ObjectConfidence | None]:
    """Drain the engine, turning its ValueErrors (what the input cannot do) into file errors;
    the object counts its labelling steps reported, one per time point, and the run's
    ObjectConfidence (the last step's: the run's totals), None where none came."""
    objects, confidence = [], None
    try:
        while True:
            progress = next(generator)
            if progress.objects is not None:
                objects.append(progress.objects)
            if progress.confidence is not None:  # (the run's so far: the last one counts)
                confidence = progress.confidence
            if on_progress is not None:
                on_progress(progress.done, progress.total, progress.stage)
    except StopIteration:
        return objects, confidence
    except DiskSpaceError as error:  # a working file of the labelling: the disk is full
        raise UserError(f"{path}: {error.strerror}") from None
    except ValueError as error:
        raise InputFileError(path, str(error)) from None
    finally:
        generator.close()
