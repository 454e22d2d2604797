"""Exact percentiles of a stack too big to sort, in bounded memory: radix selection.

``np.percentile`` partitions a copy of every pixel (a 1 GiB uint16 stack becomes 4 GiB of
float64), and a strided subsample, cheap as it is, misses the sparse bright tail of nuclei on
a dark background and aliases with tiled or gridded stacks (a stack of 4 x 4 copies of one
tile, sampled every third pixel, sees a third of the tile's pixels in every copy).

Here every finite pixel is mapped to an unsigned integer key in the same order as its value
(``sort_keys``), and the stack is streamed block by block. The first pass counts the keys'
top 16 bits in a 65536-bin histogram per channel; its cumulative counts say which bucket
holds each wanted rank, and the rank within it. 8- and 16-bit images are settled exactly by
that one pass. Wider keys take further passes that look only at the buckets holding a wanted
rank: a bucket of at most ``COLLECT_LIMIT`` pixels is gathered and sorted, a bigger one is
counted by its next 16 bits. So 32-bit pixels take two passes, 64-bit ones at most four;
memory is one block of pixels plus the histograms, whatever the size of the stack. The
percentiles are then interpolated as ``np.percentile``'s default (linear) method does.

The passes take ~1-2 s per GiB, so :func:`iter_exact_percentiles` is a generator that yields
a :class:`CensusProgress` after every block read: a GUI shows the pass move and cancels it
between two blocks (by closing the generator); :func:`exact_percentiles` drains it.

NaN and +-inf pixels have no place in an order of intensities: they are counted and left
out (what the caller does about them is its decision; see ``models.normalize``).

The parts: ``sort_keys`` (values to keys and back), ``pixel_blocks`` (the stack streamed in
storage order), ``radix_select`` (the passes that find the keys at given ranks); here, the
ranks each percentile needs and the interpolation between them.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import numpy as np

from unet_studio.models.generators import drain
from unet_studio.models.pixel_blocks import BLOCK_PIXELS
from unet_studio.models.radix_select import (
    DIGIT_BITS,
    CensusProgress,
    PassReads,
    WantedRank,
    first_pass,
    settle_ranks,
)
from unet_studio.models.sort_keys import pixel_dtype, values_of_keys

# (BLOCK_PIXELS and CensusProgress are imported from here by the normaliser and the pipeline.)
__all__ = ["BLOCK_PIXELS", "CensusProgress", "PixelCensus", "exact_percentiles",
           "iter_exact_percentiles", "linear_percentiles"]


@dataclass(frozen=True)
class PixelCensus:
    """What a pass over an image found, per channel (``C`` = 1 without a channel axis).

    ``percentiles``: float64 ``(C, len(q))``; ``minimum``/``maximum``: float64 ``(C,)``, all
    over the finite pixels (NaN for a channel without any); ``finite``/``nonfinite``: int64
    ``(C,)`` pixel counts (NaN, +inf and -inf are the non-finite ones)."""

    percentiles: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray
    finite: np.ndarray
    nonfinite: np.ndarray


def linear_percentiles(below: np.ndarray, above: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """``np.percentile``'s linear interpolation between the values at the ranks either side,
    computed the way NumPy does it (from the nearer end), so that the results agree."""
    difference = above - below
    return np.where(fraction >= 0.5, above - difference * (1 - fraction),
                    below + difference * fraction)


def _ranks_either_side(count: int, fractions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For ``count`` sorted values: the ranks below and above each percentile (fractions of
    1) and how far between them it lies, as ``np.percentile``'s linear method places it."""
    virtual = (count - 1) * fractions
    below = np.floor(virtual).astype(np.int64)
    return below, np.minimum(below + 1, count - 1), virtual - below


def exact_percentiles(image, q: Sequence[float], *, channel_axis: int | None = None,
                      block_pixels: int = BLOCK_PIXELS) -> PixelCensus:
    """The ``q`` percentiles (0-100) of the finite pixels of ``image``, per channel along
    ``channel_axis`` (see the module docstring: exact, bounded memory, one pass for 8- and
    16-bit images). ``image``: any array-like with ``shape`` and ``dtype``, read lazily."""
    return drain(iter_exact_percentiles(image, q, channel_axis=channel_axis,
                                        block_pixels=block_pixels))


def iter_exact_percentiles(image, q: Sequence[float], *, channel_axis: int | None = None,
                           block_pixels: int = BLOCK_PIXELS,
                           ) -> Generator[CensusProgress, None, PixelCensus]:
    """:func:`exact_percentiles`, yielding a :class:`CensusProgress` after every block of
    ``block_pixels`` pixels read (after each channel's part of it, with ``channel_axis``):
    closing the generator stops the pass there."""
    dtype = pixel_dtype(image.dtype)
    bits = 8 * dtype.itemsize
    channels = int(image.shape[channel_axis]) if channel_axis is not None else 1
    reads = PassReads(math.prod(int(n) for n in image.shape), bits)
    histogram, nonfinite, low, high = yield from first_pass(image, channels, channel_axis,
                                                            block_pixels, bits, reads)
    finite = histogram.sum(axis=1)
    fractions = np.asarray(q, dtype=np.float64) / 100
    ranks = _wanted_ranks(histogram, finite, fractions, bits)
    yield from settle_ranks(image, channel_axis, block_pixels, list(ranks.values()), reads)
    percentiles = _interpolated(ranks, finite, fractions, dtype)
    empty = finite == 0
    minimum = values_of_keys([0 if k is None else k for k in low], dtype)
    maximum = values_of_keys([0 if k is None else k for k in high], dtype)
    return PixelCensus(percentiles, np.where(empty, np.nan, minimum),
                       np.where(empty, np.nan, maximum), finite, nonfinite)


def _wanted_ranks(histogram: np.ndarray, finite: np.ndarray, fractions: np.ndarray,
                  bits: int) -> dict[tuple[int, int], WantedRank]:
    """Per ``(channel, rank)``: the ranks either side of every percentile of the channels
    with finite pixels, each placed in its bucket of the first pass's ``histogram``."""
    ranks: dict[tuple[int, int], WantedRank] = {}
    for channel in np.flatnonzero(finite).tolist():
        below, above, _ = _ranks_either_side(int(finite[channel]), fractions)
        for rank in {*below.tolist(), *above.tolist()}:
            ranks[(channel, rank)] = target = WantedRank(channel, rank)
            target.shift = bits
            target.settle_digit(histogram[channel], min(DIGIT_BITS, bits))
    return ranks


def _interpolated(ranks: dict[tuple[int, int], WantedRank], finite: np.ndarray,
                  fractions: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float64 ``(C, len(fractions))``: the percentiles between the settled ranks' values,
    NaN for a channel without finite pixels."""
    percentiles = np.full((finite.size, fractions.size), np.nan)
    for channel in np.flatnonzero(finite).tolist():
        below, above, fraction = _ranks_either_side(int(finite[channel]), fractions)
        value = {r: values_of_keys(ranks[(channel, r)].prefix, dtype)
                 for r in {*below.tolist(), *above.tolist()}}
        percentiles[channel] = linear_percentiles(np.array([value[r] for r in below.tolist()]),
                                                  np.array([value[r] for r in above.tolist()]),
                                                  fraction)
    return percentiles
