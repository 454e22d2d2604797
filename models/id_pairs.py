"""The distinct pairs of ids among pixel pairs (two label arrays overlapping, two planes
touching), for any integer ids the labels hold.

A pair is packed into one int64 key so that one 1-D sort finds the distinct pairs: several
times faster than ``np.unique(axis=0)`` over rows. Two ids fit one key where the first is
below 2**31 and the second below 2**32; larger ids (uint32 past 2**31, uint64, imported
from another tool) would overflow into keys of other, even negative, ids, so their ranks
among the ids present are packed instead (one more sort of each side).
"""

from __future__ import annotations

import numpy as np

FIRST_LIMIT = 1 << 31  # a first id below this shifted by 32 bits stays a positive int64
SECOND_LIMIT = 1 << 32  # a second id below this fits the low 32 bits


def distinct_pairs(first: np.ndarray, second: np.ndarray, *, counts: bool = False):
    """(first ids, second ids) of each distinct pair ``(first[i], second[i])``, sorted by
    first id then second, and where ``counts``, how many times each occurs. ``first``,
    ``second``: ids of one length (any shape, any integer dtype, none negative). The ids
    come back int64 where they fit (every id below 2**63), else in their own dtype."""
    first, second = np.ravel(first), np.ravel(second)
    if not first.size:
        empty = np.zeros(0, np.int64)
        return (empty, empty.copy(), empty.copy()) if counts else (empty, empty.copy())
    packed_ids = int(first.max()) < FIRST_LIMIT and int(second.max()) < SECOND_LIMIT
    if packed_ids:
        first_keys, second_keys = first, second
    else:
        first_ids, first_keys = np.unique(first, return_inverse=True)
        second_ids, second_keys = np.unique(second, return_inverse=True)
    keys = (first_keys.astype(np.int64) << 32) | second_keys.astype(np.int64)
    found = np.unique(keys, return_counts=counts)
    keys = found[0] if counts else found
    firsts, seconds = keys >> 32, keys & 0xFFFFFFFF
    if not packed_ids:  # (ranks back to ids; sorted ranks are sorted ids)
        firsts, seconds = id_array(first_ids[firsts]), id_array(second_ids[seconds])
    return (firsts, seconds, found[1]) if counts else (firsts, seconds)


def id_array(ids) -> np.ndarray:
    """``ids`` as int64, or as uint64 where one lies past int64's top (uint64 labels up to
    2**64 - 1): an int64 copy wraps those negative, out of the ascending order that
    ``searchsorted`` lookups of ids rely on."""
    ids = np.asarray(ids)
    if ids.dtype == np.uint64 and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
        return ids
    return ids.astype(np.int64)
