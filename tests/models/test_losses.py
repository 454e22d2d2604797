"""Weighted cross-entropy + Dice with the ignore mask, and deep supervision."""

import pytest
import torch
import torch.nn.functional as F

from unet_studio.models.training.losses import (
    center_crop,
    deep_supervision_weights,
    downsample_target,
    soft_dice_loss,
    training_loss,
    weighted_ce_dice,
)
from unet_studio.models.training.targets import IGNORE


@pytest.fixture
def batch():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 16, 16, generator=gen)
    target = torch.randint(0, 3, (2, 16, 16), generator=gen)
    weight = torch.rand(2, 16, 16, generator=gen) + 0.5
    return logits, target, weight


def test_plain_cross_entropy_when_unweighted(batch):
    logits, target, _ = batch
    ones = torch.ones(target.shape)
    loss = weighted_ce_dice(logits, target, ones, dice_weight=0)
    assert float(loss) == pytest.approx(float(F.cross_entropy(logits, target)), rel=1e-6)


def test_weights_scale_each_pixel(batch):
    logits, target, weight = batch
    per_pixel = F.cross_entropy(logits, target, reduction="none")
    expected = (per_pixel * weight).mean()
    assert float(weighted_ce_dice(logits, target, weight, dice_weight=0)) == pytest.approx(
        float(expected), rel=1e-6)


def test_ignored_pixels_do_not_count(batch):
    logits, target, weight = batch
    target = target.clone()
    target[:, :8] = IGNORE
    loss = weighted_ce_dice(logits, target, weight)
    scrambled = logits.clone()
    scrambled[:, :, :8] = torch.randn_like(scrambled[:, :, :8]) * 10
    assert float(weighted_ce_dice(scrambled, target, weight)) == pytest.approx(float(loss))
    # ...and the loss equals the one on the known half alone.
    half = weighted_ce_dice(logits[:, :, 8:], target[:, 8:], weight[:, 8:])
    assert float(half) == pytest.approx(float(loss), rel=1e-6)
    gradient_logits = logits.clone().requires_grad_(True)
    weighted_ce_dice(gradient_logits, target, weight).backward()
    assert gradient_logits.grad[:, :, :8].abs().max() == 0


def test_all_ignored_gives_zero_with_a_gradient(batch):
    logits, target, weight = batch
    logits = logits.clone().requires_grad_(True)
    loss = weighted_ce_dice(logits, torch.full_like(target, IGNORE), weight)
    loss.backward()
    assert float(loss.detach()) == 0.0


def test_dice_is_zero_for_a_perfect_prediction(batch):
    _, target, _ = batch
    perfect = F.one_hot(target, 3).movedim(-1, 1).float()
    known = torch.ones(target.shape, dtype=torch.bool)
    assert float(soft_dice_loss(perfect, target, known)) == pytest.approx(0.0, abs=1e-3)
    wrong = F.one_hot((target + 1) % 3, 3).movedim(-1, 1).float()
    assert float(soft_dice_loss(wrong, target, known)) > 0.9


def test_binary_single_channel(batch):
    _, target, weight = batch
    logit = torch.where(target > 0, 8.0, -8.0).unsqueeze(1).float()
    assert float(weighted_ce_dice(logit, target, weight)) < 0.01
    assert float(weighted_ce_dice(-logit, target, weight)) > 5


def test_deep_supervision_uses_downsampled_targets(batch):
    logits, target, weight = batch
    small_t, small_w = downsample_target(target, weight, (8, 8))
    assert torch.equal(small_t, target[:, ::2, ::2])
    aux = torch.randn(2, 3, 8, 8)
    combined = training_loss([logits, aux], target, weight)
    shares = deep_supervision_weights(2)
    expected = shares[0] * weighted_ce_dice(logits, target, weight) + shares[1] * (
        weighted_ce_dice(aux, small_t, small_w))
    assert float(combined) == pytest.approx(float(expected))
    assert shares == pytest.approx([2 / 3, 1 / 3])


def test_center_crop():
    x = torch.arange(100).view(1, 10, 10)
    assert torch.equal(center_crop(x, (6, 4)), x[:, 2:8, 3:7])
