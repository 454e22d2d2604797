"""The architecture of a network as a frozen, self-validating, JSON-able dataclass.

Keys follow torch/MONAI vocabulary; every key has a default. ``to_dict()`` gives plain JSON
and ``build_model(name, **config.to_dict())`` rebuilds the same network.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

NORMS = ("batch", "none", "group", "instance")
TILE_EXACT_NORMS = ("batch", "none")  # per-pixel in eval mode; group/instance see the whole tile
ACTIVATIONS = ("relu", "leaky_relu", "gelu", "identity")
PADDINGS = ("same", "valid")
DOWNS = ("maxpool", "conv")
UPS = ("transpose", "linear")
DECODER_BLOCKS = ("conv", "bottleneck")
ENCODERS = ("plain", "resnet18", "resnet34", "resnet50", "resnet101", "resnet152")
MAX_DEPTH = {"plain": 8}  # ResNet encoders: at most their 4 stages


@dataclass(frozen=True)
class ModelConfig:
    """Architecture options of the U-Net family.

    spatial_dims: 1, 2 or 3. in_channels / out_channels: image channels / output classes.
    base_channels: width of the first level (plain encoder, doubling per level) or of the
        ResNet stem (64 is the standard ResNet; smaller values make slim ResNets).
    depth: number of down-sampling levels (plain encoder) or ResNet stages used (1–4).
    padding: "same" (output size = input size) or "valid" (the 2015 paper: unpadded convs,
        centre-cropped skips, output = a centred crop of the input).
    norm: "batch" | "none" (tile-exact) | "group" | "instance" (not tile-exact).
    activation: "relu" | "leaky_relu" | "gelu" | "identity" (linear, for analysis).
    down: "maxpool" (2x2) or "conv" (2x2 stride-2 conv); ResNet encoders use "conv" (their own
        strided convs). up: "transpose" (2x2 up-conv) or "linear" ((bi/tri)linear + 3x3 conv).
    dropout: dropout after the bottleneck ("bridge"), 0 to <1 (the notes suggest 0.3–0.5).
    bridge_residual_blocks: extra residual blocks in the bottleneck, at its width.
    residual: residual (shortcut) blocks instead of plain double convs in encoder and decoder.
    attention: attention gates on the skips. skip_compress: 1x1 conv after concatenation.
    skip_norm: normalise both branches before concatenation (needs a norm).
    deep_supervision: auxiliary outputs at decoder levels (train mode only).
    decoder_block: "conv" (double conv, or residual if ``residual``) or "bottleneck"
        (1x1 → 3x3 → 1x1 residual block with 4x expansion).
    encoder: "plain" or a ResNet ("resnet18" … "resnet152").
    """

    spatial_dims: int = 2
    in_channels: int = 1
    out_channels: int = 3
    base_channels: int = 32
    depth: int = 4
    padding: str = "same"
    norm: str = "batch"
    activation: str = "relu"
    down: str = "maxpool"
    up: str = "transpose"
    dropout: float = 0.0
    bridge_residual_blocks: int = 0
    residual: bool = False
    attention: bool = False
    skip_compress: bool = False
    skip_norm: bool = False
    deep_supervision: bool = False
    decoder_block: str = "conv"
    encoder: str = "plain"

    def __post_init__(self):
        self._check_types()
        object.__setattr__(self, "dropout", float(self.dropout))  # JSON may give 0 for 0.0
        self._check_choices()
        self._check_ranges()

    def _check_types(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "bool" and not isinstance(value, bool):
                raise ValueError(f"{f.name} must be true or false, got {value!r}")
            if f.type == "int" and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{f.name} must be an integer, got {value!r}")
            if f.type == "float" and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise ValueError(f"{f.name} must be a number, got {value!r}")
            if f.type == "str" and not isinstance(value, str):
                raise ValueError(f"{f.name} must be a string, got {value!r}")

    def _check_choices(self):
        choices = {"padding": PADDINGS, "norm": NORMS, "activation": ACTIVATIONS, "down": DOWNS,
                   "up": UPS, "decoder_block": DECODER_BLOCKS, "encoder": ENCODERS}
        for key, allowed in choices.items():
            if getattr(self, key) not in allowed:
                raise ValueError(f"{key} must be one of {allowed}, got {getattr(self, key)!r}")
        if self.skip_norm and self.norm == "none":
            raise ValueError("skip_norm normalises with `norm`, so it needs norm other than 'none'")
        if self.is_resnet and self.down != "conv":
            raise ValueError(f"a {self.encoder} encoder down-samples with its own strided convs: "
                             "down must be 'conv'")
        if self.is_resnet and self.padding != "same":
            raise ValueError(
                f"a {self.encoder} encoder supports only padding='same': its centred stride-2 "
                "convs cannot be aligned with 2x up-sampling without padding; use a plain "
                "encoder ('unet', 'residual_unet', ...) for padding='valid'")

    def _check_ranges(self):
        if self.spatial_dims not in (1, 2, 3):
            raise ValueError(f"spatial_dims must be 1, 2 or 3, got {self.spatial_dims}")
        for key in ("in_channels", "out_channels", "base_channels"):
            if getattr(self, key) < 1:
                raise ValueError(f"{key} must be at least 1, got {getattr(self, key)}")
        max_depth = MAX_DEPTH.get(self.encoder, 4)
        if not 1 <= self.depth <= max_depth:
            raise ValueError(f"depth must be 1 to {max_depth} for encoder {self.encoder!r}, "
                             f"got {self.depth}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.bridge_residual_blocks < 0:
            raise ValueError(f"bridge_residual_blocks must be >= 0, got {self.bridge_residual_blocks}")

    @property
    def is_resnet(self) -> bool:
        return self.encoder.startswith("resnet")

    @property
    def decoder_block_kind(self) -> str:
        """The block after each skip fusion: "bottleneck", "residual" or "conv"."""
        if self.decoder_block == "bottleneck":
            return "bottleneck"
        return "residual" if self.residual else "conv"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        """Builds a config from plain data; unknown keys raise ValueError listing the known
        ones, and saying where they may come from: a model saved by a newer unet-studio
        (with an option added since) is refused with the advice the format version gives."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model option(s) {unknown}; known options: {sorted(known)}; "
                             "a model saved by a newer unet-studio may use options this version "
                             "does not know: update unet-studio")
        return cls(**data)
