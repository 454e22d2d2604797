"""Fixed, seeded degradations of training images: haze, blur, low contrast, noise.

The engine's on-the-fly augmentation (``models.training.AugmentConfig``) jitters intensity
*after* the per-image percentile normalisation, so it never produces what makes real
low-quality images hard: a background raised by out-of-focus light and by noise, with the
nuclei only a little brighter than it (contrast-to-noise ratio near 1-2, as in the synthetic
StarDist stack the model once failed on). Here such copies are made *before* normalisation,
so the normalisation sees them as a microscope would deliver them.

Used by ``train_default.py``; nothing in the product imports this module.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

# Ranges sampled per degraded copy (intensities relative to the image's 1-99.8 % range).
HAZE_AMOUNT = (0.2, 1.2)      # wide blur of the image added on top (out-of-focus light)
HAZE_SIGMA_PX = (4.0, 12.0)
BLUR_SIGMA_PX = (0.5, 2.0)    # optical blur, applied with probability BLUR_PROBABILITY
BLUR_PROBABILITY = 0.6
CONTRAST = (0.25, 0.8)        # signal kept on top of a raised background
BACKGROUND = (0.2, 1.0)
READ_NOISE = (0.01, 0.05)     # Gaussian, standard deviation
SHOT_NOISE = (0.0, 0.06)      # signal-dependent part: std = SHOT * sqrt(intensity)


def _unit_range(image: np.ndarray) -> np.ndarray:
    low, high = np.percentile(image, (1.0, 99.8))
    return ((image.astype(np.float32) - low) / max(float(high - low), 1e-6)).clip(0, None)


def degraded(image: np.ndarray, rng: np.random.Generator, *, z_axis: bool = False) -> np.ndarray:
    """A hazy, blurred, low-contrast, noisy copy of ``image`` (float32, same shape).

    image: ``(Y, X)`` or ``(Z, Y, X)`` (``z_axis=True``: Z is a real axis, blurred too, so
    that nuclei bleed into the neighbouring slices as out of focus). Labels stay valid: the
    geometry is unchanged.
    """
    x = _unit_range(image)
    lead = x.ndim - 2

    def sigmas(yx: float, z: float = 0.0) -> tuple[float, ...]:
        return (*([z] * lead), yx, yx) if z_axis else (*([0.0] * lead), yx, yx)

    haze_sigma = rng.uniform(*HAZE_SIGMA_PX)
    x = x + rng.uniform(*HAZE_AMOUNT) * ndi.gaussian_filter(x, sigmas(haze_sigma, haze_sigma / 3))
    if rng.random() < BLUR_PROBABILITY:
        blur = rng.uniform(*BLUR_SIGMA_PX)
        x = ndi.gaussian_filter(x, sigmas(blur, blur))
    x = rng.uniform(*BACKGROUND) + rng.uniform(*CONTRAST) * x / max(float(x.max()), 1e-6)
    noise_std = rng.uniform(*READ_NOISE) + rng.uniform(*SHOT_NOISE) * np.sqrt(x)
    return (x + rng.standard_normal(x.shape, dtype=np.float32) * noise_std).astype(np.float32)


def contrast_to_noise(image: np.ndarray, labels: np.ndarray) -> float:
    """(mean object - mean background) / background standard deviation; a check of how hard
    a copy is (the synthetic StarDist stack: about 2)."""
    objects, background = image[labels > 0], image[labels == 0]
    return float((objects.mean() - background.mean()) / max(background.std(), 1e-6))
