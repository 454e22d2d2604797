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
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from unet_studio.models.generators import drain
from unet_studio.models.mapped import PageReleaser

BLOCK_PIXELS = 1 << 22  # pixels read at once: ~4 M (the histogram's int64 copy: 32 MiB)
DIGIT_BITS = 16  # key bits settled per pass: a 65536-bin histogram
COLLECT_LIMIT = 1 << 20  # a bucket this small is gathered and sorted instead of counted
COUNT_RUN = 1 << 19  # pixels per np.bincount call: its int64 copy stays in cache (2x faster)
RELEASE_BYTES = 64 * 2**20  # memory-mapped input: its pages are handed back this often


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


@dataclass(frozen=True)
class CensusProgress:
    """``done`` of ``total`` pixel reads so far. Every pass reads each pixel once; ``total``
    counts the passes expected: one for 8- and 16-bit pixels, two for wider ones, one more
    each time a crowded bucket needs narrowing again (then ``total`` grows)."""

    done: int
    total: int


class _Reads:
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


def pixel_dtype(dtype) -> np.dtype:
    """The native-order dtype pixels are ranked in (long double as float64: no 128-bit
    unsigned key exists, and no microscope writes more than float64 resolves)."""
    dtype = np.dtype(dtype).newbyteorder("=")
    if dtype.kind == "f" and dtype.itemsize > 8:
        return np.dtype(np.float64)
    if dtype.kind not in "biuf":
        raise ValueError(f"cannot rank pixels of type {dtype}")
    return dtype


def sort_keys(values: np.ndarray) -> np.ndarray:
    """Unsigned integers of ``values``' size in the same order as the (finite) values.

    Signed integers: the sign bit flipped. Floats (IEEE 754): positive ones with the sign
    bit set, negative ones with every bit flipped (their magnitude order reverses)."""
    kind, size = values.dtype.kind, values.dtype.itemsize
    if kind == "b":
        return values.view(np.uint8)
    if kind == "u":
        return values
    unsigned = np.dtype(f"u{size}")
    sign = unsigned.type(1 << (8 * size - 1))
    if kind == "i":
        return np.ascontiguousarray(values).view(unsigned) ^ sign
    # (-1 for a negative float's bits, 0 for a positive one's, by arithmetic shift: with the
    # sign bit or'ed in, the mask to xor with; in place, 13x faster than np.where)
    signed = np.ascontiguousarray(values).view(f"i{size}")
    flip = (signed >> (8 * size - 1)).view(unsigned)
    flip |= sign
    flip ^= signed.view(unsigned)
    return flip


def values_of_keys(keys: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """The pixel values (float64) of ``sort_keys`` keys of pixels of ``dtype``."""
    dtype = pixel_dtype(dtype)
    kind, size = dtype.kind, dtype.itemsize
    unsigned = np.dtype(f"u{size}")
    keys = np.asarray(keys, dtype=unsigned)
    if kind in "bu":
        return keys.astype(np.float64)
    sign = unsigned.type(1 << (8 * size - 1))
    if kind == "i":
        return (keys ^ sign).view(dtype).astype(np.float64)
    bits = np.where(keys >= sign, keys ^ sign, ~keys)
    return bits.view(dtype).astype(np.float64)


def block_index(shape: tuple[int, ...], block_pixels: int) -> Iterator[tuple[slice, ...]]:
    """Slices (one per axis) that cover ``shape`` in C order, each at most ``block_pixels``
    pixels (or one run of the last axis): whole trailing planes where they fit, so that a
    memory map or a TIFF is read in the order it is stored."""
    split = next(a for a in range(len(shape) + 1) if math.prod(shape[a + 1:]) <= block_pixels)
    if split == len(shape):  # (a 0-d image)
        yield ()
        return
    run = max(1, block_pixels // max(math.prod(shape[split + 1:]), 1))
    rest = (slice(None),) * (len(shape) - split - 1)
    for lead in itertools.product(*(range(n) for n in shape[:split])):
        for start in range(0, shape[split], run):
            yield (*(slice(i, i + 1) for i in lead), slice(start, min(start + run, shape[split])),
                   *rest)


def chunk_blocks(shape: tuple[int, ...], block_pixels: int, grid) -> Iterator[tuple[slice, ...]] | None:
    """Slices that cover ``shape`` in blocks of whole chunks of ``grid`` (a
    ``chunk_order.ChunkGrid``; clipped at the edges), about ``block_pixels`` each: chunks
    grown along the last axis first, then the next while the last is whole. Read so, a
    chunked store decodes each chunk once, where blocks of whole planes would decode a
    16-plane chunk once per plane. None when the grid does not fit ``shape`` or one chunk
    is far larger than a block (then plain blocks bound the memory)."""
    extents = list(grid.shape)
    if len(extents) != len(shape) or math.prod(extents) > 4 * block_pixels:
        return None
    block = list(extents)
    for axis in reversed(range(len(shape))):
        others = math.prod(block[:axis] + block[axis + 1:])
        whole = -(-shape[axis] // extents[axis]) * extents[axis] + extents[axis]
        block[axis] = max(extents[axis], min(block_pixels // others // extents[axis] * extents[axis], whole))
        if block[axis] < whole:
            break  # (this axis is cut in pieces: the ones before it stay one chunk deep)
    edges = []
    for n, size, offset in zip(shape, block, grid.offset):
        first = (-offset) % size or size  # (a view may start inside a chunk)
        edges.append([0, *range(first, n, size), n])
    return (tuple(slice(e[i], e[i + 1]) for e, i in zip(edges, index))
            for index in itertools.product(*(range(len(e) - 1) for e in edges)))


def iter_channel_pixels(image, channel_axis: int | None, block_pixels: int = BLOCK_PIXELS,
                        ) -> Iterator[tuple[int, np.ndarray]]:
    """``(channel, pixels)`` for every block of ``image`` (any array-like with ``shape`` and
    ``dtype``): a 1-D native-order array of one channel's pixels of one block. A shared
    memory map's pages are handed back as it goes (``models.mapped``), so a stack larger
    than RAM leaves no more than about ``RELEASE_BYTES`` of itself resident."""
    shape = tuple(int(n) for n in image.shape)
    dtype = pixel_dtype(image.dtype)
    pages = PageReleaser(image, every_bytes=RELEASE_BYTES)
    grid = getattr(image, "chunk_grid", None)  # (a chunked store's reader tells its chunks)
    grid = grid() if callable(grid) else None
    blocks = None if grid is None else chunk_blocks(shape, block_pixels, grid)
    try:
        for index in blocks or block_index(shape, block_pixels):
            block = np.asarray(image[index], dtype=dtype)
            pages.tick(block.nbytes)
            if channel_axis is None:
                yield 0, block.reshape(-1)
                continue
            first = index[channel_axis].start or 0
            for offset, plane in enumerate(np.moveaxis(block, channel_axis, 0)):
                yield first + offset, plane.reshape(-1)
    finally:  # (a pass cancelled between blocks hands its pages back too)
        pages.release()


def finite_keys(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """The sort keys of the finite pixels, and how many pixels were not finite."""
    if pixels.dtype.kind != "f":
        return sort_keys(pixels), 0
    finite = np.isfinite(pixels)
    if finite.all():
        return sort_keys(pixels), 0
    return sort_keys(pixels[finite]), int(pixels.size - np.count_nonzero(finite))


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


class _Rank:
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


def _first_pass(image, channels: int, channel_axis, block_pixels, bits: int, reads: _Reads):
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


def _refine_pass(image, channel_axis, block_pixels, groups: dict, reads: _Reads):
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


def _settle(image, channel_axis, block_pixels, ranks: list[_Rank], reads: _Reads):
    """Passes over ``image`` until every rank's key is known (``prefix`` with ``shift`` 0);
    yields progress after every block."""
    while unsettled := [r for r in ranks if r.shift > 0]:
        groups: dict[tuple[int, int, int], list[_Rank]] = {}
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
    reads = _Reads(math.prod(int(n) for n in image.shape), bits)
    histogram, nonfinite, low, high = yield from _first_pass(image, channels, channel_axis,
                                                             block_pixels, bits, reads)
    finite = histogram.sum(axis=1)
    fractions = np.asarray(q, dtype=np.float64) / 100
    ranks: dict[tuple[int, int], _Rank] = {}
    for channel in np.flatnonzero(finite).tolist():
        below, above, _ = _ranks_either_side(int(finite[channel]), fractions)
        for rank in {*below.tolist(), *above.tolist()}:
            ranks[(channel, rank)] = target = _Rank(channel, rank)
            target.shift = bits
            target.settle_digit(histogram[channel], min(DIGIT_BITS, bits))
    yield from _settle(image, channel_axis, block_pixels, list(ranks.values()), reads)
    percentiles = np.full((channels, fractions.size), np.nan)
    for channel in np.flatnonzero(finite).tolist():
        below, above, fraction = _ranks_either_side(int(finite[channel]), fractions)
        value = {r: values_of_keys(ranks[(channel, r)].prefix, dtype)
                 for r in {*below.tolist(), *above.tolist()}}
        percentiles[channel] = linear_percentiles(np.array([value[r] for r in below.tolist()]),
                                                  np.array([value[r] for r in above.tolist()]),
                                                  fraction)
    empty = finite == 0
    minimum = values_of_keys([0 if k is None else k for k in low], dtype)
    maximum = values_of_keys([0 if k is None else k for k in high], dtype)
    return PixelCensus(percentiles, np.where(empty, np.nan, minimum),
                       np.where(empty, np.nan, maximum), finite, nonfinite)
