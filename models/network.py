"""Base class of the model family: the published attributes every network shares.

The tiler and the trainer read ``size_divisor``, ``halo``, ``output_shape`` etc. from here;
all of it is derived from the architecture by ``models.geometry`` on first use and cached.
"""

from __future__ import annotations

from torch import nn

from .config import TILE_EXACT_NORMS, ModelConfig
from .geometry import (
    NetworkGeometry,
    SizeRule,
    analyse,
    find_size_rule,
    flops_per_pixel,
    trace_output,
)
from .trace import GeometryError, is_trace


class SegmentationNetwork(nn.Module):
    """``forward((B, in_channels, *spatial)) → (B, out_channels, *output_shape(spatial))``.

    In train mode with ``deep_supervision`` the forward returns ``[main, aux...]``.
    """

    def __init__(self, name: str, config: ModelConfig):
        super().__init__()
        self.name = name
        self.config = config
        self._size_rule: SizeRule | None = None
        self._geometry: NetworkGeometry | None = None
        self._output_sizes: dict[int, int] = {}
        self._flops: float | None = None
        # What the outputs mean and where the model came from; set by load_model (a fresh
        # network has none yet, and save_model then assumes weights.default_task).
        self.task = None
        self.metadata: dict = {}

    # --- plain facts from the config ---------------------------------------------------------

    @property
    def spatial_dims(self) -> int:
        return self.config.spatial_dims

    @property
    def in_channels(self) -> int:
        return self.config.in_channels

    @property
    def out_channels(self) -> int:
        return self.config.out_channels

    @property
    def padding(self) -> str:
        return self.config.padding

    @property
    def deep_supervision(self) -> bool:
        return self.config.deep_supervision

    @property
    def tile_exact(self) -> bool:
        """True when every operation is local (batch norm in eval mode, or none)."""
        return self.config.norm in TILE_EXACT_NORMS

    # --- derived geometry --------------------------------------------------------------------

    @property
    def size_rule(self) -> SizeRule:
        if self._size_rule is None:
            self._size_rule = find_size_rule(self)
        return self._size_rule

    @property
    def geometry(self) -> NetworkGeometry:
        if self._geometry is None:
            self._geometry = analyse(self, self.size_rule)
        return self._geometry

    @property
    def size_divisor(self) -> tuple[int, ...]:
        return self.geometry.size_divisor

    @property
    def receptive_field(self) -> tuple[int, ...]:
        return self.geometry.receptive_field

    @property
    def halo(self) -> tuple[int, ...]:
        return self.geometry.halo

    def valid_input_shape(self, spatial_shape) -> tuple[int, ...]:
        """The nearest spatial shape the network accepts, never smaller, per axis."""
        self._check_rank(spatial_shape)
        return tuple(self.size_rule.nearest(int(n)) for n in spatial_shape)

    def output_shape(self, spatial_shape) -> tuple[int, ...]:
        """Spatial output shape for an accepted input shape (ValueError otherwise)."""
        self.check_spatial_shape(spatial_shape)
        sizes = []
        for n in spatial_shape:
            if n not in self._output_sizes:
                self._output_sizes[n] = trace_output(self, (n,)).shape[0]
            sizes.append(self._output_sizes[n])
        return tuple(sizes)

    def decoder_levels(self) -> list[nn.Module]:
        """The decoder's levels (each with ``out_channels``), for :meth:`feature_shapes`."""
        raise NotImplementedError

    def feature_shapes(self, spatial_shape) -> list[tuple[str, int, tuple[int, ...]]]:
        """``(part, channels, spatial shape)`` of every encoder stage and decoder level for an
        accepted input shape, e.g. ``("encoder", 64, (128, 128))``; derived symbolically."""
        self.check_spatial_shape(spatial_shape)
        rows = []

        def on_encoder(module, args, output):
            rows.extend(("encoder", s.channels, o.shape) for s, o in zip(module.stages, output))

        def on_level(module, args, output):
            rows.append(("decoder", module.out_channels, output.shape))

        handles = [self.encoder.register_forward_hook(on_encoder)]
        handles += [level.register_forward_hook(on_level) for level in self.decoder_levels()]
        try:
            trace_output(self, tuple(int(n) for n in spatial_shape))
        finally:
            for handle in handles:
                handle.remove()
        return rows

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def flops_per_pixel(self) -> float:
        """Convolution FLOPs (2 per multiply-add) per output pixel of a large image."""
        if self._flops is None:
            self._flops = flops_per_pixel(self, self.size_rule)
        return self._flops

    # --- input checks ------------------------------------------------------------------------

    def _check_rank(self, spatial_shape) -> None:
        if len(spatial_shape) != self.spatial_dims:
            raise ValueError(f"{self.name} is {self.spatial_dims}D: it needs "
                             f"{self.spatial_dims} spatial sizes, got {tuple(spatial_shape)}")

    def check_spatial_shape(self, spatial_shape) -> None:
        """ValueError naming the nearest valid shape when ``spatial_shape`` is not accepted."""
        self._check_rank(spatial_shape)
        shape = tuple(int(n) for n in spatial_shape)
        if all(self.size_rule.accepts(n) for n in shape):
            return
        raise GeometryError(
            f"{self.name} (padding={self.padding!r}) cannot take spatial shape {shape}; "
            f"the nearest valid shape is {self.valid_input_shape(shape)} "
            f"(sizes per axis: {self.size_rule.describe()})"
        )

    def encode(self, x) -> list:
        """Encoder features ``[(B, C_i, *spatial_i)]``, shallow to deep, the deepest through the
        bridge. A real tensor is checked first; a symbolic one (geometry tracing) is not."""
        if not is_trace(x):
            self.check_input(x)
        features = self.encoder(x)
        features[-1] = self.bridge(features[-1])
        return features

    def check_input(self, x) -> None:
        """Checks a tensor ``(B, in_channels, *spatial)`` before it reaches any layer."""
        if x.ndim != self.spatial_dims + 2:
            raise ValueError(f"{self.name} expects (B, C, *spatial) with {self.spatial_dims} "
                             f"spatial axes, got a tensor of shape {tuple(x.shape)}")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{self.name} expects {self.in_channels} input channel(s), "
                             f"got {x.shape[1]} (tensor shape {tuple(x.shape)})")
        self.check_spatial_shape(x.shape[2:])
