"""How a reviewed or changed mask (bool, any shape) is kept in ``reviewed.npz``: only the
blocks of :data:`BLOCK_PIXELS` pixels (C order) that hold a True pixel, bit-packed.

A stack's masks are mostly empty (three edits on a 1.5 Gpx stack mark ~60,000 pixels):
written whole, each costs a full-size bool array to decode (unpacking all its bits took
~9 s and 3 GB per mask on the GUI thread at a project's reopening), although the file is a
few hundred KB. Kept by blocks, reading and writing cost what is marked. The mask read back
is allocated zeroed (``np.zeros``: the OS hands out its pages on first write), so a mostly
empty mask of a big stack takes memory for its marked blocks only.

Files of earlier versions (the whole mask bit-packed under the mask's own name) are read
as a stream, a few MB at a time, and give the same sparse mask. The blocks form is version 2
of the file, the whole masks version 1 (``format_versions``): a reader of whole masks takes
the blocks form for empty masks.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

BLOCK_PIXELS = 1 << 15  # pixels per block (4 KiB of bits; a multiple of 64)
_DECODE_BLOCKS = 1024  # blocks unpacked at a time (32 MB): bounds a full mask's decoding
_STREAM_BYTES = 1 << 22  # packed bytes of an old file's mask read at a time


def encode_mask(name: str, mask: np.ndarray) -> dict[str, np.ndarray]:
    """``{name}_blocks`` (int64 indices of the blocks holding a True pixel) and
    ``{name}_bits`` ((blocks, BLOCK_PIXELS / 8) uint8, their packed bits). Reads the mask
    once (no copy of it): safe on a writer thread while it is marked, as long as the
    caller compares versions (a block marked meanwhile is saved by the next write)."""
    flat = np.ascontiguousarray(mask, dtype=bool).reshape(-1)
    head = flat.size - flat.size % BLOCK_PIXELS
    # (8 pixels per uint64 word: ~8x fewer elements to test than as bools)
    whole = flat[:head].view(np.uint64).reshape(-1, BLOCK_PIXELS // 8)
    used = np.flatnonzero(whole.any(axis=1))
    rows = [np.packbits(flat[:head].reshape(-1, BLOCK_PIXELS)[used], axis=1)]
    tail = flat[head:]
    if tail.any():  # (the last, partial block: padded with False)
        padded = np.zeros(BLOCK_PIXELS, dtype=bool)
        padded[: tail.size] = tail
        rows.append(np.packbits(padded)[None])
        used = np.append(used, head // BLOCK_PIXELS)
    return {f"{name}_blocks": used.astype(np.int64), f"{name}_bits": np.concatenate(rows)}


def decode_mask(blocks: np.ndarray, bits: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """The bool mask of ``shape`` that :func:`encode_mask` gave ``blocks`` and ``bits`` for."""
    count = int(np.prod(shape))
    blocks = np.asarray(blocks, dtype=np.int64).reshape(-1)
    bits = np.asarray(bits, dtype=np.uint8).reshape(len(blocks), BLOCK_PIXELS // 8)
    if blocks.size and (blocks.min() < 0 or blocks.max() * BLOCK_PIXELS >= max(count, 1)):
        raise ValueError("a block of the mask lies outside its shape")
    mask = np.zeros(count, dtype=bool)  # (zero pages: only the blocks written take memory)
    head = count - count % BLOCK_PIXELS
    rows = mask[:head].reshape(-1, BLOCK_PIXELS)
    for start in range(0, len(blocks), _DECODE_BLOCKS):
        part = blocks[start:start + _DECODE_BLOCKS]
        unpacked = np.unpackbits(bits[start:start + _DECODE_BLOCKS], axis=1).view(bool)
        whole = part < len(rows)
        rows[part[whole]] = unpacked[whole]
        if not whole.all():  # (the partial last block)
            mask[head:] = unpacked[~whole][0, : count - head]
    return mask.reshape(shape)


def read_packed_member(path: str | Path, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """The mask an earlier version saved whole, bit-packed, as ``{name}.npy`` of the npz
    at ``path``: read a few MB at a time, only its set bits written into a zeroed mask."""
    count = int(np.prod(shape))
    mask = np.zeros(count, dtype=bool)
    with zipfile.ZipFile(path) as archive, archive.open(f"{name}.npy") as stream:
        version = np.lib.format.read_magic(stream)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)  # fmt: skip
        packed_shape, _, dtype = read_header(stream)
        if dtype != np.uint8 or len(packed_shape) != 1 or packed_shape[0] * 8 < count:
            raise ValueError(f"the {name} mask is not {count} packed bits")
        offset, eight = 0, np.arange(8)
        while chunk := stream.read(_STREAM_BYTES):
            packed = np.frombuffer(chunk, dtype=np.uint8)
            set_bytes = np.flatnonzero(packed)
            if set_bytes.size:
                on = np.unpackbits(packed[set_bytes][:, None], axis=1).view(bool)
                pixels = ((offset + set_bytes) * 8)[:, None] + eight
                pixels = pixels[on]
                mask[pixels[pixels < count]] = True
            offset += packed.size
    return mask.reshape(shape)


def saved_shape(path: str | Path) -> tuple[int, ...] | None:
    """The labels shape a ``reviewed.npz`` was saved for (its ``shape`` member only: no mask
    is read), or None when there is no such file. ValueError when it cannot be read."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return tuple(int(n) for n in data["shape"])
    except FileNotFoundError:
        return None
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path}: cannot read reviewed regions: {error}") from error
