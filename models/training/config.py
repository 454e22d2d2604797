"""Fine-tuning settings: frozen dataclasses that validate themselves and round-trip via JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

TRAIN_LAYERS = ("all", "decoder")
SELECT_BEST_BY = ("val_loss", "val_metric")
NORM_STATISTICS = ("auto", "update", "freeze")
# Zoom factors allowed: below 0.5 a 1-pixel boundary line can fall between two samples.
ZOOM_LIMITS = (0.5, 4.0)
# Settings added after checkpoints were first written, with the value that keeps the old
# behaviour: left out of a run's fingerprint at that value, so older checkpoints still resume.
ADDED_DEFAULTS = {"zoom_probability": 0.0, "zoom_range": [0.5, 2.0], "focus_objects": 0.0,
                  "norm_statistics": "update"}
# Patch and batch a network trains with unless told, by its spatial rank. 2D: 128x128 x 4
# (65,536 pixels a step). 3D: the 2D patch on every axis x 4 (a 24x128x128 crop whole, 1.6 M
# voxels) took ~11 CPU-s a step on a shared 2-core CPU, a 120 s round 5-8 steps and a model
# scoring F1 0 on unseen slices; 32x64x64 x 2 took ~2 CPU-s (fixed costs dominate there),
# 18-33 steps and F1@0.5 0.53-0.67 (benchmarks/results/train3d_patch.md). Z is shortest:
# stacks have fewer slices than rows; clipped to the stack, the patch never exceeds it. Not
# by device: on a GPU such a step is short too, and rounds are seconds to minutes there.
DEFAULT_PATCH_SIZE = {1: 128, 2: 128, 3: (32, 64, 64)}
DEFAULT_BATCH_SIZE = {1: 4, 2: 4, 3: 2}


class SettingError(ValueError):
    """A setting out of its range. ``name``: the field; ``rule``: what it must be and what it
    got ("must be > 0, got 0"), so that a front end can name the setting in its own terms (the
    CLI its flag) and keep the rule."""

    def __init__(self, name: str, rule: str):
        self.name, self.rule = name, rule
        super().__init__(f"{name} {rule}")


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise SettingError(name, f"must lie in [{low}, {high}], got {value}")


def _json_ready(value):
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    return value


@dataclass(frozen=True)
class AugmentConfig:
    """Random augmentation applied identically to image, target and weights.

    Probabilities are per patch. Geometric: flips on every spatial axis, 90 degree turns in
    the last two axes (square patches only), elastic deformation from a coarse grid of
    random displacements (``elastic_grid`` points per axis, standard deviation
    ``elastic_sigma`` pixels) as in the 2015 U-Net paper. Intensity (on normalised images):
    scale ``*U(1 - s, 1 + s)``, shift ``+U(-s, s)``, gamma ``exp(U(-g, g))``, Gaussian noise
    with standard deviation up to ``noise_std``, Gaussian blur with sigma up to ``blur_sigma``.
    """

    flip: bool = True
    rotate90: bool = True
    elastic_probability: float = 0.3
    elastic_grid: int = 3
    elastic_sigma: float = 6.0
    intensity_probability: float = 0.8
    scale: float = 0.25
    shift: float = 0.1
    gamma: float = 0.3
    noise_probability: float = 0.2
    noise_std: float = 0.05
    blur_probability: float = 0.2
    blur_sigma: float = 1.0
    zoom_probability: float = 0.0
    zoom_range: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self):
        if isinstance(self.zoom_range, list):
            object.__setattr__(self, "zoom_range", tuple(self.zoom_range))
        self._validate_zoom()
        for name in ("elastic_probability", "intensity_probability", "noise_probability",
                     "blur_probability"):
            _check_range(name, getattr(self, name), 0.0, 1.0)
        if self.elastic_grid < 2:
            raise SettingError("elastic_grid",
                               f"must be >= 2 points per axis, got {self.elastic_grid}")
        for name in ("elastic_sigma", "scale", "shift", "gamma", "noise_std", "blur_sigma"):
            if getattr(self, name) < 0:
                raise SettingError(name, f"must be >= 0, got {getattr(self, name)}")
        _check_range("scale", self.scale, 0.0, 0.9)

    def _validate_zoom(self) -> None:
        _check_range("zoom_probability", self.zoom_probability, 0.0, 1.0)
        low, high = (float(z) for z in self.zoom_range) if len(self.zoom_range) == 2 else (0, 0)
        if not ZOOM_LIMITS[0] <= low <= high <= ZOOM_LIMITS[1]:
            raise ValueError(
                f"zoom_range must be (low, high) with {ZOOM_LIMITS[0]} <= low <= high <= "
                f"{ZOOM_LIMITS[1]}, got {self.zoom_range}"
            )

    @property
    def zooms(self) -> bool:
        """Does this configuration ever zoom a patch?"""
        return self.zoom_probability > 0 and self.zoom_range != (1.0, 1.0)


@dataclass(frozen=True)
class FinetuneConfig:
    """How to train: budget, data harvesting, loss, optimiser and checkpoints.

    Training stops at the first of ``max_seconds``, ``epochs`` and ``max_steps`` reached (at
    least one must be set). An *epoch* is as many patches as it takes to cover the reviewed
    training pixels once. ``patch_size``: int (same on every axis) or one size per spatial
    axis of the network; it is clipped to the data and rounded up to a shape the network
    accepts. The defaults here (128, batch 4) suit a 2D network: :meth:`for_network` gives a
    3D network its own (128 on every axis x 4: 35 s to over a minute a step on a shared CPU).
    """

    max_seconds: float | None = 60.0
    epochs: int | None = None
    max_steps: int | None = None
    batch_size: int = 4
    patch_size: int | tuple[int, ...] = 128
    learning_rate: float = 5e-4
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    min_lr_ratio: float = 0.05
    grad_clip: float = 1.0
    train_layers: str = "all"
    amp: bool = True
    device: str = "auto"
    # Loss: cross-entropy weighted by the 2015 border map (w0, sigma in pixels) and by
    # ``changed_weight`` on pixels the user edited, plus ``dice_weight`` x soft Dice.
    dice_weight: float = 1.0
    border_w0: float = 10.0
    border_sigma: float = 5.0
    changed_weight: float = 3.0
    boundary_width: int = 1
    # Fraction of patches centred on a changed pixel (when there are any), and fraction
    # centred on an object pixel (foreground over-sampling: sparse objects still train).
    focus_changed: float = 0.3
    focus_objects: float = 0.33
    # Data: share of reviewed pixels held out for validation, share of patches from replay.
    val_fraction: float = 0.15
    replay_fraction: float = 0.25
    val_every: int = 25
    # The "last" checkpoint (with optimiser state) is rewritten at a validation step only
    # when this many seconds passed since the previous one, and always at the end or cancel.
    checkpoint_seconds: float = 15.0
    select_best_by: str = "val_loss"
    # BatchNorm running statistics (``norm_stats.py``): "freeze" keeps the starting model's
    # (every batch is normalised with them), "update" lets the batches move them, "auto"
    # keeps them when the starting network already knows the images (its loss on the
    # training patches is below chance) and lets them move when it does not, or when it
    # was never trained (from scratch: they start at 0 and 1).
    norm_statistics: str = "auto"
    augment: AugmentConfig | None = field(default_factory=AugmentConfig)
    seed: int = 0
    resume: bool = True

    def __post_init__(self):
        if isinstance(self.patch_size, list):
            object.__setattr__(self, "patch_size", tuple(self.patch_size))
        if isinstance(self.augment, dict):
            object.__setattr__(self, "augment", AugmentConfig(**self.augment))
        self._validate_budget()
        self._validate_numbers()
        if self.train_layers not in TRAIN_LAYERS:
            raise SettingError("train_layers",
                               f"must be one of {TRAIN_LAYERS}, got {self.train_layers!r}")
        if self.norm_statistics not in NORM_STATISTICS:
            raise SettingError("norm_statistics", f"must be one of {NORM_STATISTICS}, "
                                                  f"got {self.norm_statistics!r}")
        if self.select_best_by not in SELECT_BEST_BY:
            raise ValueError(
                f"select_best_by must be one of {SELECT_BEST_BY}, got {self.select_best_by!r}"
            )

    def _validate_budget(self) -> None:
        if self.max_seconds is None and self.epochs is None and self.max_steps is None:
            raise ValueError("set at least one of max_seconds, epochs and max_steps")
        if self.max_seconds is not None and not self.max_seconds > 0:
            raise SettingError("max_seconds", f"must be > 0, got {self.max_seconds}")
        for name in ("epochs", "max_steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise SettingError(name, f"must be >= 1, got {value}")

    def _validate_numbers(self) -> None:
        sizes = (self.patch_size,) if isinstance(self.patch_size, int) else self.patch_size
        if not 1 <= len(sizes) <= 3:
            raise SettingError("patch_size", f"must be 1 to 3 sizes, got {self.patch_size}")
        if any(int(s) < 8 for s in sizes):  # (one size, as the CLI's flag gives: said plainly)
            raise SettingError("patch_size", f"must be at least 8 pixels, got {self.patch_size}")
        positive = ("batch_size", "learning_rate", "val_every", "boundary_width", "border_sigma")
        for name in positive:  # (written "not > 0" so that NaN is refused too)
            if not getattr(self, name) > 0:
                raise SettingError(name, f"must be > 0, got {getattr(self, name)}")
        non_negative = ("weight_decay", "warmup_steps", "grad_clip", "dice_weight", "border_w0",
                        "checkpoint_seconds")
        for name in non_negative:
            if not getattr(self, name) >= 0:
                raise SettingError(name, f"must be >= 0, got {getattr(self, name)}")
        if not self.changed_weight >= 1:
            raise SettingError("changed_weight", f"must be >= 1, got {self.changed_weight}")
        _check_range("min_lr_ratio", self.min_lr_ratio, 0.0, 1.0)
        _check_range("focus_changed", self.focus_changed, 0.0, 1.0)
        _check_range("focus_objects", self.focus_objects, 0.0, 1.0)
        if self.focus_changed + self.focus_objects > 1.0:
            raise ValueError(
                "focus_changed + focus_objects must be <= 1 (they are shares of the patches), "
                f"got {self.focus_changed} + {self.focus_objects}"
            )
        _check_range("val_fraction", self.val_fraction, 0.0, 0.5)
        _check_range("replay_fraction", self.replay_fraction, 0.0, 0.9)

    def patch_shape(self, spatial_dims: int) -> tuple[int, ...]:
        """Requested patch shape for a network with ``spatial_dims`` axes."""
        if isinstance(self.patch_size, int):
            return (int(self.patch_size),) * spatial_dims
        if len(self.patch_size) != spatial_dims:
            raise ValueError(
                f"patch_size {self.patch_size} has {len(self.patch_size)} axes, the network "
                f"has {spatial_dims}"
            )
        return tuple(int(s) for s in self.patch_size)

    @classmethod
    def for_network(cls, spatial_dims: int, **settings) -> FinetuneConfig:
        """Settings for a network with ``spatial_dims`` spatial axes: ``patch_size`` and
        ``batch_size`` left out (or None) take that rank's defaults (``DEFAULT_PATCH_SIZE``,
        ``DEFAULT_BATCH_SIZE``); the dataclass's own defaults are the 2D ones."""
        if spatial_dims not in DEFAULT_PATCH_SIZE:
            raise ValueError(f"spatial_dims must be one of {sorted(DEFAULT_PATCH_SIZE)}, "
                             f"got {spatial_dims}")
        for name, defaults in (("patch_size", DEFAULT_PATCH_SIZE),
                               ("batch_size", DEFAULT_BATCH_SIZE)):
            if settings.get(name) is None:
                settings[name] = defaults[spatial_dims]
        return cls(**settings)

    def to_dict(self) -> dict:
        """Plain JSON types (tuples become lists), so a JSON round trip compares equal."""
        return _json_ready(asdict(self))

    def fingerprint(self) -> dict:
        """:meth:`to_dict` without settings added later that still hold their old-behaviour
        value (a checkpoint written before they existed then still matches)."""
        data = self.to_dict()
        if isinstance(data.get("augment"), dict):
            data["augment"] = {k: v for k, v in data["augment"].items()
                               if not (k in ADDED_DEFAULTS and v == ADDED_DEFAULTS[k])}
        return {k: v for k, v in data.items()
                if not (k in ADDED_DEFAULTS and v == ADDED_DEFAULTS[k])}

    @classmethod
    def from_dict(cls, data: dict) -> FinetuneConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown FinetuneConfig keys {unknown}; allowed: {sorted(known)}")
        return cls(**data)
