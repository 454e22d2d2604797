"""The Segment panel's intensity range: taken once per run in the worker thread, told to the
user, and kept for the next run on the same pixels.

``iter_predict_image`` normalises by the exact percentiles of the whole stack: a pass over
every pixel (~1.8 s per GiB), which also finds what the user should know (NaN or infinite
pixels, an image of one value). The panel's worker takes that range before the engine runs,
so that a stack without a finite pixel is refused with one message naming the image (not a
traceback), hands it to the engine (``intensity=``), and yields an :class:`IntensityFound`
for the GUI thread to tell the findings in a notification and keep the range.

The pass yields progress block by block (the bar moves, the status says what it is doing)
and a cancel stops it between two blocks: a range is kept only once its pass is complete.

A second run on the same pixels reuses the range. Its key: the image array object itself,
weakly referenced (a layer whose data is replaced holds another object; a freed array's
``id`` reused by a new one cannot be mistaken for it), its shape and dtype, the pick along C
(a channel, luminance) and the model's percentiles. A run on the plane shown takes the range
of the whole image (one pass, shared with whole-image runs and Train rounds): the plane is
normalised as the model saw it in training and as a run over the stack would. Channel layers
stacked for a model taking several channels (``model_channels.ChannelLayers``, made anew
for every run) are keyed by their layers' arrays, in order: the same layers, same range. Contrast limits and colormaps
play no part. Pixels changed in place inside the same array object are not noticed: napari
offers no in-place editing of image layers, and a tool that writes into an image's array
must replace the layer's data (or refresh it) for a viewer to show it anyway.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from unet_studio.app.errors import UserError
from unet_studio.app.model_channels import ChannelLayers

CACHED_IMAGES = 4  # ranges kept: a few images open side by side, a float per channel each


@dataclass(frozen=True, eq=False)
class PixelsKey:
    """Which pixels a range was taken over: ``arrays`` (weak references to the image's array
    object, or to each of the stacked channel layers' arrays, in order), the shape and
    dtype, and ``selection`` (the axes and the index taken from it: channel, plane)."""

    arrays: tuple[weakref.ref, ...]
    shape: tuple[int, ...]
    dtype: str
    selection: tuple

    def alive(self) -> bool:
        return all(ref() is not None for ref in self.arrays)

    def same_pixels(self, other: PixelsKey | None) -> bool:
        # (``is`` on the live referents: weakref equality would compare arrays elementwise)
        if other is None or len(self.arrays) != len(other.arrays) or not self.alive():
            return False
        same = all(mine() is theirs() for mine, theirs in zip(self.arrays, other.arrays))
        return (same and self.shape == other.shape and self.dtype == other.dtype
                and self.selection == other.selection)


def pixels_key(data, axes: str, index: tuple) -> PixelsKey | None:
    """The key of ``data[index]`` (``data``: the image's whole array with ``axes``, or the
    ChannelLayers stacking a file's channel layers); None when an array type cannot be
    weakly referenced (then nothing is cached)."""
    sources = data.arrays if isinstance(data, ChannelLayers) else [data]
    try:
        arrays = tuple(weakref.ref(source) for source in sources)
    except TypeError:
        return None
    selection = (axes, tuple(_hashable(i) for i in index))
    return PixelsKey(arrays, tuple(np.shape(data)), str(getattr(data, "dtype", "")), selection)


def _hashable(item):
    # (slices are hashable only from Python 3.12; "luminance" on C stays itself)
    if isinstance(item, slice):
        return item.start, item.stop, item.step
    return item if isinstance(item, str) else int(item)


@dataclass(frozen=True)
class IntensityFound:
    """What the worker yields once it has the run's range (not a progress step): for the GUI
    thread to tell ``findings`` about ``image_name`` and keep ``intensity``."""

    image_name: str
    key: PixelsKey | None
    percentiles: tuple[float, float]
    intensity: object  # models.normalize.IntensityRange
    findings: tuple[str, ...]

    def messages(self) -> list[str]:
        return [f"{self.image_name}: {finding}" for finding in self.findings]


def task_percentiles(task) -> tuple[float, float]:
    return float(task.lower_percentile), float(task.upper_percentile)


def iter_find_intensity(job, task, known: dict, block_pixels: int | None = None):
    """The range of ``job``'s pixels at ``task``'s percentiles (returns an IntensityFound):
    from ``known`` (percentiles -> IntensityRange of the same pixels, from an earlier run) or
    one pass over them, which yields an "intensity" ImageProgress after every block of
    ``block_pixels`` pixels (None: the engine's default), so that the panel's bar moves and
    Cancel stops the pass between two blocks (seconds per GiB). Worker thread. UserError
    naming the image when no pixel is finite."""
    from unet_studio.models.normalize import intensity_findings
    from unet_studio.models.pipeline import iter_image_intensity

    percentiles = task_percentiles(task)
    intensity = known.get(percentiles)
    if intensity is None:
        blocks = {} if block_pixels is None else {"block_pixels": block_pixels}
        try:
            intensity = yield from iter_image_intensity(*_range_pixels(job), task, **blocks)
        except ValueError as error:  # (no finite pixel: nothing to normalise by)
            raise UserError(f"Prediction refused: {job.image_name} {error}") from None
    return IntensityFound(job.image_name, job.pixels, percentiles, intensity,
                          tuple(intensity_findings(intensity)))


def _range_pixels(job) -> tuple:
    """The pixels ``job``'s range is taken over, with their axes: the whole image (a run on
    one plane too, see ``SegmentJob.pixels``)."""
    if job.range_data is None:
        return job.data, job.axes
    return job.range_data, job.range_axes


class IntensityCache:
    """The ranges of the last few runs' pixels (GUI thread only)."""

    def __init__(self, size: int = CACHED_IMAGES):
        self.size = size
        self._found: list[IntensityFound] = []

    def known(self, key: PixelsKey | None) -> dict:
        """percentiles -> IntensityRange taken over the pixels ``key`` names."""
        self._forget_freed()
        return {found.percentiles: found.intensity for found in self._found
                if key is not None and key.same_pixels(found.key)}

    def keep(self, found: IntensityFound) -> None:
        if found.key is None:
            return
        self._found = [old for old in self._found
                       if not (old.key.same_pixels(found.key) and old.percentiles == found.percentiles)]
        self._found.insert(0, found)
        del self._found[self.size:]

    def _forget_freed(self) -> None:
        # A closed image's array is gone: its range can never match again.
        self._found = [found for found in self._found if found.key.alive()]
