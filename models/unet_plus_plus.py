"""U-Net++ (Zhou et al. 2018): nested, densely connected skips, with deep supervision.

Node ``X[i, j]`` (level ``i``, ``j`` convolution steps along the skip) is
``block(fuse(up(X[i+1, j-1]), [X[i, 0], ..., X[i, j-1]]))``; ``X[i, 0]`` are the encoder
levels. The output is the head on ``X[0, depth]``. Tensors are ``(B, C, *spatial)``.
"""

from __future__ import annotations

from torch import nn

from .config import ModelConfig
from .network import SegmentationNetwork
from .trace import is_trace
from .unet import Bridge, DecoderLevel, build_encoder, make_head


class UNetPlusPlus(SegmentationNetwork):
    """Train mode with ``deep_supervision`` returns ``[main, aux...]`` with the heads on
    ``X[0, depth-1], ..., X[0, 1]`` as auxiliary outputs (all at full resolution; with
    ``padding="valid"`` shallower nodes keep more border, so they come out larger).
    """

    def __init__(self, name: str, config: ModelConfig):
        if config.is_resnet:
            raise ValueError("unet_plus_plus uses the plain encoder (encoder='plain'); "
                             f"got encoder={config.encoder!r}")
        super().__init__(name, config)
        self.encoder = build_encoder(config)
        widths = [stage.channels for stage in self.encoder.stages]
        self.bridge = Bridge(widths[-1], config)
        depth = config.depth
        self.nodes = nn.ModuleDict({
            self._key(i, j): DecoderLevel(widths[i + 1], [widths[i]] * j, widths[i], config)
            for j in range(1, depth + 1)
            for i in range(depth - j + 1)
        })
        self.head = make_head(config, widths[0])
        aux_nodes = range(depth - 1, 0, -1) if config.deep_supervision else []
        self.aux_heads = nn.ModuleList([make_head(config, widths[0]) for _ in aux_nodes])

    @staticmethod
    def _key(level: int, step: int) -> str:
        return f"x{level}_{step}"

    def decoder_levels(self) -> list[nn.Module]:
        return list(self.nodes.values())

    def forward(self, x):
        tracing = is_trace(x)
        features = self.encode(x)
        depth = self.config.depth
        nodes = {(i, 0): feature for i, feature in enumerate(features)}
        for j in range(1, depth + 1):
            for i in range(depth - j + 1):
                skips = [nodes[i, k] for k in range(j)]
                nodes[i, j] = self.nodes[self._key(i, j)](nodes[i + 1, j - 1], skips)
        main = self.head(nodes[0, depth])
        if tracing or not (self.deep_supervision and self.training):
            return main
        aux = [head(nodes[0, j]) for head, j in zip(self.aux_heads, range(depth - 1, 0, -1))]
        return [main, *aux]
