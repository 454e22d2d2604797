"""The layers the host adds over the labels for its tools (the reviewed overlay, the picks
of a merge or split, the regions drawn to mark), known by a tag in their metadata, not by
their names: a user's own layer called "reviewed" had its data replaced by our overlay's,
then was removed with the last labels, as if it were ours. Ours keep their names for the
user to read (napari numbers ours "reviewed [1]" where the user's has the name)."""

from __future__ import annotations

HELPER_KEY = "unet_studio_helper"  # metadata: which helper layer this is (its role)
REVIEWED_LAYER = "reviewed"
REGIONS_LAYER = "review regions"
PICKS_LAYER = "merge and split picks"
HELPER_ROLES = (REVIEWED_LAYER, PICKS_LAYER, REGIONS_LAYER)


def helper_metadata(role: str) -> dict:
    """The metadata a helper layer of ``role`` is made with."""
    return {HELPER_KEY: role}


def helper_role(layer) -> str | None:
    """The role of one of our helper layers; None for any other layer (the user's)."""
    metadata = getattr(layer, "metadata", None)
    role = metadata.get(HELPER_KEY) if isinstance(metadata, dict) else None
    return role if role in HELPER_ROLES else None


def is_helper(layer) -> bool:
    return helper_role(layer) is not None


def helper_layer(layers, role: str):
    """Our helper layer of ``role`` among ``layers``, or None."""
    return next((layer for layer in layers if helper_role(layer) == role), None)
