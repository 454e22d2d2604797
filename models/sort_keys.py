"""Pixel values as unsigned integer keys in the same order, and back.

Separate from the percentiles (``models.percentiles``) because the order-preserving bit
tricks for signed integers and IEEE 754 floats stand on their own: the radix selection
counts and narrows these keys without ever comparing pixel values.
"""

from __future__ import annotations

import numpy as np


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


def finite_keys(pixels: np.ndarray) -> tuple[np.ndarray, int]:
    """The sort keys of the finite pixels, and how many pixels were not finite."""
    if pixels.dtype.kind != "f":
        return sort_keys(pixels), 0
    finite = np.isfinite(pixels)
    if finite.all():
        return sort_keys(pixels), 0
    return sort_keys(pixels[finite]), int(pixels.size - np.count_nonzero(finite))
