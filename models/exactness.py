"""Networks for checking tile exactness: random weights and random BatchNorm statistics.

A freshly built network has BatchNorm running statistics of 0 and 1, which hides errors that
only show with real statistics; the exactness tests and ``benchmarks/bench_tiling.py`` use
:func:`random_bn_net` instead.
"""

from __future__ import annotations

import torch

from .registry import build_model


def random_bn_net(name="unet", *, seed=0, **options):
    """A registry network in eval mode whose BatchNorm layers carry random running statistics.

    Convolutions get He-normal weights and the running statistics are first calibrated on
    random input, then perturbed at random: activations keep their scale through every
    level, so the output varies over the image and a tiling error would show.
    """
    torch.manual_seed(seed)
    net = build_model(name, **options)
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for module in net.modules():
        if isinstance(module, torch.nn.modules.conv._ConvNd):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the calibration batch
    net.train()
    shape = net.valid_input_shape(tuple(2 * h + 8 for h in net.halo))
    with torch.no_grad():
        net(torch.rand(2, net.in_channels, *shape))
    for norm in norms:
        norm.running_var.mul_(torch.empty_like(norm.running_var).uniform_(0.5, 2.0))
        shift = torch.empty_like(norm.running_mean).uniform_(-0.3, 0.3)
        norm.running_mean.add_(shift * norm.running_var.sqrt())
        norm.weight.data.uniform_(0.5, 1.5)
        norm.bias.data.uniform_(-0.2, 0.2)
    return net.eval()
