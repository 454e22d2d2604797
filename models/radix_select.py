"""Radix selection: the keys at wanted ranks among all the keys of a stack, found in passes
over it that each settle one more 16-bit digit (see ``models.percentiles`` for the method).

Separate from the percentiles because it knows nothing of percentiles or interpolation: it
is given ranks and returns their keys, in memory bounded by one block and the histograms.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from unet_studio.models.pixel_blocks import iter_channel_pixels
from unet_studio.models.sort_keys import finite_keys

DIGIT_BITS = 16  # key bits settled per pass: a 65536-bin histogram
COLLECT_LIMIT = 1 << 20  # a bucket this small is gathered and sorted instead of counted
COUNT_RUN = 1 << 19  # pixels per np.bincount call: its int64 copy stays in cache (2x faster)


@dataclass(frozen=True)
class CensusProgress:
    """``done`` of ``total`` pixel reads so far. Every pass reads each pixel once; ``total``
    counts the passes expected: one for 8- and 16-bit pixels, two for wider ones, one more
    each time a crowded bucket needs narrowing again (then ``total`` grows)."""

    done: int
    total: int


class PassReads:
    """Counts the pixels read over the passes, for :class:`CensusProgress`."""

    def __init__(self, pixels: int, bits: int):
        self.pixels, self.done, self.started = pixels, 0, 0
        self.expected = 1 if bits <= DIGIT_BITS else 2

    def begin_pass(self) -> None:
        self.started += 1
        self.expected = max(self.expected, self.started)

    def read(self, count: int) -> CensusProgress:
        self.done += count
        return CensusProgress(self.done, self.pixels * self.expected)


def count_digits(keys: np.ndarray, shift: int, width: int) -> np.ndarray:
    """Histogram (``1 << width`` bins) of the ``width`` key bits above ``shift``, counted in
    runs of ``COUNT_RUN`` keys."""
    counts = np.zeros(1 << width, np.int64)
    whole = shift == 0 and 8 * keys.dtype.itemsize == width  # (8- and 16-bit: the key itself)
    for start in range(0, keys.size, COUNT_RUN):
        run = keys[start:start + COUNT_RUN]
        digits = run if whole else ((run >> shift) & ((1 << width) - 1)).astype(np.intp)
        counts += np.bincount(digits, minlength=1 << width)
    return counts


class WantedRank:
    """One wanted rank of one channel: the key bits above ``shift`` are settled
    (``prefix``), ``rank`` counts within the ``count`` finite pixels that share them."""

    def __init__(self, channel: int, rank: int):
        self.channel, self.rank = channel, rank
        self.prefix = self.shift = self.count = 0

    def settle_digit(self, histogram: np.ndarray, width: int) -> None:
        """Go down one digit: the bucket of ``histogram`` (counts of the next ``width`` bits
        under ``prefix``) that holds ``rank``."""
        cumulative = np.cumsum(histogram)
        digit = int(np.searchsorted(cumulative, self.rank, side="right"))
        self.rank -= int(cumulative[digit - 1]) if digit else 0
        self.prefix = (self.prefix << width) | digit
        self.shift -= width
        self.count = int(histogram[digit])


def first_pass(image, channels: int, channel_axis, block_pixels, bits: int, reads: PassReads):
    """Counts per channel: the top digit's histogram, finite and non-finite pixels, and the
    smallest and largest key (returned; yields progress after every block)."""
    reads.begin_pass()
    width = min(DIGIT_BITS, bits)
    histogram = np.zeros((channels, 1 << width), np.int64)
    nonfinite = np.zeros(channels, np.int64)
    low, high = [None] * channels, [None] * channels
    for channel, pixels in iter_channel_pixels(image, channel_axis, block_pixels):
        keys, skipped = finite_keys(pixels)
        nonfinite[channel] += skipped
        if keys.size:
            histogram[channel] += count_digits(keys, bits - width, width)
            smallest, largest = int(keys.min()), int(keys.max())
            low[channel] = smallest if low[channel] is None else min(low[channel], smallest)
            high[channel] = largest if high[channel] is None else max(high[channel], largest)
        yield reads.read(pixels.size)
    return histogram, nonfinite, low, high


def _refine_pass(image, channel_axis, block_pixels, groups: dict, reads: PassReads):
    """One more pass for the buckets ``groups`` (keys ``(channel, prefix, shift)``): returns
    the sorted keys of a small bucket, the next digit's histogram of a big one (yields
    progress after every block)."""
    reads.begin_pass()
    collect = {g: [] for g, ranks in groups.items() if ranks[0].count <= COLLECT_LIMIT}
    counted = {g: np.zeros(1 << min(DIGIT_BITS, g[2]), np.int64)
               for g in groups if g not in collect}
    by_channel = {}
    for group in groups:
        by_channel.setdefault(group[0], []).append(group)
    for channel, pixels in iter_channel_pixels(image, channel_axis, block_pixels):
        keys = finite_keys(pixels)[0] if channel in by_channel else None
        for group in by_channel.get(channel, ()):
            _, prefix, shift = group
            inside = keys[(keys >> shift) == prefix]
            if group in collect:
                collect[group].append(inside)
                continue
            width = min(DIGIT_BITS, shift)
            counted[group] += count_digits(inside, shift - width, width)
        yield reads.read(pixels.size)
    found = {g: np.sort(np.concatenate(parts)) for g, parts in collect.items()}
    return found | counted


def settle_ranks(image, channel_axis, block_pixels, ranks: list[WantedRank], reads: PassReads):
    """Passes over ``image`` until every rank's key is known (``prefix`` with ``shift`` 0);
    yields progress after every block."""
    while unsettled := [r for r in ranks if r.shift > 0]:
        groups: dict[tuple[int, int, int], list[WantedRank]] = {}
        for rank in unsettled:
            groups.setdefault((rank.channel, rank.prefix, rank.shift), []).append(rank)
        results = yield from _refine_pass(image, channel_axis, block_pixels, groups, reads)
        for group, members in groups.items():
            result, shift = results[group], group[2]
            for rank in members:
                if rank.count <= COLLECT_LIMIT:  # (the bucket's own keys, sorted)
                    rank.prefix, rank.shift = int(result[rank.rank]), 0
                else:
                    rank.settle_digit(result, min(DIGIT_BITS, shift))
