"""How sure an instance model was of what it called objects, counted tile by tile.

A model shown images it was not made for (phase contrast for a fluorescence nuclei model)
still finds "objects", but hesitates between its classes over much of them. The share of
object pixels whose most likely class stays under ``UNSURE_PROBABILITY`` tells a user that
the result needs checking, before they read a count of junk objects as cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A pixel is "unsure" when no class (background, foreground, boundary) reaches this
# probability. Even on the images the model knows, object edges sit around 0.5 between two
# classes; under 0.6 picks those that hesitate, not those merely leaning one way.
UNSURE_PROBABILITY = 0.6


@dataclass(frozen=True)
class ObjectConfidence:
    """Of the ``object_pixels`` a run called objects (foreground or boundary), the
    ``unsure_pixels`` whose most likely class had a probability under
    ``UNSURE_PROBABILITY``."""

    object_pixels: int = 0
    unsure_pixels: int = 0

    @property
    def unsure_share(self) -> float:
        """``unsure_pixels / object_pixels`` (0 when nothing was called an object)."""
        return self.unsure_pixels / self.object_pixels if self.object_pixels else 0.0


class ConfidenceTally:
    """Sums ``ObjectConfidence`` over the tiles of a run, each tile's core once."""

    def __init__(self):
        self.object_pixels = 0
        self.unsure_pixels = 0

    def count(self, probabilities: np.ndarray, objects: np.ndarray) -> None:
        """Add one block: ``probabilities`` ``(C, *spatial)``, ``objects`` its object mask
        ``(*spatial)`` (what the labels are made of, at the run's threshold)."""
        # (the top class under the bar means every class under it: one comparison a pixel
        # per channel, no argmax or max reduction)
        hesitant = objects.copy()
        for channel in probabilities:
            hesitant &= channel < UNSURE_PROBABILITY
        self.object_pixels += int(np.count_nonzero(objects))
        self.unsure_pixels += int(np.count_nonzero(hesitant))

    def totals(self) -> ObjectConfidence:
        return ObjectConfidence(self.object_pixels, self.unsure_pixels)
