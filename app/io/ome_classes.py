"""A class map's class names in OME-XML, where OME readers (Fiji's Bio-Formats, QuPath,
OMERO) show them: a MapAnnotation in StructuredAnnotations, linked to the image, of one
pair per class value ("class 0" -> "background", "class 1" -> "mitochondria").

Our private TIFF tag records the names too, but other programs do not show it and a file
re-saved by Bio-Formats drops it while keeping the OME-XML: the annotation is then where
our reader finds the names (``ome_class_names``).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ElementTree

log = logging.getLogger(__name__)

# Tells our annotation apart from other MapAnnotations (OMERO's key-value pairs, say).
CLASS_MAP_NAMESPACE = "unet-studio/class-map"
_KEY = re.compile(r"class (\d+)")


def class_map_annotation(class_names: list[str]) -> dict:
    """tifffile OME metadata (``metadata={"MapAnnotation": ...}``) naming each value of a
    class map; tifffile links it to the image it writes."""
    return {"Namespace": CLASS_MAP_NAMESPACE,
            "Description": "unet-studio class map: what each label value is",
            "Value": {f"class {value}": str(name) for value, name in enumerate(class_names)}}


def ome_class_names(ome_xml: str | None, image_index: int = 0) -> list[str] | None:
    """The class names our annotation gives image ``image_index`` of ``ome_xml``, in value
    order; None without one, or when it is unreadable (values missing, a name empty)."""
    if not ome_xml:
        return None
    try:
        root = ElementTree.fromstring(ome_xml)
    except ElementTree.ParseError as error:
        log.info("OME-XML not read for class names: %s", error)
        return None
    images = [e for e in root if _local(e.tag) == "Image"]
    if not 0 <= image_index < len(images):
        return None
    linked = {e.get("ID") for e in images[image_index] if _local(e.tag) == "AnnotationRef"}
    for annotation in root.iter():
        if (_local(annotation.tag) == "MapAnnotation" and annotation.get("ID") in linked
                and annotation.get("Namespace") == CLASS_MAP_NAMESPACE):
            return _names(annotation)
    return None


def _names(annotation) -> list[str] | None:
    """The names of "class 0" .. "class N-1", each once; None otherwise."""
    by_value: dict[int, str] = {}
    for pair in annotation.iter():
        match = _KEY.fullmatch(pair.get("K") or "") if _local(pair.tag) == "M" else None
        if match is None:
            continue
        value = int(match.group(1))
        if value in by_value or not (pair.text or "").strip():
            return None
        by_value[value] = pair.text
    if not by_value or sorted(by_value) != list(range(len(by_value))):
        return None
    return [by_value[value] for value in range(len(by_value))]


def _local(tag: str) -> str:
    """"Image" of "{http://www.openmicroscopy.org/Schemas/OME/2016-06}Image"."""
    return tag.rsplit("}", 1)[-1]
