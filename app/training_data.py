"""What a fine-tuning round learns from: the reviewed corrections of the current image and of
the project's other images (Qt-free).

Collected in two steps. On the GUI thread, at the click: which images, labels and reviewed
marks a round learns from, checked (:class:`PendingExample`; nothing is read). In the round's
worker thread: the reviewed box is found and its labels and masks copied, then the pixels of
that box and the whole image's intensity percentiles are read (:meth:`PendingExample.iter_read`),
which for a big stack means decoding many planes. Only the box is read, so a stack larger
than RAM with a few corrected slices costs those slices; the percentiles are those of the
whole image because prediction normalises the whole image.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from unet_studio.app.errors import UserError

CONTEXT = 32  # pixels of context kept around the reviewed box (patches reach past it)


def context_margins(ndim: int, spatial_dims: int) -> tuple[int, ...]:
    """``CONTEXT`` on the network's own axes (the last ``spatial_dims``), none on the others:
    a 2D network learns a Z stack or time series slice by slice, so neighbouring slices are
    not context, only pixels to read."""
    return tuple(0 if axis < ndim - spatial_dims else CONTEXT for axis in range(ndim))


def model_spatial_dims(model_info) -> int:
    return int((getattr(model_info, "architecture_config", None) or {}).get("spatial_dims", 2))


def model_in_channels(model_info) -> int:
    return int((getattr(model_info, "architecture_config", None) or {}).get("in_channels", 1))


def channel_to_learn(axes: str, shape, recorded: int | str | None, in_channels: int, *,
                     name: str = "the image", model_name: str = "the model") -> int | slice | str | None:
    """What a round takes along the C axis of an image (``axes``/``shape``): what prediction
    fed the model (``model_channels.channel_index``). An int: that channel (``recorded``, the
    one it was segmented on, else the first) for a 1-channel model; "luminance" (recorded
    so, or nothing recorded on a colour image: the Segment panel's default there): the grey
    values of an RGB(A) image's colours; ``slice(0, 3)``: the RGB of an RGBA image for a
    3-channel model; None: all channels (or no C axis).
    UserError naming the image when the model cannot take its channels."""
    from unet_studio.app.model_channels import LUMINANCE, channel_index, offers_luminance

    if "C" not in axes:
        return None
    if recorded is None and offers_luminance(axes, tuple(shape), in_channels):
        recorded = LUMINANCE
    pick = channel_index(axes, tuple(shape), recorded, in_channels, name, model_name)
    return None if pick == slice(None) else pick


def training_image(host, image, in_channels: int, model_name: str = "the model"):
    """``image`` (a HostImage, or None) as a round reads it: for a model taking several
    channels, the channel layers opened from its file stacked along a last C axis, as the
    Segment panel stacks them (``model_channels.channel_layers_image``); else ``image``."""
    from unet_studio.app.model_channels import channel_layers_image

    if image is None:
        return None
    return channel_layers_image(host, image, image.axes, in_channels, None, model_name)[0]


def channel_pixels(pixels, channel_axis: int, channel: int | slice | str, name: str):
    """``(pixels, channel_axis)`` a round reads: the ``channel`` (see ``channel_to_learn``)
    of ``pixels``, lazily; ``channel_axis`` None once the axis is gone (one channel)."""
    from unet_studio.app.model_channels import LUMINANCE, luminance_view

    if channel == LUMINANCE:  # (the very values prediction fed the model)
        return luminance_view(pixels, channel_axis, name), None
    view = ChannelView(pixels, channel_axis, channel)
    return view, channel_axis if isinstance(channel, slice) else None


class ChannelView:
    """Channels of an array-like, read lazily: indexing reads only those. ``channel``: an
    int (that channel; the axis goes away) or a slice (those channels; the axis stays)."""

    def __init__(self, array, axis: int, channel: int | slice):
        self.array, self.axis, self.channel = array, axis, channel
        sizes = list(array.shape)
        if isinstance(channel, slice):
            sizes[axis] = len(range(*channel.indices(sizes[axis])))
        else:
            del sizes[axis]
        self.shape = tuple(sizes)
        self.ndim, self.dtype = len(self.shape), array.dtype

    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        if isinstance(self.channel, slice):  # (a key on the kept axis picks among those)
            picked = range(self.array.shape[self.axis])[self.channel][key[self.axis]]
            if isinstance(picked, range):
                picked = slice(picked.start, picked.stop if picked.stop >= 0 else None, picked.step)
            return self.array[(*key[: self.axis], picked, *key[self.axis + 1:])]
        return self.array[(*key[: self.axis], self.channel, *key[self.axis:])]

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self[(slice(None),) * self.ndim], dtype=dtype)


def model_percentiles(model_info) -> tuple[float, float]:
    """The intensity percentiles the model normalises with (its task, else the defaults)."""
    from unet_studio.models.task import TaskSpec

    task = TaskSpec.from_dict(dict(getattr(model_info, "task", None) or {}))
    return task.lower_percentile, task.upper_percentile


@dataclass(eq=False)
class PendingExample:
    """An image's reviewed part, still to be cut out and read.

    ``labels`` and ``regions`` (ReviewedRegions: ``mask``, ``changed``) are the whole
    image's live arrays; ``margins``: context kept around the reviewed box, per axis.
    ``open_pixels()``: a context manager giving the whole image as an array-like (axes as
    the labels, plus ``channel_axis``), opened when :meth:`read` runs.

    Nothing is read at the click: finding the reviewed box reads the whole mask (seconds
    for a big stack), so :meth:`cut` (the box, and copies of its labels and masks) and
    :meth:`read` run in the round's worker thread. The copies are taken there, when the
    round starts, so edits made while it trains are not half seen.
    """

    name: str
    live_labels: np.ndarray
    regions: object
    margins: tuple[int, ...]
    channel_axis: int | None
    percentiles: tuple[float, float]
    open_pixels: Callable[[], contextlib.AbstractContextManager]
    # learn from this channel (int), these channels (slice) or the luminance of the colours
    # ("luminance") of ``channel_axis`` only
    channel: int | slice | str | None = None
    # The image's range at ``percentiles`` when already known (a SourceIntensity: taken by a
    # Segment run or a round on the same pixels, ``train_intensity``): no pass then.
    intensity: object = None
    pixels_key: object = None  # which pixels those are (``segment_intensity.PixelsKey``)
    labels_name: str | None = None  # the labels layer's name, for messages (None: not known)
    axes: str = ""  # the labels' axis letters ("TYX"), so messages name a pixel by them
    _copies: tuple | None = field(default=None, init=False, repr=False)

    def cut(self) -> tuple:
        """(box, labels, reviewed, changed): the reviewed box grown by ``margins`` and copies
        of what lies in it (taken once). UserError when nothing is reviewed any more, or when
        the labels there hold ids that cannot be learnt (negative ones)."""
        from unet_studio.models.training.examples import reviewed_box

        if self._copies is None:
            box = reviewed_box(self.regions.mask, self.margins)
            if box is None:
                raise UserError(f"{self.name}: nothing is reviewed any more")
            labels = np.array(self.live_labels[box])
            self._check_ids(labels)
            self._copies = (box, labels, np.array(self.regions.mask[box]),
                            np.array(self.regions.changed[box]))  # fmt: skip
        return self._copies

    def _check_ids(self, labels: np.ndarray) -> None:
        """UserError naming the labels and the image when ``labels`` (the box's) hold ids
        that are neither background nor an object: the engine stopped on them deep inside
        the round ("ValueError: label images must not contain negative ids")."""
        from unet_studio.app.measure_inputs import LabelIdError, check_ids

        try:
            check_ids(labels)
        except LabelIdError as error:
            whose = (f"{self.labels_name!r}, the labels of {self.name!r},"
                     if self.labels_name else f"the labels of {self.name!r}")
            raise UserError(f"Cannot train: {whose} {error.problem} (in its reviewed part). "
                            "Paint those pixels with 0 (background) or an object's id, then "
                            "Train again.") from None

    box = property(lambda self: self.cut()[0])
    labels = property(lambda self: self.cut()[1])
    reviewed = property(lambda self: self.cut()[2])
    changed = property(lambda self: self.cut()[3])

    def read(self):
        """The TrainingExample (reads the box's pixels and the image's percentiles)."""
        reading = self.iter_read()
        while True:
            try:
                next(reading)
            except StopIteration as stop:
                return stop.value

    def iter_read(self):
        """:meth:`read` step by step: yields a ``CensusProgress`` after every block of the
        pass over the image's pixels (its intensity percentiles), so that the panel shows
        it move and Cancel stops it between blocks; returns the TrainingExample."""
        from unet_studio.models.training.examples import iter_example_from_box

        box, labels, reviewed, changed = self.cut()
        lower, upper = self.percentiles
        with self.open_pixels() as pixels:
            channel_axis = self.channel_axis
            if channel_axis is not None and self.channel is not None:
                pixels, channel_axis = channel_pixels(pixels, channel_axis, self.channel, self.name)
            return (yield from iter_example_from_box(
                pixels, box, labels, reviewed, changed, channel_axis=channel_axis,
                name=self.name, lower=lower, upper=upper, intensity=self.intensity,
                axes=self.axes))


def pending_example(pixels, axes: str, labels, regions, *, name: str,
                    percentiles: tuple[float, float], spatial_dims: int = 2,
                    channel: int | slice | str | None = None,
                    open_pixels: Callable | None = None,
                    labels_name: str | None = None) -> PendingExample | None:
    """One image's reviewed part, None when nothing is reviewed.

    ``pixels``: array-like with one axis per letter of ``axes`` (only its shape is used
    here); ``labels`` and ``regions`` (ReviewedRegions): the shape of ``pixels`` without its
    channel axis; ``spatial_dims``: the network's (context is kept on those axes only);
    ``channel``: learn from this channel (or slice of channels) only (see ``channel_to_learn``); ``open_pixels``:
    how :meth:`PendingExample.read` gets the pixels (default: ``pixels``); ``labels_name``:
    the labels layer's name, for messages.
    """
    if regions is None or not regions.any():
        return None
    spatial = tuple(n for a, n in zip(axes, pixels.shape) if a != "C")
    if spatial != tuple(labels.shape):
        raise UserError(f"{name}: the labels ({tuple(labels.shape)}) do not match the image "
                        f"({tuple(pixels.shape)}, axes {axes})")
    if labels.ndim < spatial_dims:  # (the engine would fail deep inside, with an IndexError)
        raise UserError(f"{name}: a {spatial_dims}D model cannot learn from this {labels.ndim}D "
                        f"image; fine-tune a {labels.ndim}D model on it")
    return PendingExample(
        name=name, live_labels=labels, regions=regions,
        margins=context_margins(labels.ndim, spatial_dims),
        channel_axis=axes.index("C") if "C" in axes else None, percentiles=percentiles,
        open_pixels=open_pixels or (lambda: contextlib.nullcontext(pixels)),
        channel=channel if "C" in axes else None, labels_name=labels_name,
        axes=axes.replace("C", "") if len(axes) == len(pixels.shape) else "",
    )


def project_examples(project, *, skip: set[str], open_image: Callable[[str], object | None],
                     percentiles: tuple[float, float], spatial_dims: int = 2,
                     in_channels: int = 1, host=None,
                     model_name: str = "the model") -> tuple[list, list[str]]:
    """PendingExamples of the project's images with reviewed regions, other than the ids in
    ``skip``, and one line per image that cannot be used (and why).

    Pixels come from the open image layer of that name (``open_image(name)`` -> HostImage
    or None; with ``host``, its file's channel layers stacked for a model taking several,
    see ``training_image``), else from the image's file (its metadata checked now, read
    lazily later). A file is read as the image of it the project recorded (its selection's
    ``series``: one of a multi-series file), the one its labels were made on.
    """
    from unet_studio.app.layer_channel import note_file_channel

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
        options = dict(name=ref.name, percentiles=percentiles, spatial_dims=spatial_dims)
        recorded = ref.selection.get("C")
        try:
            image = open_image(ref.name)
            if image is not None and image.axes == ref.axes:  # (a channel layer: its channel)
                note_file_channel(project, ref.id, image)
            if host is not None:
                image = training_image(host, image, in_channels, model_name)
            if image is not None and image.axes in (ref.axes, ref.axes + "C"):
                channel = channel_to_learn(image.axes, image.shape, recorded, in_channels,
                                           name=ref.name, model_name=model_name)
                example = pending_example(image.data, image.axes, labels, regions,
                                          channel=channel, **options)  # fmt: skip
            else:
                example = _pending_from_file(project, ref, labels, regions,
                                             dict(options, in_channels=in_channels))  # fmt: skip
        except UserError as error:
            problems.append(str(error))
            continue
        examples.append(example)
    return examples, problems


def _pending_from_file(project, ref, labels, regions, options: dict) -> PendingExample:
    """From the image's file: opened now to check it (metadata only), again when read. An
    image that was one channel layer of the file (no C axis, the file has one) is read as
    the channel noted for it (``layer_channel``); refused when that is not known."""
    from unet_studio.app.io import open_stack
    from unet_studio.app.layer_channel import is_channel_of, unknown_channel
    from unet_studio.app.model_channels import picks_one_channel
    from unet_studio.app.project_images import SERIES_KEY

    path = project.resolve_image_path(ref.id) if ref.path else None
    series = ref.selection.get(SERIES_KEY, 0)  # (the image of a multi-series file it is)
    if path is None or not Path(path).exists():
        where = f"its file {path} is missing" if path else "it is not open and has no file"
        raise UserError(f"{ref.name}: {where}, so its corrections are left out")
    try:
        with open_stack(path, series=series) as stack:
            axes, shape = stack.axes, stack.shape
    except (OSError, ValueError) as error:
        raise UserError(f"{path}: cannot read it ({error}), so its corrections are left out") from None
    channel_layer = is_channel_of(axes, ref.axes)  # (one channel of the file was the image)
    if axes != ref.axes and not channel_layer:
        raise UserError(f"{path}: opens with axes {axes}, the project has {ref.axes}; "
                        "its corrections are left out")
    in_channels, recorded = options.pop("in_channels"), ref.selection.get("C")
    if channel_layer and recorded is None and picks_one_channel(axes, shape, in_channels):
        raise UserError(unknown_channel(ref.name, path, shape[axes.index("C")]))

    @contextlib.contextmanager
    def open_pixels():
        with open_stack(path, series=series) as stack:
            yield stack.data

    channel = channel_to_learn(axes, shape, recorded, in_channels, name=ref.name)
    return pending_example(_Shape(shape), axes, labels, regions, open_pixels=open_pixels,
                           channel=channel, **options)  # fmt: skip


@dataclass(frozen=True)
class _Shape:
    """Stands for an image that is not open: only its shape is needed to plan the box."""

    shape: tuple[int, ...]
