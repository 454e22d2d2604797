"""A file opened as one layer per channel makes its first channel the current image.

napari makes the last layer added the active one: a two-channel file (nuclei, then a second
stain) opened with its second stain current, and Run at once segmented the stain with a nuclei
model (QA: F1 0.000 where channel 0 gave 0.875), while ``unet-studio predict`` refuses such a
file without ``--channel``. The first channel is the one a channel box starts at elsewhere
too; the Segment panel names the layer it will run on, and another is chosen by choosing its
layer. A model taking every channel gets them all, whichever is current.
"""

from __future__ import annotations

from qtpy.QtCore import QTimer


def first_channel_current_when_opened(viewer) -> None:
    """Once a file's channel layers are added to ``viewer`` (our reader tags each with its
    ``channel`` and ``source_path``), make its channel 0 layer active, if one of that
    file's channel layers is active then (the user has chosen nothing else since)."""
    from napari.layers import Image

    def added(event) -> None:
        layer = event.value
        metadata = getattr(layer, "metadata", None) or {}
        if isinstance(layer, Image) and metadata.get("channel"):  # (a later channel: 1, 2…)
            source = metadata.get("source_path")
            # (after the reader's other layers are added, and napari has made the last active)
            QTimer.singleShot(0, lambda: _first_channel_active(viewer, source))

    viewer.layers.events.inserted.connect(added)


def _first_channel_active(viewer, source) -> None:
    try:
        layers = viewer.layers
        active = layers.selection.active
    except (AttributeError, RuntimeError):  # (the viewer closed meanwhile)
        return
    if active is None or _of_file(active, source) is None or _of_file(active, source) == 0:
        return
    first = next((layer for layer in layers if _of_file(layer, source) == 0), None)
    if first is not None:
        layers.selection.active = first


def _of_file(layer, source) -> int | None:
    """The channel of ``layer`` if it is a channel layer of the file ``source``, else None."""
    metadata = getattr(layer, "metadata", None) or {}
    if metadata.get("source_path") != source or not isinstance(metadata.get("channel"), int):
        return None
    return metadata["channel"]
