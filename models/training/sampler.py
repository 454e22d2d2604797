"""Random training patches from harvested volumes (``harvest.Harvest``), zoomed or not."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from unet_studio.models.training.harvest import Harvest, Volume


class PatchSampler:
    """Random training patches: volumes drawn in proportion to their trainable pixels.

    Each patch contains its centre pixel, a trainable pixel: a changed one with probability
    ``focus_changed``, one of an object with probability ``focus_objects`` (foreground
    over-sampling, as nnU-Net does: without it, patches of a sparse image are nearly all
    background and the network learns to predict nothing), else any; with probability
    ``replay_fraction`` it comes from the replay volumes.
    """

    def __init__(self, harvest: Harvest, patch_shape, *, replay_fraction: float,
                 focus_changed: float, rng: np.random.Generator, focus_objects: float = 0.0):
        self.train, self.replay = harvest.train, harvest.replay
        self.patch_shape = tuple(patch_shape)
        self.replay_fraction = replay_fraction if self.replay else 0.0
        self.focus_changed = focus_changed
        self.focus_objects = focus_objects
        self.rng = rng
        self._train_p = self._probabilities(self.train)
        self._replay_p = self._probabilities(self.replay)

    @staticmethod
    def _probabilities(volumes) -> np.ndarray | None:
        if not volumes:
            return None
        sizes = np.array([v.centers.size for v in volumes], dtype=np.float64)
        return sizes / sizes.sum()

    def _pick_volume(self) -> Volume:
        if self.rng.random() < self.replay_fraction:
            return self.replay[self.rng.choice(len(self.replay), p=self._replay_p)]
        return self.train[self.rng.choice(len(self.train), p=self._train_p)]

    def _centre(self, volume: Volume) -> tuple[int, ...]:
        """A trainable pixel: changed, of an object or any (see the class docstring)."""
        pool, draw = volume.centers, self.rng.random()
        if draw < self.focus_changed:
            if volume.changed_centers.size:
                pool = volume.changed_centers
        elif draw < self.focus_changed + self.focus_objects and volume.object_centers.size:
            pool = volume.object_centers
        return np.unravel_index(pool[self.rng.integers(pool.size)], volume.target.shape)

    def _window(self, volume: Volume) -> tuple[slice, ...]:
        centre = self._centre(volume)
        starts = [min(max(c - p // 2, 0), n - p)
                  for c, p, n in zip(centre, self.patch_shape, volume.target.shape)]
        return tuple(slice(s, s + p) for s, p in zip(starts, self.patch_shape))

    def sample(self, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """image float32 ``(B, C, *patch)``, target int64 ``(B, *patch)``, weight ``(B, *patch)``."""
        images, targets, weights = [], [], []
        for _ in range(batch_size):
            volume = self._pick_volume()
            window = self._window(volume)
            images.append(volume.image[(slice(None), *window)])
            targets.append(volume.target[window])
            weights.append(volume.weight[window])
        return np.stack(images), np.stack(targets), np.stack(weights)

    def sample_zoomed(self, batch_size: int, augment) -> tuple[np.ndarray, ...]:
        """Source windows for randomly zoomed patches (``augment``: an ``AugmentConfig``).

        Returns image ``(B, C, *W)``, target ``(B, *W)``, weight ``(B, *W)``, zooms ``(B,)``
        and footprint centres ``(B, D)``: what ``zoom.zoom_patches`` turns into patches.
        """
        from unet_studio.models.training.zoom import draw_zooms, source_windows

        volumes = [self._pick_volume() for _ in range(batch_size)]
        centres = [self._centre(volume) for volume in volumes]
        zooms = draw_zooms(batch_size, augment, self.rng)
        *windows, offsets = source_windows(volumes, centres, zooms, self.patch_shape)
        return (*windows, zooms.astype(np.float32), offsets)
