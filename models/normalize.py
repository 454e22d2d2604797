"""Percentile intensity normalisation, computed once per image or stack.

Per-tile normalisation would give every tile its own contrast (visible seams, and a tile of
empty background stretched into noise), so the range is computed once over the whole image
and applied tile by tile.

The percentiles are exact, those ``np.percentile`` gives over every finite pixel, found in
one streamed pass for 8- and 16-bit images (two for 32-bit, at most four for 64-bit) with
memory bounded by a block of pixels (``models.percentiles``): 1.8 s and 72 MiB of peak RSS
growth for a 1 GiB uint16 stack on disk (2-core VM). The strided subsample of ~4 M pixels before
was not "well under one grey level": a tiled stack aliases with the stride, and the sparse
bright tail of nuclei on a dark background falls between its samples. Its 99.8th percentile
was off by 0.5 % of the 1-99.8 range (163 grey levels) on the cells3d nuclei tiled 4 x 4, by
2.4 % on tiled HeLa nuclei, by 6.9 % (and the 1st by 10.8 %) on a 3-frame E. coli movie
tiled 4 x 4, and by 98 % on nuclei lying on odd coordinates (``bench_normalize.py``).

Inputs a microscopist may hand over:

- NaN and +-inf pixels (a ratio image's 0/0, masked or stitched-over regions) are left out of
  the percentiles, and the network sees NaN and -inf as the low percentile (background, 0)
  and +inf as the high one (1): one bad pixel neither shifts the contrast of the whole image
  nor spreads NaN through every convolution of its tile. An image with no finite pixel at all
  cannot be normalised: ``ValueError``.
- Floats beyond float32's range (float64 up to 1.8e308) are normalised in float64 and only
  then cast to float32, so a huge but finite image segments as the same image scaled down.
- When the two percentiles coincide (sparse nuclei, under 0.2 % of the pixels, on a
  background of exactly one value) the full range of the finite pixels is used instead; only
  an image of one single value is flat, and maps to zeros.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

from unet_studio.models.percentiles import (
    BLOCK_PIXELS,
    CensusProgress,
    PixelCensus,
    exact_percentiles,
    iter_exact_percentiles,
)

log = logging.getLogger(__name__)

FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class IntensityRange:
    """What normalisation maps to 0 (``low``) and 1 (``high``), float64 ``(C,)`` with a
    channel axis, else ``()``; and what the pass over the pixels found on the way.

    ``nonfinite``: how many pixels are NaN or +-inf (left out of the percentiles);
    ``flat``: the channels (indices; ``(0,)`` without a channel axis) whose every finite
    pixel has one value, so that nothing can be segmented there; ``widened``: those whose
    two percentiles coincided and which use their full range instead."""

    low: np.ndarray
    high: np.ndarray
    nonfinite: int = 0
    flat: tuple[int, ...] = ()
    widened: tuple[int, ...] = ()


def intensity_range(image, lower: float = 1.0, upper: float = 99.8, *,
                    channel_axis: int | None = None) -> IntensityRange:
    """The exact ``lower`` and ``upper`` percentiles of the finite pixels of ``image`` (any
    array-like with ``shape`` and ``dtype``, read lazily block by block), one range per
    channel along ``channel_axis``. ValueError when a channel has no finite pixel."""
    channel_axis = _checked(image, lower, upper, channel_axis)
    census = exact_percentiles(image, (lower, upper), channel_axis=channel_axis)
    return _range_of(census, channel_axis)


def iter_intensity_range(image, lower: float = 1.0, upper: float = 99.8, *,
                         channel_axis: int | None = None, block_pixels: int = BLOCK_PIXELS,
                         ) -> Generator[CensusProgress, None, IntensityRange]:
    """:func:`intensity_range` step by step: yields a ``CensusProgress`` after every block
    of ``block_pixels`` pixels read, so that a GUI shows the pass (seconds per GiB) move and
    can cancel it between blocks (closing the generator)."""
    channel_axis = _checked(image, lower, upper, channel_axis)
    census = yield from iter_exact_percentiles(image, (lower, upper), channel_axis=channel_axis,
                                               block_pixels=block_pixels)
    return _range_of(census, channel_axis)


def _checked(image, lower: float, upper: float, channel_axis: int | None) -> int | None:
    """``channel_axis`` counted from the front; ValueError for percentiles out of order."""
    if not 0 <= lower < upper <= 100:
        raise ValueError(f"need 0 <= lower < upper <= 100, got {lower} and {upper}")
    return None if channel_axis is None else channel_axis % len(image.shape)


def _range_of(census: PixelCensus, channel_axis: int | None) -> IntensityRange:
    """The IntensityRange of a pass's census at two percentiles (lower, upper)."""
    empty = np.flatnonzero(census.finite == 0)
    if empty.size:
        where = "" if channel_axis is None else f" in channel {int(empty[0])}"
        raise ValueError(f"has no finite pixel value{where} (all NaN or infinite): nothing "
                         "to normalise its intensities by")
    low, high = census.percentiles[:, 0].copy(), census.percentiles[:, 1].copy()
    widened = np.flatnonzero((high <= low) & (census.maximum > census.minimum))
    low[widened], high[widened] = census.minimum[widened], census.maximum[widened]
    if channel_axis is None:
        low, high = low[0], high[0]
    return IntensityRange(low, high, int(census.nonfinite.sum()),
                          tuple(np.flatnonzero(census.maximum == census.minimum).tolist()),
                          tuple(widened.tolist()))


def percentile_range(image, lower: float = 1.0, upper: float = 99.8, *,
                     channel_axis: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``intensity_range``'s ``(low, high)``: float64 arrays, ``(C,)`` with ``channel_axis``,
    else ``()``."""
    found = intensity_range(image, lower, upper, channel_axis=channel_axis)
    return found.low, found.high


def intensity_findings(intensity: IntensityRange) -> list[str]:
    """What a user should hear about an image's intensities (phrases to follow its name):
    NaN/inf pixels and what they were taken as, and channels with nothing to segment."""
    findings = []
    if intensity.nonfinite:
        count = intensity.nonfinite
        findings.append(f"{count} NaN or infinite pixel{'s' * (count != 1)}, left out of the "
                        "intensity percentiles; segmented as background (NaN, -inf) or as "
                        "bright (+inf)")
    if intensity.flat:
        which = "" if np.ndim(intensity.low) == 0 else (
            f" in channel{'s' * (len(intensity.flat) != 1)} {', '.join(map(str, intensity.flat))}")
        value = np.atleast_1d(intensity.low)[intensity.flat[0]]
        findings.append(f"every pixel has the same value{which} ({value:g}): no contrast, "
                        "nothing to segment")
    return findings


def log_intensity_findings(intensity: IntensityRange, name: str) -> None:
    """Log ``intensity_findings`` as warnings about ``name`` (a file, or "the image")."""
    for finding in intensity_findings(intensity):
        log.warning("%s: %s", name, finding)


def normalize_intensity(block, lo, hi, *, channel_axis: int | None = None,
                        invert: bool = False) -> np.ndarray:
    """Map ``lo`` -> 0 and ``hi`` -> 1 (not clipped), as float32, computed in float64.

    ``invert``: then ``x -> 1 - x`` after that mapping (``lo`` -> 1, ``hi`` -> 0), for a
    model that sees dark objects on a bright background as bright ones
    (``TaskSpec.invert_intensity``); the one place prediction and training both invert.
    ``lo``/``hi``: scalars, or ``(C,)`` arrays applied along ``channel_axis``. A flat image
    (hi == lo) maps to zeros rather than dividing by zero. NaN and -inf pixels become 0 and
    +inf 1 (see the module docstring); finite values that would overflow float32 are held
    at its largest (a normalised value past 3.4e38 has long stopped meaning anything).
    """
    block = np.asarray(block, dtype=np.float64)
    lo = np.asarray(lo, dtype=np.float64)
    hi = np.asarray(hi, dtype=np.float64)
    scale = np.where(hi > lo, hi - lo, 1.0)
    if channel_axis is not None and lo.ndim == 1:
        shape = [1] * block.ndim
        shape[channel_axis] = lo.size
        lo, scale = lo.reshape(shape), scale.reshape(shape)
    with np.errstate(over="ignore", invalid="ignore"):  # (inf - inf: the NaN replaced below)
        normalised = (block - lo) / scale
    if invert:
        normalised = np.subtract(1.0, normalised, out=normalised)
    if not np.isfinite(normalised).all():
        normalised = np.nan_to_num(_nonfinite_as_range(block, normalised, invert), nan=0.0,
                                   posinf=FLOAT32_MAX, neginf=-FLOAT32_MAX)
    return np.clip(normalised, -FLOAT32_MAX, FLOAT32_MAX, out=normalised).astype(np.float32)


def _nonfinite_as_range(block: np.ndarray, normalised: np.ndarray,
                        invert: bool = False) -> np.ndarray:
    """NaN and -inf pixels of ``block`` to 0 and +inf ones to 1 in ``normalised`` (inverted:
    -inf to 1 and +inf to 0, while NaN stays background, 0); what is left non-finite came
    from finite pixels too large for the arithmetic."""
    normalised[np.isneginf(block)] = float(invert)
    normalised[np.isposinf(block)] = float(not invert)
    normalised[np.isnan(block)] = 0.0
    return normalised
