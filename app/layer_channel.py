"""Which channel of its file an image layer is, so that a round reading the image back from
the file takes the channel the layer showed (Qt-free).

Our reader, and napari's ``channel_axis``, open each channel of a multichannel file as a
layer of its own: the layer has no C axis, and the project records it by the file's path
and the layer's axes. Read back from the file later (the layer closed), the image has a C
axis, and without knowing which channel the layer was, a round took the first. So, while
the layer is open, the channel is noted in the project (the image's selection ``C``),
found by comparing a few of the layer's pixels with each channel of the file: napari's
layers carry no channel index, and names can be changed or reordered by the user.
"""

from __future__ import annotations

import numpy as np

from unet_studio.app.errors import UserError

PROBE = 64  # pixels along Y and X of the window compared first (a cheap read)


def is_channel_of(file_axes: str, image_axes: str) -> bool:
    """Whether an image of ``image_axes`` (no C axis) can be one channel of a file that
    opens with ``file_axes``: the file's axes but its C."""
    return "C" in file_axes and "C" not in image_axes and file_axes.replace("C", "") == image_axes


def file_channel(image, path, series: int = 0) -> int | None:
    """The channel of the file ``path`` (its image ``series``, from 0, for a multi-series
    file) whose pixels the image (a HostImage with no C axis) holds; None when it is no channel of that file, or when which one is not certain (two
    channels equal where compared). Reads only a small window and a plane of each channel."""
    from unet_studio.app.io import open_stack

    try:
        with open_stack(path, series=series) as stack:
            axes, shape = stack.axes, tuple(stack.shape)
            if not is_channel_of(axes, image.axes):
                return None
            c_axis = axes.index("C")
            if shape[:c_axis] + shape[c_axis + 1:] != tuple(image.shape):
                return None
            if shape[c_axis] == 1:
                return 0
            return _matching_channel(image.data, stack.data, c_axis, shape[c_axis])
    except (OSError, ValueError, UserError):  # (a file that cannot be read: not known)
        return None


def _matching_channel(layer, file_data, c_axis: int, channels: int) -> int | None:
    for probe in _probes(tuple(layer.shape)):
        want = np.asarray(layer[probe])
        found = [channel for channel in range(channels)
                 if np.array_equal(np.asarray(file_data[(*probe[:c_axis], channel,
                                                         *probe[c_axis:])]), want)]
        if len(found) == 1:
            return found[0]
        if not found:  # (other pixels: not this file's channel)
            return None
    return None


def _probes(shape: tuple[int, ...]) -> list[tuple]:
    """Where to compare: a central window of the middle plane, then that whole plane (the
    middle index on every axis but the last two)."""
    lead = tuple(n // 2 for n in shape[:-2])
    window = tuple(slice(max(0, n // 2 - PROBE // 2), n // 2 + PROBE // 2) for n in shape[-2:])
    return [(*lead, *window), (*lead, *(slice(None) for _ in shape[-2:]))]


def note_file_channel(project, image_id: str, image) -> None:
    """Record in ``project`` which channel of its file the open image layer ``image`` (the
    project image ``image_id``) is, once, when it is a channel layer of that file and the
    channel is certain (see :func:`file_channel`)."""
    ref = project.image(image_id)
    if not ref.path or "C" in ref.axes or "C" in ref.selection or "C" in image.axes:
        return
    channel = file_channel(image, project.resolve_image_path(image_id), ref.series)
    if channel is not None:
        project.set_selection(image_id, C=channel)


def unknown_channel(name: str, path, channels: int) -> str:
    """Why a channel layer's corrections cannot be read back from its file."""
    return (f"{name}: one channel of {path} ({channels} channels), and which one is not "
            "known, so its corrections are left out: open that channel's layer and train "
            "again, so that the round learns from the channel it was segmented on")
