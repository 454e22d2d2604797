"""A TIFF's physical pixel sizes and time step: from OME-XML, the ImageJ description plus
resolution tags, or (plain TIFF) the resolution tags when their unit is metric. Unknown
sizes stay 1.0 pixel, so that a file without them is never given made-up microns.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree

from unet_studio.app.io.axes import (
    UNIT_MICROMETER,
    UNIT_SECOND,
    default_scale_and_units,
    length_in_um,
    time_in_s,
)

log = logging.getLogger(__name__)

_METRIC_RESUNITS = {3: "cm", 4: "mm", 5: "um"}


def physical_sizes(tif, series_index: int, axes: str) -> tuple[dict, dict]:
    """(scale, units) per axis from OME, ImageJ or resolution metadata; unknown -> 1.0, pixel."""
    scale, units = default_scale_and_units(axes)
    if tif.is_ome:
        found = _ome_sizes(tif.ome_metadata, series_index, tif.filehandle.path)
    elif tif.is_imagej:
        found = _imagej_sizes(tif.imagej_metadata or {}, tif.pages.first)
    else:
        found = _resolution_sizes(tif.pages.first)
    for axis, value in found.items():
        if axis in axes and value is not None:
            scale[axis] = value
            units[axis] = UNIT_SECOND if axis == "T" else UNIT_MICROMETER
    return scale, units


def _ome_sizes(xml_text: str | None, series_index: int, path: str) -> dict:
    try:
        root = ElementTree.fromstring(xml_text or "")
    except ElementTree.ParseError as error:
        log.warning("%s: ignoring unreadable OME-XML (%s); pixel sizes unknown", path, error)
        return {}
    images = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Image"]
    if series_index >= len(images):
        return {}
    pixels = next((e for e in images[series_index] if e.tag.rsplit("}", 1)[-1] == "Pixels"), None)
    if pixels is None:
        return {}
    attrib = pixels.attrib
    found = {axis: length_in_um(attrib.get(f"PhysicalSize{axis}"), attrib.get(f"PhysicalSize{axis}Unit", "µm"))
             for axis in "XYZ" if attrib.get(f"PhysicalSize{axis}")}
    if attrib.get("TimeIncrement"):
        found["T"] = time_in_s(attrib["TimeIncrement"], attrib.get("TimeIncrementUnit", "s"))
    return found


def _imagej_sizes(meta: dict, page) -> dict:
    unit = str(meta.get("unit", "")).encode("ascii", "backslashreplace").decode("unicode_escape")
    found = {}
    resolution = _page_resolution(page, default_is_unknown=False)
    if resolution is not None and length_in_um(1.0, unit) is not None:
        found["X"] = length_in_um(1.0 / resolution[0], unit)
        found["Y"] = length_in_um(1.0 / resolution[1], unit)
    if "spacing" in meta:
        found["Z"] = length_in_um(meta["spacing"], unit)
    if "finterval" in meta:
        found["T"] = time_in_s(meta["finterval"], meta.get("tunit", "s"))
    return found


def _resolution_sizes(page) -> dict:
    unit = _METRIC_RESUNITS.get(int(getattr(page, "resolutionunit", 1) or 1))
    resolution = _page_resolution(page)
    if unit is None or resolution is None:
        return {}
    return {"X": length_in_um(1.0 / resolution[0], unit), "Y": length_in_um(1.0 / resolution[1], unit)}


def _page_resolution(page, *, default_is_unknown: bool = True) -> tuple[float, float] | None:
    """Pixels per unit (x, y), or None when absent, zero or (plain TIFF) the default of 1."""
    try:
        x, y = (float(v) for v in page.resolution)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None
    if x <= 0 or y <= 0 or (default_is_unknown and x == 1.0 and y == 1.0):
        return None
    return x, y
