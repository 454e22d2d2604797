"""The whole prediction pipeline on a stack: normalise, tile, post-process.

An image with axes over "TZCYX" is seen by the network as ``(*outer, C, *spatial)``:
``spatial`` are the network's axes (``task.spatial_axes``, e.g. YX), ``outer`` the rest (T,
and Z for a 2D network run slice by slice). Intensities are normalised with percentiles
computed once over the whole stack. Outputs are computed per group: one time point (or the
whole image without T), so that 3D labels come from one watershed over the whole volume.
"""

from __future__ import annotations

import itertools
from collections.abc import Generator

import numpy as np

from unet_studio.models.chunk_order import ChunkGrid
from unet_studio.models.generators import relay
from unet_studio.models.inference import prepare_plan
from unet_studio.models.mapped import PageReleaser
from unet_studio.models.normalize import (
    IntensityRange,
    intensity_range,
    iter_intensity_range,
    log_intensity_findings,
)
from unet_studio.models.percentiles import BLOCK_PIXELS
from unet_studio.models.postprocess_options import check_postprocess
from unet_studio.models.stack_run import (  # noqa: F401  (ImageProgress, relative_sampling: re-exported)
    ImageProgress,
    StackRun,
    relative_sampling,
)
from unet_studio.models.task import TaskSpec
from unet_studio.models.tile_runner import InferenceSession
from unet_studio.models.views import ModelInputView, StackLayout

OUTPUT_TYPES = ("labels", "mask", "probabilities")
OUTPUT_DTYPES = {"labels": np.int32, "mask": np.uint8, "probabilities": np.float32}


def output_axes(layout: StackLayout, output_type: str) -> str:
    """Axes of the result: the outer then spatial axes, with C in front for probabilities."""
    front = "C" if output_type == "probabilities" else ""
    return front + "".join(layout.outer_axes) + "".join(layout.spatial_axes)


def _check_model(net, task: TaskSpec) -> None:
    if task.kind == "instance" and int(net.out_channels) != 3:
        raise ValueError(f"an instance model needs 3 output channels, this one has {net.out_channels}")
    if task.kind == "semantic" and int(net.out_channels) != task.out_channels:
        raise ValueError(f"the task names {task.out_channels} classes, the network gives {net.out_channels}")


def _allocate(out, shape, dtype):
    if out is None:
        return np.zeros(shape, dtype=dtype)
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"out must have shape {tuple(shape)}, got {tuple(out.shape)}")
    return out


def postprocess_options(task: TaskSpec, overrides: dict | None) -> dict:
    """The model's post-processing defaults (``task.extra["postprocess"]``, saved with the
    model because a good ``min_size`` depends on the data it was trained for) under the
    caller's explicit options (checked: ``check_postprocess``)."""
    return check_postprocess({**dict(task.extra.get("postprocess", {})), **dict(overrides or {})})


def iter_predict_image(net, image, *, axes: str, task: TaskSpec | None = None,
                       output_type: str = "labels", tile_shape=None, device="auto",
                       batch_size=None, amp=True, mode="auto", tta=False, out=None,
                       scale: dict | None = None, postprocess: dict | None = None,
                       first: dict | None = None, provisional: bool = False,
                       intensity: IntensityRange | None = None, chunks: ChunkGrid | None = None,
                       ) -> Generator[ImageProgress, None, object]:
    """Labels ``int32``, mask ``uint8`` or probabilities ``float32`` for a whole stack.

    ``image``: array-like with ``axes`` (a string over "TZCYX"), read lazily tile by tile.
    Result axes: ``output_axes(...)``: the input's without C (T before Z when both are
    there), and for probabilities the class channel first, e.g. ``"CZYX"``. ``scale``: pixel
    size per axis, any unit (for the watershed's distances, relative to the in-plane pixel:
    ``relative_sampling``); ``postprocess``: options of
    ``labels_from_masks`` plus ``threshold``, ``link_over_time`` (default True: in a
    time series an object keeps its id from one time point to the next, see
    ``time_links``; False: ids 1..N in each) and ``link_max_gap`` (how many time points in
    a row an object may be missed and still take up its id after them; default
    ``time_links.MAX_GAP``), over the model's own defaults in
    ``task.extra["postprocess"]``. Mask and probability outputs stream into
    ``out`` tile by tile; labels keep two bits per pixel of one time point until its
    watershed, which runs in batches (``batched_labels``), both in a scratch file when
    too big for RAM (``scratch``). Closing the generator stops between tiles.

    ``first``: what to do first, a slice per axis letter of the result (e.g. the frame and
    field of view on screen, ``{"T": slice(3, 4), "Y": slice(0, 200), "X": ...}``; axes left
    out count as whole): its time point runs first, and within each, the tiles meeting it,
    nearest its centre first. The result is the same in any order: linked time points are
    linked in time order, the one on screen (labelled first, shown under ids 1..N of its
    own meanwhile) in its turn. ``provisional``: for
    instance labels, each finished tile also writes quick labels of its core into ``out``
    (see ``provisional_labels``), so a viewer of ``out`` sees objects arrive tile by tile;
    the group's watershed labels replace them when the group is done.

    ``intensity``: the stack's ``image_intensity`` when the caller took it already (to tell
    the user what it found, naming the file); else it is taken here, once for the whole
    stack, before the first tile. A ValueError when the stack has no finite pixel.

    Instance labels: each "postprocess" step's ``confidence`` tells how sure the model was of
    what it called objects in the run so far (``object_confidence``), the last one the run's.

    ``chunks``: how ``image`` is stored (a ``ChunkGrid`` over its ``axes``, from its reader):
    with chunks several planes deep, a 2D network's tiles then run slab by slab and chunk by
    chunk, so that each chunk is decoded about once (``chunk_order``); the result is the same.
    """
    task = task or getattr(net, "task", None) or TaskSpec()
    if output_type not in OUTPUT_TYPES:
        raise ValueError(f"output_type must be one of {OUTPUT_TYPES}, got {output_type!r}")
    _check_model(net, task)
    layout = StackLayout.from_axes(image.shape, axes, net, task)
    if intensity is None:
        intensity = image_intensity(image, axes, task)
        log_intensity_findings(intensity, "the image")
    lo, hi = intensity.low, intensity.high
    channels = (int(net.out_channels),) if output_type == "probabilities" else ()
    out = _allocate(out, (*channels, *layout.output_shape()), OUTPUT_DTYPES[output_type])
    with InferenceSession(net, device, amp=amp, tta=tta) as session:
        inner = [range(layout.sizes[a]) for a in layout.inner_axes]
        plan, geometry, batch = prepare_plan(
            session, net, layout.spatial_shape, tile_shape=tile_shape, mode=mode,
            outers=list(itertools.product(*inner)), batch_size=batch_size,
            first=_first_region(layout, first, layout.inner_axes + layout.spatial_axes),
            chunks=_tile_chunks(layout, chunks))
        view = ModelInputView(image, layout, lo, hi, invert=task.invert_intensity)
        run = StackRun(session, view, layout, plan, geometry, batch, out, task, output_type,
                       postprocess_options(task, postprocess), scale, PageReleaser(image, out))
        run.order_groups(_first_region(layout, first, layout.group_axes))
        run.provisional = provisional and run.watershed
        yield from run.iter_all()
    return out


def image_intensity(image, axes: str, task: TaskSpec) -> IntensityRange:
    """The normalisation range of a whole stack with ``axes`` (one per channel when it has
    a C axis) at the task's percentiles: what ``iter_predict_image`` normalises by."""
    return intensity_range(image, task.lower_percentile, task.upper_percentile,
                           channel_axis=_channel_axis(axes))


def iter_image_intensity(image, axes: str, task: TaskSpec, *, block_pixels: int = BLOCK_PIXELS,
                         ) -> Generator[ImageProgress, None, IntensityRange]:
    """:func:`image_intensity` step by step: an "intensity" ImageProgress after every block
    of ``block_pixels`` pixels read (a 20 GiB stack takes ~30 s: a GUI shows it move, and
    cancels between two blocks by closing the generator)."""
    return (yield from relay(
        iter_intensity_range(image, task.lower_percentile, task.upper_percentile,
                             channel_axis=_channel_axis(axes), block_pixels=block_pixels),
        lambda step: ImageProgress("intensity", step.done, step.total, None)))


def _channel_axis(axes: str) -> int | None:
    return axes.upper().index("C") if "C" in axes.upper() else None


def _first_region(layout, first: dict | None, axes) -> tuple[slice, ...] | None:
    """``first`` (slices by axis letter) over ``axes``, whole axes where it says nothing."""
    if first is None:
        return None
    unknown = set(first) - set(layout.outer_axes + layout.spatial_axes) - {"C"}
    if unknown:
        raise ValueError(f"first names axes {sorted(unknown)} that the result does not have "
                         f"({''.join(layout.outer_axes + layout.spatial_axes)})")
    return tuple(first.get(a, slice(0, layout.sizes[a])) for a in axes)


def _tile_chunks(layout, chunks: ChunkGrid | None) -> ChunkGrid | None:
    """The image's chunk grid over the plan's tile axes (inner then spatial)."""
    if chunks is None:
        return None
    if len(chunks.shape) != len(layout.axes):
        raise ValueError(f"chunks must give one extent per image axis ({layout.axes}), "
                         f"got {chunks.shape}")
    return chunks.take([layout.axes.index(a) for a in layout.inner_axes + layout.spatial_axes])


