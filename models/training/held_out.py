"""The held-out crops a run scores, and how long scoring them takes.

Every crop without a time budget. Under one, the "before" scoring goes through the crops in
a seeded order (those holding reference objects first) and keeps those that fit in ``timing.SCORING_SHARE`` of the budget; every
later scoring (validations, the "after" one, a resumed run's) uses exactly those, so before
and after compare the same pixels.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from unet_studio.models.training.timing import TimePlan, scoring_allowance, scoring_estimate
from unet_studio.models.training.validate import score_crops

log = logging.getLogger(__name__)


class HeldOut:
    """``crops``: the held-out crops scored (all of ``every`` until the "before" scoring
    chose); ``indices``: their places in ``every`` when chosen (None: all, in order)."""

    def __init__(self, every, config, plan: TimePlan):
        self.every, self.config, self.plan = list(every), config, plan
        self.crops = list(every)
        self.indices: list[int] | None = None

    def score(self, net, **options) -> dict:
        """Metrics of ``net`` over the crops scored ({} without any); ``options``: task,
        device, autocast_dtype for :func:`validate.score_crops`."""
        started = time.monotonic()
        metrics = score_crops(net, self.crops, dice_weight=self.config.dice_weight,
                              **options).metrics
        self.plan.record_eval(time.monotonic() - started)
        return metrics

    def score_before(self, net, **options) -> dict:
        """Metrics of the starting weights, choosing the crops that every scoring uses."""
        allowance = scoring_allowance(self.config.max_seconds)
        if allowance is None:
            return self.score(net, **options)
        order = [int(i) for i in
                 np.random.default_rng([self.config.seed, 2]).permutation(len(self.every))]
        # Crops holding an object of the reference first (in that seeded order): a subset of
        # empty ones scores no F1 at all (nothing to find), only the loss.
        order.sort(key=lambda i: not _holds_objects(self.every[i]))
        metrics, scored, durations = score_crops(
            net, [self.every[i] for i in order], dice_weight=self.config.dice_weight,
            allowance=allowance, **options)
        self.plan.record_eval(scoring_estimate(durations))  # (the next ones are warmed up)
        self.restore(order[:scored])
        if scored < len(self.every):
            log.info("scoring %d of %d held-out crops: each scoring stays within about %.1f s "
                     "of the %g s budget", scored, len(self.every), allowance,
                     self.config.max_seconds)
        return metrics

    def restore(self, indices: list[int] | None) -> None:
        """Score the crops at ``indices`` of ``every`` (a resumed run's; None or indices of
        other data: all of them)."""
        if indices is None or not all(0 <= i < len(self.every) for i in indices):
            self.crops, self.indices = list(self.every), None
            return
        self.indices = [int(i) for i in indices]
        self.crops = [self.every[i] for i in self.indices]

    def summary(self) -> dict:
        """How many held-out crops and pixels are scored, of how many crops; from how many
        slabs (images, or frames/slices of a stack under a 2D network) the scored reference
        objects come, and those slabs' leading axes ("T": frames) when they are planes."""
        holding = {(c.origin, c.plane_axes) for c in self.crops if _holds_objects(c)}
        planes = {axes for origin, axes in holding if len(origin) > 1}
        return {"val_crops": len(self.every), "scored_val_crops": len(self.crops),
                "scored_val_pixels": int(sum(int(c.region.sum()) for c in self.crops)),
                "val_object_slabs": len(holding),
                # (None: the objects lie in whole images or volumes, not in planes of a stack)
                "val_plane_axes": planes.pop() if len(planes) == 1 else None}


def _holds_objects(crop) -> bool:
    """Does the held-out crop (``harvest.ValCrop``: labels 0 outside its scored region) hold
    an object of the reference?"""
    return bool(np.asarray(crop.labels).any())
