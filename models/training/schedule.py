"""Budget, learning-rate schedule and which layers train.

The schedule runs on *budget used* (0..1), the larger of steps done / step budget and
training seconds spent / training seconds available, so a cosine decay reaches its end when
training has to stop for a time budget ("60 s"), however fast the machine is. A time budget
is the whole round's wall time: what training may use of it is worked out in ``timing.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from unet_studio.models.training.config import FinetuneConfig
from unet_studio.models.training.timing import training_fraction


@dataclass(frozen=True)
class Budget:
    """When to stop: ``total_steps`` (None: time only) and ``max_seconds`` (None: steps only),
    counted from the start of the run; ``steps_before``/``seconds_before``: what the run it
    resumes had used when this budget was given on top of it (:meth:`on_top`)."""

    total_steps: int | None
    max_seconds: float | None
    steps_per_epoch: int
    steps_before: int = 0
    seconds_before: float = 0.0

    @classmethod
    def from_config(cls, config: FinetuneConfig, steps_per_epoch: int) -> Budget:
        limits = []
        if config.epochs is not None:
            limits.append(config.epochs * steps_per_epoch)
        if config.max_steps is not None:
            limits.append(config.max_steps)
        return cls(min(limits) if limits else None, config.max_seconds, steps_per_epoch)

    def on_top(self, steps: int, seconds: float) -> Budget:
        """This budget after ``steps`` steps and ``seconds`` already spent by the run it
        resumes: as much again (a round finished or stopped, then trained again for "60 s"
        or "3 epochs", means that much more, not what was left of the first)."""
        return replace(self,
                       total_steps=None if self.total_steps is None else self.total_steps + steps,
                       max_seconds=None if not self.max_seconds else self.max_seconds + seconds,
                       steps_before=steps, seconds_before=seconds)

    def fraction(self, step: int, elapsed: float) -> float:
        """Share of the budget used after ``step`` steps and ``elapsed`` seconds of the run,
        0..1 (what a progress bar shows): of a budget given on top, the share of that budget
        (a resumed round's bar started half full, its earlier part counted in)."""
        used = 0.0
        if self.total_steps:
            used = _share(step - self.steps_before, self.total_steps - self.steps_before)
        if self.max_seconds:
            used = max(used, _share(elapsed - self.seconds_before,
                                    self.max_seconds - self.seconds_before))
        return min(used, 1.0)

    def schedule_fraction(self, step: int, elapsed: float, *, started: float,
                          reserve: float) -> float:
        """Share of the *training* budget used, 0..1, for the learning-rate schedule: by
        steps, and by the seconds between the first step (``started`` into the round) and
        the moment training must stop to leave ``reserve`` seconds for the end."""
        used = step / self.total_steps if self.total_steps else 0.0
        if self.max_seconds:
            used = max(used, training_fraction(elapsed, started=started,
                                               max_seconds=self.max_seconds, reserve=reserve))
        return min(used, 1.0)

    def stop_reason(self, step: int, elapsed: float, config: FinetuneConfig, *,
                    ahead: float = 0.0) -> str | None:
        """Why no further step is taken, or None. ``ahead``: seconds the next step and the
        end of the round (last scoring, last save) are expected to take: under a time
        budget the step is not started when they would not fit."""
        if self.max_seconds is not None and elapsed + ahead >= self.max_seconds:
            return "max_seconds"
        if self.total_steps is not None and step >= self.total_steps:
            # (the smaller of the two limits made the budget: a resumed run's is moved on)
            by_epochs = config.epochs is not None and (
                config.max_steps is None or config.epochs * self.steps_per_epoch <= config.max_steps)
            return "epochs" if by_epochs else "max_steps"
        return None


def learning_rate(config: FinetuneConfig, step: int, fraction: float) -> float:
    """Linear warm-up over ``warmup_steps``, then cosine decay to ``min_lr_ratio`` x base."""
    warm = min(1.0, (step + 1) / (config.warmup_steps + 1))
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(max(fraction, 0.0), 1.0)))
    ratio = config.min_lr_ratio + (1.0 - config.min_lr_ratio) * cosine
    return config.learning_rate * warm * ratio


def encoder_of(net: torch.nn.Module) -> torch.nn.Module | list[torch.nn.Module]:
    """The part frozen by ``train_layers="decoder"``: ``net.encoder`` (ResNet-encoder nets
    and any net that names it), else the down path a plain U-Net publishes."""
    encoder = getattr(net, "encoder", None)
    if isinstance(encoder, torch.nn.Module):
        return encoder
    for name in ("down_path", "down_blocks", "encoder_blocks", "downs"):
        part = getattr(net, name, None)
        if isinstance(part, torch.nn.Module):
            return part
    raise ValueError(
        f"train_layers='decoder' needs a network with an encoder; {type(net).__name__} has "
        "none that unet-studio recognises, use train_layers='all'"
    )


def frozen_modules(net: torch.nn.Module, config: FinetuneConfig) -> list[torch.nn.Module]:
    """Modules whose parameters do not train (and whose norm statistics stay fixed)."""
    if config.train_layers == "all":
        return []
    encoder = encoder_of(net)
    return encoder if isinstance(encoder, list) else [encoder]


def make_optimizer(net: torch.nn.Module, frozen, config: FinetuneConfig) -> torch.optim.AdamW:
    """AdamW over the trainable parameters; norm weights and biases get no weight decay."""
    frozen_ids = {id(p) for module in frozen for p in module.parameters()}
    decay, no_decay = [], []
    for parameter in net.parameters():
        if id(parameter) in frozen_ids:
            parameter.requires_grad_(False)
            continue
        parameter.requires_grad_(True)
        (no_decay if parameter.ndim <= 1 else decay).append(parameter)
    if not decay and not no_decay:
        raise ValueError("nothing to train: every parameter is frozen")
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def _share(used: float, budget: float) -> float:
    """``used`` of ``budget``, 0..1 (a used-up budget: 1)."""
    return 1.0 if budget <= 0 else min(max(used / budget, 0.0), 1.0)
