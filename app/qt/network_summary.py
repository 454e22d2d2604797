"""What a network from the family looks like before it is trained (no widgets here).

:func:`summarize_network` builds the network, runs one input through it with forward hooks
on its top-level parts (encoder stages, bridge, decoder levels, head) and reports the tensor
shape at every level, with the parameter count, FLOPs per pixel and receptive field the
network publishes. It imports torch; the Models panel runs it in a worker thread.

All of it happens on torch's "meta" device: tensors with shapes and no data. A 3D preview
at 256³ computed a real 15 GB pass for 1.5 min (the shapes were all it showed); on meta it
takes a fraction of a second at any size, and the memory a real pass would need is told.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass


@dataclass(frozen=True)
class NetworkSummary:
    """``levels``: (part name, tensor shape ``(B, C, *spatial)``) in the order computed."""

    name: str
    options: dict
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    levels: tuple[tuple[str, tuple[int, ...]], ...]
    parameters: int
    flops_per_pixel: float
    receptive_field: tuple[int, ...]
    halo: tuple[int, ...]
    size_divisor: tuple[int, ...]
    tile_exact: bool
    encoder_stages: str = ""  # which stages of a ResNet encoder are used (``encoder_stages``)
    activation_bytes: int = 0  # most activation memory held at once by one inference pass
    outputs: str = ""  # what the output channels mean ("classes: background, mito, ...")

    def as_text(self) -> str:
        """A plain-text table for the panel (monospace)."""
        rows = [
            f"{self.name}: {self.parameters:,} parameters, "
            f"{self.flops_per_pixel / 1e6:.3g} MFLOP per output pixel",
            f"receptive field {_fmt(self.receptive_field)} px, halo {_fmt(self.halo)}, "
            f"sizes divisible by {_fmt(self.size_divisor)}"
            + ("" if self.tile_exact else "  (not tile-exact: group/instance norm)"),
            *([f"outputs: {self.outputs}"] if self.outputs else []),
            *([self.encoder_stages] if self.encoder_stages else []),
            *([self.memory_line()] if self.activation_bytes else []),
            "",
            f"{'level':<22}{'tensor (B, C, *spatial)'}",
            f"{'input':<22}{self.input_shape}",
        ]
        rows += [f"{name:<22}{shape}" for name, shape in self.levels]
        rows.append(f"{'output':<22}{self.output_shape}")
        return "\n".join(rows)

    def memory_line(self) -> str:
        from unet_studio.models.size_text import size_text

        size = "×".join(str(n) for n in self.input_shape[2:])
        return (f"memory: about {size_text(self.activation_bytes)} of activations to segment a "
                f"{size} input in one piece (float32; training needs several times more)")


def _fmt(values) -> str:
    return "×".join(str(int(v)) for v in values)


def summarize_network(name: str, options: dict, input_size: int = 256) -> NetworkSummary:
    """Build ``name`` with ``options`` and trace one ``input_size``-per-axis input.

    The input is rounded up to a size the network accepts (``valid_input_shape``).
    ValueError (from the config or the network) says what is not allowed.
    """
    import torch

    from unet_studio.models.registry import build_model

    with torch.device("meta"):  # (shapes only: no memory, no arithmetic)
        net = build_model(name, **options).eval()
        spatial = net.valid_input_shape((int(input_size),) * net.spatial_dims)
        levels: list[tuple[str, tuple[int, ...]]] = []
        memory = _MemoryTracker()
        hooks = [
            child.register_forward_hook(_recorder(part, levels))
            for part, child in net.named_children()
            if not isinstance(child, torch.nn.ModuleList) or len(child)
        ] + [module.register_forward_hook(memory.record) for module in net.modules()
             if not any(True for _ in module.children())]  # fmt: skip
        try:
            with torch.no_grad():
                x = torch.zeros((1, net.in_channels, *spatial))
                memory.record(None, None, x)
                out = net(x)
        finally:
            for hook in hooks:
                hook.remove()
    out = out[0] if isinstance(out, list | tuple) else out
    return NetworkSummary(
        name=name, options=dict(options), input_shape=tuple(x.shape),
        output_shape=tuple(out.shape), levels=tuple(levels),
        parameters=int(net.num_parameters()), flops_per_pixel=float(net.flops_per_pixel()),
        receptive_field=tuple(net.receptive_field), halo=tuple(net.halo),
        size_divisor=tuple(net.size_divisor), tile_exact=bool(net.tile_exact),
        encoder_stages=encoder_stages(options), activation_bytes=memory.peak,
    )  # fmt: skip


class _MemoryTracker:
    """The most bytes of layer outputs alive at once during a pass: each output counts from
    when its layer returns it until it is freed (an estimate: the skips' concatenations and
    other operations between layers are not seen)."""

    def __init__(self):
        self.live = self.peak = 0
        self._alive: set[int] = set()

    def record(self, _module, _inputs, output) -> None:
        import torch

        if not isinstance(output, torch.Tensor) or id(output) in self._alive:
            return  # (an in-place layer returns the tensor it was given)
        nbytes = output.numel() * output.element_size()
        self._alive.add(id(output))
        self.live += nbytes
        self.peak = max(self.peak, self.live)
        weakref.finalize(output, self._freed, id(output), nbytes)

    def _freed(self, key: int, nbytes: int) -> None:
        self._alive.discard(key)
        self.live -= nbytes


def encoder_stages(options: dict) -> str:
    """Which stages of a ResNet encoder a network with ``options`` uses, and which other
    ResNets it equals at its depth; "" for a plain encoder.

    A U-Net of depth d keeps the first d of the encoder's 4 stages, and the ResNets differ
    only in their later stages (resnet50 and resnet101: (3, 4, 6, 3) and (3, 4, 23, 3)
    bottleneck blocks): at depth 2 "resnet101" builds exactly resnet50's network, and the
    name alone would say otherwise."""
    from unet_studio.models.encoders import RESNET_LAYOUTS

    encoder = str(options.get("encoder", "plain"))
    layout = RESNET_LAYOUTS.get(encoder)
    if layout is None:
        return ""
    stages = layout.blocks_per_stage
    depth = min(int(options.get("depth", len(stages))), len(stages))
    used = stages[:depth]
    text = (f"encoder {encoder}: {_stage_span(1, depth)} of {len(stages)} used "
            f"({_blocks(used)} {layout.block} blocks)")
    if depth < len(stages):
        text += f"; {_stage_span(depth + 1, len(stages))} ({_blocks(stages[depth:])} blocks) left out"
    same = [name for name, other in RESNET_LAYOUTS.items() if name != encoder
            and other.block == layout.block and other.blocks_per_stage[:depth] == used]
    if same:
        text += f": the same network as {' and '.join(same)} at depth {depth}"
    return text


def _stage_span(first: int, last: int) -> str:
    return f"stage {first}" if first == last else f"stages {first}-{last}"


def _blocks(counts) -> str:
    return ", ".join(str(count) for count in counts)


def _recorder(part: str, levels: list):
    def record(_module, _inputs, output):
        if hasattr(output, "shape"):
            levels.append((part, tuple(output.shape)))
        elif isinstance(output, list | tuple):
            for index, item in enumerate(output):
                if hasattr(item, "shape"):
                    levels.append((f"{part}[{index}]", tuple(item.shape)))

    return record
