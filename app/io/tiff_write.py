"""TIFF output: ImageJ hyperstacks and OME-TIFF, written page by page (lazy inputs stay lazy)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from unet_studio.app.io.axes import UNIT_PIXEL
from unet_studio.app.io.ome_classes import class_map_annotation
from unet_studio.app.io.write import (
    BIGTIFF_BYTES,
    IMAGEJ_DTYPES,
    canonical_order,
    class_map_info,
    unet_studio_tag,
    write_atomically,
)


def tiff_layout(axes: str, dtype: np.dtype, shape: tuple[int, ...], *, ome: bool) -> tuple[bool, str]:
    """(write as ImageJ?, axes order in the file) for data named by ``axes``.

    ImageJ needs ``TZCYX`` order, one of its dtypes and less than 4 GB; otherwise OME-TIFF,
    which keeps the given order when Y and X are last (else ``TZCYX`` order too).
    """
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if not ome and np.dtype(dtype) in IMAGEJ_DTYPES and nbytes < BIGTIFF_BYTES:
        return True, canonical_order(axes)
    return False, axes if axes.endswith("YX") else canonical_order(axes)


def tiff_options(imagej: bool, file_axes: str, shape: tuple[int, ...], dtype: np.dtype, *,
                 scale: dict, units: dict, kind: str, channel_names: list[str] | None = None,
                 class_names: list[str] | None = None) -> dict:
    """tifffile keyword arguments carrying axes, calibration, our kind tag and the names of
    the ``C`` indices (``channel_names``: see ``channel_metadata``); a class map's
    ``class_names`` go into our tag and where other programs show them: ImageJ's ``Info``
    (Image > Show Info), or an OME-XML MapAnnotation (``app.io.ome_classes``)."""
    known = {a: scale[a] for a in file_axes if units.get(a, UNIT_PIXEL) != UNIT_PIXEL}
    options = {"photometric": "minisblack",
               "extratags": [unet_studio_tag(kind, file_axes, class_names)]}
    metadata = {"axes": file_axes}
    if imagej:
        options["imagej"] = True
        if "X" in known and "Y" in known:
            options["resolution"] = (1.0 / known["X"], 1.0 / known["Y"])
            metadata["unit"] = "um"
        if "Z" in known:
            metadata["spacing"] = known["Z"]
        if "T" in known:
            metadata["finterval"] = known["T"]
        if class_names:
            metadata["Info"] = class_map_info(class_names)
    else:
        options["ome"] = True
        nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        options["bigtiff"] = nbytes >= BIGTIFF_BYTES
        if "X" in known and "Y" in known:
            # The pixel size in the TIFF tags too, for readers that ignore the OME XML
            # (pixels per centimetre: inch and centimetre are the units TIFF 6 defines).
            options["resolution"] = (1e4 / known["X"], 1e4 / known["Y"])
            options["resolutionunit"] = "CENTIMETER"
        for axis in "XYZ":
            if axis in known:
                metadata[f"PhysicalSize{axis}"] = known[axis]
                metadata[f"PhysicalSize{axis}Unit"] = "µm"
        if "T" in known:
            metadata["TimeIncrement"] = known["T"]
            metadata["TimeIncrementUnit"] = "s"
        if class_names:
            metadata["MapAnnotation"] = class_map_annotation(class_names)
    if channel_names is not None:
        metadata.update(channel_metadata(imagej, file_axes, shape, channel_names))
    options["metadata"] = metadata
    return options


def channel_metadata(imagej: bool, file_axes: str, shape: tuple[int, ...],
                     channel_names: list[str]) -> dict:
    """tifffile metadata naming the channels of a file with ``file_axes`` and ``shape``:
    OME-XML ``Channel Name``s, or for ImageJ (which names no channels of a hyperstack) the
    label of every plane (``Labels``, one per page in file order), its channel's name."""
    sizes = dict(zip(file_axes, shape))
    if len(channel_names) != sizes.get("C", 1):
        raise ValueError(f"{len(channel_names)} channel names for {sizes.get('C', 1)} "
                         f"channel(s): {list(channel_names)}")
    names = [str(name) for name in channel_names]
    if not imagej:
        return {"Channel": {"Name": names}}
    outer = file_axes[:-2]
    planes = np.ndindex(*(sizes[a] for a in outer))
    c = outer.index("C") if "C" in outer else None
    return {"Labels": [names[index[c] if c is not None else 0] for index in planes]}


def iter_planes(data, axes: str, file_axes: str, convert: Callable) -> Iterator[np.ndarray]:
    """The (Y, X) planes of ``data`` in the page order of a file with ``file_axes``."""
    outer = file_axes[:-2]
    sizes = dict(zip(axes, data.shape))
    for index in np.ndindex(*(sizes[a] for a in outer)):
        key = [slice(None)] * len(axes)
        for axis, i in zip(outer, index):
            key[axes.index(axis)] = i
        plane = np.asarray(data[tuple(key)])
        if axes.index("Y") > axes.index("X"):
            plane = plane.T
        yield convert(plane)


def write_tiff(path: Path, data, *, axes: str, scale: dict, units: dict, kind: str,
               dtype: np.dtype, convert: Callable, ome: bool,
               compression: str | None = "zlib", channel_names: list[str] | None = None,
               class_names: list[str] | None = None) -> Path:
    """TIFF of ``data`` (any array-like named by ``axes``), written atomically plane by
    plane; ``compression`` None: uncompressed (a big streamed output, see
    ``app.io.output.stays_uncompressed``); ``channel_names``: one per index of ``C``;
    ``class_names``: a class map's (see ``tiff_options``)."""
    import tifffile

    imagej, file_axes = tiff_layout(axes, dtype, tuple(data.shape), ome=ome)
    shape = tuple(data.shape[axes.index(a)] for a in file_axes)
    options = tiff_options(imagej, file_axes, shape, dtype, scale=scale, units=units, kind=kind,
                           channel_names=channel_names, class_names=class_names)

    def write_into(temporary: Path) -> None:
        planes = iter_planes(data, axes, file_axes, convert)
        tifffile.imwrite(temporary, data=planes, shape=shape, dtype=dtype, compression=compression,
                         **options)

    return write_atomically(path, write_into)


def write_uint16_labels(path: Path, labels, *, axes: str, scale: dict, units: dict,
                        compress: bool, class_names: list[str] | None = None) -> Path:
    """``labels`` of a wider integer dtype (a streamed int32 output; every id at most 65535)
    as a uint16 TIFF: an ImageJ hyperstack for a ``.tif`` under 4 GB, as the GUI's labels
    writer makes (ImageJ holds no 32-bit integers). Plane by plane, the mapped pages of
    ``labels`` handed back every 64 MiB, so memory stays bounded for a stack larger than RAM.
    ``class_names``: a class map's (a semantic model's labels), recorded in the file."""
    from unet_studio.models.mapped import PageReleaser

    pages = PageReleaser(labels, every_bytes=64 * 2**20)

    def narrowed(plane: np.ndarray) -> np.ndarray:
        pages.tick(plane.nbytes)  # (a released page is mapped again from the cache if re-read)
        return plane.astype(np.uint16)

    try:
        return write_tiff(path, labels, axes=axes, scale=scale, units=units, kind="labels",
                          dtype=np.dtype(np.uint16), convert=narrowed, ome=False,
                          compression="zlib" if compress else None, class_names=class_names)
    finally:
        pages.release()
