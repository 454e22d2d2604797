"""What a network's output channels mean, and how its input is normalised.

Saved in a model's ``config.json`` under ``"task"`` next to the architecture, so that
prediction, post-processing and fine-tuning agree with how the model was trained.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from unet_studio.models.postprocess_options import check_postprocess

TASK_KINDS = ("instance", "semantic")


@dataclass(frozen=True)
class TaskSpec:
    """Meaning of the output channels and the input normalisation.

    ``kind="instance"``: channels are (background, foreground, boundary) logits; instance
    labels come from a seeded watershed (``models.postprocess``).
    ``kind="semantic"``: one channel per class in ``class_names`` (softmax), or a single
    channel (sigmoid) for a binary mask.
    Input intensities are mapped so that the ``lower_percentile`` goes to 0 and the
    ``upper_percentile`` to 1, computed once over the whole image or stack; with
    ``invert_intensity`` then to ``1 - x``, so that a model of bright objects (fluorescent
    nuclei) sees dark ones on a bright background (phase contrast) as bright. Saved only
    when set: configs without it read and write as before.
    """

    kind: str = "instance"
    class_names: tuple[str, ...] = ("background", "foreground", "boundary")
    lower_percentile: float = 1.0
    upper_percentile: float = 99.8
    # Axes the network sees per sample, e.g. "YX" for a 2D model (run slice by slice on
    # ZYX stacks) or "ZYX" for a 3D one.
    spatial_axes: str = "YX"
    # Physical pixel size (per spatial axis, in micrometres) of the training data, if known;
    # lets the app rescale inputs of another magnification.
    pixel_size_um: tuple[float, ...] | None = None
    extra: dict = field(default_factory=dict)
    invert_intensity: bool = False

    def __post_init__(self):
        if self.kind not in TASK_KINDS:
            raise ValueError(f"task kind must be one of {TASK_KINDS}, got {self.kind!r}")
        if not 0 <= self.lower_percentile < self.upper_percentile <= 100:
            raise ValueError(
                "need 0 <= lower_percentile < upper_percentile <= 100, got "
                f"{self.lower_percentile} and {self.upper_percentile}"
            )
        if self.kind == "instance" and len(self.class_names) != 3:
            raise ValueError("an instance task has exactly 3 channels: background, foreground, boundary")
        if set(self.spatial_axes) - set("ZYX") or len(self.spatial_axes) not in (1, 2, 3):
            raise ValueError(f"spatial_axes must be 1 to 3 of Z, Y, X, got {self.spatial_axes!r}")
        if self.pixel_size_um is not None and (
                len(self.pixel_size_um) != len(self.spatial_axes)
                or not all(_positive_number(v) for v in self.pixel_size_um)):  # fmt: skip
            raise ValueError(f"pixel_size_um must be one positive number per spatial axis "
                             f"({self.spatial_axes}), got {list(self.pixel_size_um)!r}")
        if not isinstance(self.invert_intensity, bool):
            raise ValueError(f"invert_intensity must be true or false, got {self.invert_intensity!r}")
        if self.extra is None:  # (a hand-edited config's null: no extras)
            object.__setattr__(self, "extra", {})
        if not isinstance(self.extra, dict):
            raise ValueError(f"extra must be a mapping, got {type(self.extra).__name__}")
        check_postprocess(self.extra.get("postprocess"))

    @property
    def out_channels(self) -> int:
        return len(self.class_names)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["class_names"] = list(self.class_names)
        if self.pixel_size_um is not None:
            data["pixel_size_um"] = list(self.pixel_size_um)
        if not self.invert_intensity:  # (configs, checkpoints and hashes of other models unchanged)
            del data["invert_intensity"]
        return data

    @classmethod
    def from_dict(cls, data: dict) -> TaskSpec:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "class_names" in known:
            known["class_names"] = tuple(known["class_names"])
        if known.get("pixel_size_um") is not None:
            known["pixel_size_um"] = tuple(known["pixel_size_um"])
        return cls(**known)


def _positive_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)
