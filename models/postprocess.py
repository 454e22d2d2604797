"""From network outputs to instance labels, 2D and 3D: the seeded watershed's entry points.

Always run on the whole assembled probability map (never per tile), so that an object
crossing a tile border is one object. Everything is vectorised numpy/scipy/scikit-image.
The steps live in their own modules: ``class_masks`` (logits to probabilities and masks),
``watershed_seeds`` (h-maxima seeds and their height, with ``reconstruction``),
``object_outlines`` (how far objects grow, holes filled) and ``label_tallies`` (per-label
counts and size floors); ``batched_labels`` runs them on batches of objects.
"""

from __future__ import annotations

import numpy as np

# Re-exported: the batched labelling and the pipeline reach these as ``postprocess.<name>``.
from unet_studio.models.class_masks import (  # noqa: F401
    foreground_mask,
    instance_masks,
    probabilities_from_logits,
    semantic_mask,
    softmax,
)
from unet_studio.models.generators import drain
from unet_studio.models.label_tallies import (  # noqa: F401
    labels_where,
    remove_small_objects,
)
from unet_studio.models.object_outlines import fill_label_holes  # noqa: F401
from unet_studio.models.watershed_seeds import (  # noqa: F401
    DEFAULT_SEED_HEIGHT,
    MIN_SEED_HEIGHT,
    interior_depths,
    label_peaks,
    peak_markers,
    radius_from_depths,
)


def labels_from_masks(objects: np.ndarray, interior: np.ndarray, *, min_size: int = 16,
                      seed_height: float | None = None, seed_height_fraction: float = 0.0,
                      fill_holes: bool = True, sampling: tuple[float, ...] | None = None,
                      grow: float | None = None, min_size_fraction: float = 0.0,
                      batch_pixels: int | None = None,
                      giant_pixels: int | None = None) -> np.ndarray:
    """Instance labels ``(*spatial)`` int32 (1..N) from object and interior masks.

    The interior's distance map seeds a watershed inside the objects, which splits touching
    objects along their boundary; then objects under ``min_size`` pixels go, enclosed holes
    are filled, objects under ``min_size_fraction`` x the typical object size go and the
    labels are made sequential. ``sampling``: pixel size per axis, so that anisotropic stacks get true
    distances. ``grow``: how far (in ``sampling`` units, pixels without it) an object reaches
    from its interior into the predicted boundary band; None gives it the whole band. The
    network's boundary class is trained as a ring one pixel wide, but predicted as a blurred
    band several pixels wide, so the whole band makes outlines too loose; ``grow=1``
    restores the trained outline. ``seed_height`` / ``seed_height_fraction``: how deep the
    dip between two touching objects must be to split them (see ``resolve_seed_height``).

    Runs on batches of connected object groups (``batched_labels``), so a stack too large
    for one pass gives the same labels in bounded memory (``batch_pixels``,
    ``giant_pixels``: see there; None: its defaults).
    """
    return drain(iter_labels_from_masks(
        objects, interior, min_size=min_size, seed_height=seed_height,
        seed_height_fraction=seed_height_fraction, fill_holes=fill_holes, sampling=sampling,
        grow=grow, min_size_fraction=min_size_fraction, batch_pixels=batch_pixels,
        giant_pixels=giant_pixels))


def iter_labels_from_masks(objects: np.ndarray, interior: np.ndarray, **options):
    """``labels_from_masks`` (same options) as a generator: yields the fraction done (0-1)
    after each batch of objects, where a run can stop (close the generator), and returns
    the labels."""
    from unet_studio.models.batched_labels import iter_labels_in_batches

    for size in ("batch_pixels", "giant_pixels"):  # None: the defaults of batched_labels
        if options.get(size) is None:
            options.pop(size, None)
    return (yield from iter_labels_in_batches(objects, interior, **options))


def instance_labels(probabilities: np.ndarray, *, threshold: float = 0.5, min_size: int = 16,
                    seed_height: float | None = None, seed_height_fraction: float = 0.0,
                    fill_holes: bool = True, sampling: tuple[float, ...] | None = None,
                    grow: float | None = None, min_size_fraction: float = 0.0) -> np.ndarray:
    """Instance labels ``(*spatial)`` int32 from ``(3, *spatial)`` probabilities.

    Channels: (background, foreground, boundary); see ``instance_masks`` and
    ``labels_from_masks`` for the steps, 2D and 3D alike.
    """
    objects, interior = instance_masks(probabilities, threshold=threshold)
    return labels_from_masks(objects, interior, min_size=min_size, seed_height=seed_height,
                             seed_height_fraction=seed_height_fraction, fill_holes=fill_holes,
                             sampling=sampling, grow=grow, min_size_fraction=min_size_fraction)
