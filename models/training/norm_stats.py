"""BatchNorm running statistics in a fine-tuning round: held still, or moved by the batches.

Why this matters: a round learns from a few similar patches of one corrected region. With
the statistics updated by every batch (BatchNorm's usual training mode), after a short round
they are the statistics of that region's patches, and the whole image is then predicted with
them: the corrected region gets better while the rest of the image gets worse, unseen by a
verdict that is measured inside the corrected region. Held still, the rest of the image gets
better too (``bench_round_stability.py``: F1@0.5 beside the crop 0.867 updated, 0.949 held).
But a model shown a modality it never saw (phase contrast to a fluorescence model) needs its
statistics to move to the new images (``bench_correction_loop.py``, E. coli: 0.40 updated,
0.26 held).

"auto" tells the two cases apart by the starting network's loss on the round's own training
patches, in inference mode: a model that knows the images scores far below chance (0.33-0.39
on nuclei, Hoechst and HeLa corrections), one that does not scores above it (3.9-6.7 on the
E. coli frames). Re-estimating the statistics from the corrected images and then holding
them ("adapt", tried) came between the two on both benchmarks, so it is not offered.
"""

from __future__ import annotations

import math

import torch

from unet_studio.models.training.config import FinetuneConfig
from unet_studio.models.training.losses import center_crop, training_loss

# Batches of training patches the starting network is scored on to choose (``auto``).
PROBE_BATCHES = 4


def norm_layers(net: torch.nn.Module) -> list[torch.nn.Module]:
    return [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


def has_trained_statistics(net: torch.nn.Module) -> bool:
    """Has every BatchNorm layer seen batches (a trained model, not a fresh network whose
    statistics are still 0 and 1)?"""
    norms = norm_layers(net)
    return bool(norms) and all(int(getattr(m, "num_batches_tracked", 0) or 0) > 0 for m in norms)


def probes_familiarity(net: torch.nn.Module, config: FinetuneConfig) -> bool:
    """Must the round score the starting network before choosing ("auto" on a trained
    network)? Otherwise :func:`fixed_choice` decides."""
    return config.norm_statistics == "auto" and has_trained_statistics(net)


def fixed_choice(config: FinetuneConfig) -> bool:
    """Hold the statistics still, as the setting says ("auto" without trained statistics:
    training from scratch, where they must move)."""
    return config.norm_statistics == "freeze"


def chance_loss(out_channels: int) -> float:
    """The cross-entropy of guessing every class alike: ln(classes) (a single sigmoid
    channel has two). The training loss adds a Dice term on top, so a network at or above
    this does not know the images."""
    return math.log(max(out_channels, 2))


def knows_the_images(loss: float, out_channels: int) -> bool:
    return math.isfinite(loss) and loss < chance_loss(out_channels)


@torch.no_grad()
def starting_loss(net: torch.nn.Module, sampler, out_shape, *, config: FinetuneConfig, device,
                  autocast, seconds: float | None = None) -> float:
    """The network's mean training loss as it predicts (inference mode) on ``PROBE_BATCHES``
    batches from ``sampler`` (``autocast``: a context manager factory). ``seconds``: stop
    after the batch that uses them up (one batch at least): a 3D network's four batches took
    half a minute of a one-minute round on a CPU, time its time plan did not know of."""
    import time

    net.eval()
    losses, started = [], time.monotonic()
    for _ in range(PROBE_BATCHES):
        if losses and seconds is not None and time.monotonic() - started >= seconds:
            break
        image, target, weight = (torch.from_numpy(a).to(device)
                                 for a in sampler.sample(config.batch_size))
        with autocast():
            outputs = net(image)
        losses.append(float(training_loss(outputs, center_crop(target, out_shape),
                                          center_crop(weight, out_shape),
                                          dice_weight=config.dice_weight)))
    return sum(losses) / len(losses)


def set_train_mode(net: torch.nn.Module, frozen, *, freeze_norm_stats: bool = False) -> None:
    """Train mode, except frozen parts stay in eval mode so BatchNorm statistics hold still;
    with ``freeze_norm_stats`` every BatchNorm layer does (its affine weights still train)."""
    net.train()
    for module in frozen:
        module.eval()
    if freeze_norm_stats:
        for module in norm_layers(net):
            module.eval()
