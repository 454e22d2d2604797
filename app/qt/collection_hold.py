"""Holding Python's full garbage collections off while engine work runs.

With napari, torch and the rest loaded, a full collection walks ~500k objects holding the
interpreter lock (0.3-0.8 s measured on a shared 2-core machine): a stall of the GUI thread
wherever it happens to be triggered. While a prediction or a fine-tune runs, collections
skip the objects that existed when it started (``gc.freeze``), which keeps them quick.
"""

from __future__ import annotations

import gc

_collection_holds = 0


def hold_full_collections() -> None:
    """Until the matching :func:`release_full_collections`, garbage collections leave the
    objects that exist now alone (``gc.freeze``): only what is allocated meanwhile is
    examined, which is quick. GUI thread only; holds nest."""
    global _collection_holds
    if _collection_holds == 0:
        gc.freeze()
    _collection_holds += 1


def release_full_collections() -> None:
    """End one hold; after the last one every object is collectable again (``gc.unfreeze``:
    nothing frozen is leaked, cycles among those objects are found by a later collection)."""
    global _collection_holds
    _collection_holds = max(_collection_holds - 1, 0)
    if _collection_holds == 0:
        gc.unfreeze()
