"""napari sample-data contributions: the bundled sample stacks, opened by our own reader.

Going through :func:`unet_studio.plugins.io.napari_get_reader` means a sample arrives exactly
as the same file would from File > Open: with its axes, physical scale and name.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_FILES = {
    "nuclei3d": "nuclei3d.tif",  # (Z, Y, X) confocal nuclei
    "hela_timelapse": "hela_timelapse.tif",  # (T, Y, X) widefield HeLa nuclei
}


def sample_path(key: str) -> Path:
    """Path of a bundled sample stack on disk; ``key`` is one of :data:`SAMPLE_FILES`."""
    if key not in SAMPLE_FILES:
        raise ValueError(f"unknown sample {key!r}; available: {', '.join(SAMPLE_FILES)}")
    return Path(str(resources.files("unet_studio.resources") / "samples" / SAMPLE_FILES[key]))


def _read_sample(key: str) -> list[tuple]:
    from unet_studio.plugins.io import napari_get_reader

    path = sample_path(key)
    reader = napari_get_reader(str(path))
    if reader is None:  # the reader refuses only files it cannot open
        raise RuntimeError(f"the bundled sample {path} could not be opened")
    return reader(str(path))


def nuclei3d_sample() -> list[tuple]:
    """The 3D nuclei sample, ``(Z, Y, X)`` uint16, as napari layer data."""
    return _read_sample("nuclei3d")


def hela_timelapse_sample() -> list[tuple]:
    """The HeLa time-lapse sample, ``(T, Y, X)`` uint16, as napari layer data."""
    return _read_sample("hela_timelapse")
