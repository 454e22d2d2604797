"""Fixtures of the engine's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def memory_limited():
    """``memory_limited(net, max_pixels)``: ``net`` behind an allocation limit, as a full GPU
    would be: a batch above ``max_pixels`` (batch x window) raises torch's out-of-memory
    error. ``refused`` counts those; ``ran`` holds the window shapes that ran."""
    import torch

    class MemoryLimited(torch.nn.Module):
        def __init__(self, net, max_pixels):
            super().__init__()
            self.net, self.max_pixels, self.refused, self.ran = net, max_pixels, 0, set()
            for name in ("spatial_dims", "in_channels", "out_channels", "padding", "size_divisor",
                         "halo", "tile_exact", "valid_input_shape", "output_shape"):
                setattr(self, name, getattr(net, name))

        def forward(self, x):
            if x[:, 0].numel() > self.max_pixels:
                self.refused += 1
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            self.ran.add(tuple(x.shape[2:]))
            return self.net(x)

    return lambda net, max_pixels: MemoryLimited(net, max_pixels).eval()
