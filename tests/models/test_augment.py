"""Augmentation moves image, target and weights together; intensity changes touch the image."""

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi

from unet_studio.models.training.augment import (
    augment_batch,
    elastic_deform,
    flip_and_rotate,
    gaussian_blur,
    intensity_jitter,
)
from unet_studio.models.training.config import AugmentConfig
from unet_studio.models.training.targets import IGNORE

GEOMETRY_ONLY = AugmentConfig(intensity_probability=0, noise_probability=0, blur_probability=0)


def _blobs(shape, seed=0):
    """Smooth random image (B, 1, *shape) and its threshold as target (B, *shape)."""
    rng = np.random.default_rng(seed)
    smooth = np.stack([ndi.gaussian_filter(rng.random(shape), 3) for _ in range(4)])
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    image = torch.from_numpy(smooth).float().unsqueeze(1)
    target = (image[:, 0] > 0.5).long()
    return image, target, torch.ones(target.shape) + target


def test_flips_and_turns_move_everything_together():
    image, target, weight = _blobs((32, 32))
    gen = torch.Generator().manual_seed(1)
    out_image, out_target, out_weight = flip_and_rotate((image, target, weight), 2, GEOMETRY_ONLY,
                                                        gen)
    assert torch.equal((out_image[:, 0] > 0.5).long(), out_target)
    assert torch.equal(out_weight, 1 + out_target.float())
    assert not torch.equal(out_image, image)  # something moved with this seed


def test_turns_skip_non_square_patches_and_work_in_3d():
    image, target, weight = _blobs((8, 16, 24))
    gen = torch.Generator().manual_seed(2)
    out = flip_and_rotate((image, target, weight), 3, GEOMETRY_ONLY, gen)
    assert out[0].shape == image.shape
    assert torch.equal((out[0][:, 0] > 0.5).long(), out[1])


def test_elastic_warp_keeps_image_and_target_aligned():
    image, target, weight = _blobs((48, 48))
    config = AugmentConfig(elastic_probability=1.0, elastic_sigma=4.0)
    gen = torch.Generator().manual_seed(3)
    warped, warped_target, warped_weight = elastic_deform(image, target, weight, config, gen)
    assert not torch.equal(warped, image)
    known = warped_target != IGNORE
    agree = ((warped[:, 0] > 0.5).long() == warped_target)[known].float().mean()
    assert agree > 0.97
    assert (warped_weight[~known] == 0).all()


def test_elastic_pulls_in_ignore_from_outside():
    image, target, weight = _blobs((32, 32))
    config = AugmentConfig(elastic_probability=1.0, elastic_sigma=12.0)
    _, warped_target, warped_weight = elastic_deform(image, target, weight, config,
                                                     torch.Generator().manual_seed(4))
    assert (warped_target == IGNORE).any()
    assert set(torch.unique(warped_target).tolist()) <= {IGNORE, 0, 1}
    assert (warped_weight[warped_target == IGNORE] == 0).all()


def test_blur_matches_scipy():
    rng = np.random.default_rng(5)
    image = rng.random((2, 1, 20, 20)).astype(np.float32)
    sigmas = torch.tensor([0.7, 1.5])
    ours = gaussian_blur(torch.from_numpy(image), sigmas, max_sigma=1.5).numpy()
    for b, sigma in enumerate(sigmas.tolist()):
        reference = ndi.gaussian_filter(image[b, 0], sigma, mode="nearest", truncate=4.5 / sigma)
        assert np.abs(ours[b, 0] - reference).max() < 1e-4


def test_intensity_changes_only_the_image_and_repeats_with_a_seed():
    image, target, weight = _blobs((32, 32))
    config = AugmentConfig(intensity_probability=1, noise_probability=1, blur_probability=1,
                           elastic_probability=0, flip=False, rotate90=False)
    first = augment_batch(image, target, weight, config, torch.Generator().manual_seed(6))
    second = augment_batch(image, target, weight, config, torch.Generator().manual_seed(6))
    assert torch.equal(first[0], second[0])
    assert torch.equal(first[1], target) and torch.equal(first[2], weight)
    assert (first[0] - image).abs().mean() > 0.01
    jittered = intensity_jitter(image, config, torch.Generator().manual_seed(7))
    assert torch.isfinite(jittered).all()


def test_augment_config_validates():
    with pytest.raises(ValueError, match="elastic_probability"):
        AugmentConfig(elastic_probability=1.5)
    with pytest.raises(ValueError, match="elastic_grid"):
        AugmentConfig(elastic_grid=1)
