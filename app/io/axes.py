"""Axis letters and physical units: from what files say to the ``"TZCYX"`` vocabulary.

A stack's axes are a string over ``T`` (time), ``Z`` (depth), ``C`` (channel), ``Y`` and ``X``,
in the order the data are stored (any order, any subset that includes ``Y`` and ``X``). Files
name their dimensions in richer or poorer ways (tifffile's ``I``/``Q`` for "pages of unknown
meaning", ``S`` for RGB samples, OME-Zarr's lower-case names); this module maps them and,
where a file does not say, guesses in a documented order so the user can correct it.
"""

from __future__ import annotations

from pathlib import Path

from unet_studio.app.errors import InputFileError

AXIS_LETTERS = "TZCYX"
SPATIAL_LETTERS = "ZYX"

# Dimensions of unknown meaning get these letters, most likely first: a plain multi-page TIFF
# is usually a Z stack (ImageJ's default for an untagged stack), two unknown dimensions are
# usually time x depth, a third is channels.
_GUESS_PREFERENCE = "ZTC"

# Length units -> factor to micrometres.
_LENGTH_TO_UM = {
    "m": 1e6, "meter": 1e6, "metre": 1e6,
    "cm": 1e4, "centimeter": 1e4, "centimetre": 1e4,
    "mm": 1e3, "millimeter": 1e3, "millimetre": 1e3,
    "um": 1.0, "µm": 1.0, "μm": 1.0, "micron": 1.0, "microns": 1.0,
    "micrometer": 1.0, "micrometre": 1.0, "\\u00b5m": 1.0,
    "nm": 1e-3, "nanometer": 1e-3, "nanometre": 1e-3,
    "å": 1e-4, "angstrom": 1e-4, "pm": 1e-6, "picometer": 1e-6,
    "inch": 25400.0, "in": 25400.0,
}
# Time units -> factor to seconds.
_TIME_TO_S = {
    "s": 1.0, "sec": 1.0, "second": 1.0, "seconds": 1.0,
    "ms": 1e-3, "millisecond": 1e-3, "milliseconds": 1e-3,
    "us": 1e-6, "µs": 1e-6, "microsecond": 1e-6,
    "min": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hour": 3600.0, "hours": 3600.0,
}

# Names written into Stack.units (OME / pint spelling, which napari understands).
UNIT_MICROMETER = "micrometer"
UNIT_SECOND = "second"
UNIT_PIXEL = "pixel"


def length_in_um(value: float, unit: str | None) -> float | None:
    """``value`` in ``unit`` as micrometres; None if the unit is unknown or the value unusable."""
    factor = _LENGTH_TO_UM.get(_clean_unit(unit))
    return _positive(value, factor)


def time_in_s(value: float, unit: str | None) -> float | None:
    """``value`` in ``unit`` (seconds if ``unit`` is empty) as seconds; None if unusable."""
    factor = _TIME_TO_S.get(_clean_unit(unit) or "s")
    return _positive(value, factor)


def _clean_unit(unit: str | None) -> str:
    return (unit or "").strip().lower()


def _positive(value: float, factor: float | None) -> float | None:
    try:
        scaled = float(value) * factor if factor is not None else None
    except (TypeError, ValueError):
        return None
    if scaled is None or not (scaled > 0 and scaled < float("inf")):
        return None
    return scaled


def default_scale_and_units(axes: str) -> tuple[dict[str, float], dict[str, str]]:
    """Scale 1.0 per axis and the unit "pixel" for each non-channel axis (nothing is known)."""
    scale = {axis: 1.0 for axis in axes}
    units = {axis: UNIT_PIXEL for axis in axes if axis != "C"}
    return scale, units


def map_file_axes(path: Path, file_axes: str, shape: tuple[int, ...]) -> tuple[str, bool]:
    """Map a file's axis letters (tifffile style) to ``TZCYX``; returns (axes, guessed).

    ``S`` (RGB/RGBA samples) becomes ``C``; letters outside ``TZCYXS`` (``I``, ``Q``, ``E``...)
    are unknown and receive guessed letters (see ``_GUESS_PREFERENCE``), placed in canonical
    ``TZC`` order from left to right.
    """
    letters = file_axes.upper()
    if "S" in letters:
        if "C" in letters and shape[letters.index("S")] > 1 and shape[letters.index("C")] > 1:
            raise InputFileError(path, "has both channels and RGB samples per pixel, which is not supported")
        letters = letters.replace("S", "C") if "C" not in letters else letters.replace("S", "Q")
    known = [a if a in AXIS_LETTERS and letters.count(a) == 1 else "?" for a in letters]
    unknown_positions = [i for i, a in enumerate(known) if a == "?"]
    if not unknown_positions:
        return check_axes_complete(path, "".join(known)), False
    free = [a for a in _GUESS_PREFERENCE if a not in known]
    if len(unknown_positions) > len(free):
        raise InputFileError(
            path, f"has {len(shape)} dimensions {shape} and its axes {file_axes!r} cannot be "
            f"mapped to {AXIS_LETTERS}; set the axes explicitly")
    chosen = sorted(free[: len(unknown_positions)], key=AXIS_LETTERS.index)
    for position, letter in zip(unknown_positions, chosen):
        known[position] = letter
    return check_axes_complete(path, "".join(known)), True


def guess_axes(path: Path, ndim: int) -> str:
    """Axes for an array that carries no names: the last two are ``YX``, the rest guessed."""
    if ndim < 2:
        raise InputFileError(path, f"has {ndim} dimension(s); an image needs at least 2 (Y, X)")
    axes, _ = map_file_axes(path, "Q" * (ndim - 2) + "YX", (2,) * ndim)
    return axes


def check_axes_complete(path: Path, axes: str) -> str:
    """Refuse axes without both ``Y`` and ``X`` (a 1D profile or a table is not an image)."""
    if "Y" not in axes or "X" not in axes:
        raise InputFileError(path, f"has axes {axes!r} without both Y and X; it is not an image")
    return axes


def parse_user_axes(path: Path, axes: str, shape: tuple[int, ...]) -> str:
    """Validate axes set by the user for an array of ``shape``; returns them upper-cased.

    ``S`` is accepted as a synonym of ``C``. The length must equal the number of dimensions.
    """
    letters = axes.strip().upper().replace("S", "C")
    bad = sorted(set(letters) - set(AXIS_LETTERS))
    if bad:
        raise InputFileError(path, f"axes {axes!r} use {''.join(bad)!r}; allowed letters are {AXIS_LETTERS}")
    if len(set(letters)) != len(letters):
        raise InputFileError(path, f"axes {axes!r} repeat a letter")
    if len(letters) != len(shape):
        raise InputFileError(
            path, f"axes {axes!r} have {len(letters)} letters but the image has "
            f"{len(shape)} dimensions {tuple(shape)}")
    return check_axes_complete(path, letters)
