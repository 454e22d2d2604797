"""One fine-tuning run's state: data, optimiser, clock, best weights.

``iter_finetune`` (loop.py) drives a :class:`Session` step by step; everything a resumed run
needs goes through :meth:`Session.save_last` / :meth:`Session.restore`
(``session_checkpoints.py``).
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import numpy as np
import torch

from unet_studio.models.devices import autocast_dtype, resolve_device
from unet_studio.models.task import TaskSpec
from unet_studio.models.training.augment import augment_batch
from unet_studio.models.training.harvest import harvest
from unet_studio.models.training.held_out import HeldOut
from unet_studio.models.training.losses import center_crop, training_loss
from unet_studio.models.training.norm_stats import (
    fixed_choice,
    knows_the_images,
    probes_familiarity,
    set_train_mode,
    starting_loss,
)
from unet_studio.models.training.polarity import decide_polarity
from unet_studio.models.training.ranking import ranked_keys, ranks_better
from unet_studio.models.training.sampler import PatchSampler
from unet_studio.models.training.schedule import Budget, frozen_modules, make_optimizer
from unet_studio.models.training.session_checkpoints import Checkpoints
from unet_studio.models.training.targets import BOUNDARY
from unet_studio.models.training.timing import TimePlan
from unet_studio.models.training.zoom import zoom_patches

log = logging.getLogger(__name__)

def net_geometry(net: torch.nn.Module) -> tuple[int, int, int]:
    """(spatial_dims, in_channels, out_channels), from the network contract's attributes or,
    for a plain module, from its first and last convolution."""
    if all(hasattr(net, a) for a in ("spatial_dims", "in_channels", "out_channels")):
        return int(net.spatial_dims), int(net.in_channels), int(net.out_channels)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.modules.conv._ConvNd)]
    if not convs:
        raise ValueError(f"cannot tell the geometry of {type(net).__name__}: no convolution")
    return len(convs[0].kernel_size), convs[0].in_channels, convs[-1].out_channels


def resolve_task(net, task: TaskSpec | None, spatial_dims: int, out_channels: int) -> TaskSpec:
    """``task``, else the network's own, else the default for its outputs (3: instance)."""
    from types import SimpleNamespace

    from unet_studio.models.weights import default_task

    geometry = SimpleNamespace(spatial_dims=spatial_dims, out_channels=out_channels)
    task = task or getattr(net, "task", None) or default_task(geometry)
    if task.out_channels != out_channels:
        raise ValueError(
            f"the network has {out_channels} output channels but the {task.kind} task needs "
            f"{task.out_channels} ({', '.join(task.class_names)})"
        )
    return task


def _check_ranks(examples, spatial_dims: int) -> None:
    """A network learns from examples of its own rank or more (a Z stack for a 2D network is
    learned slice by slice): a 2D example for a 3D network is refused, naming it (it failed
    deep in the patch sampler with an IndexError)."""
    for example in examples:
        if example.labels.ndim < spatial_dims:
            name = getattr(example, "name", "") or "an example"
            raise ValueError(f"{name}: {example.labels.ndim}D labels cannot train a "
                             f"{spatial_dims}D network; fine-tune a {example.labels.ndim}D "
                             "model on them")  # fmt: skip


def choose_patch_shape(net, requested, examples, spatial_dims) -> tuple[int, ...]:
    """The requested patch, no larger than the data, rounded up to a shape the net accepts."""
    extent = [max(e.labels.shape[-spatial_dims:][a] for e in examples) for a in range(spatial_dims)]
    shape = tuple(min(r, max(n, 8)) for r, n in zip(requested, extent))
    if hasattr(net, "valid_input_shape"):
        shape = tuple(net.valid_input_shape(shape))
    return shape


# The share of a round's time budget the BatchNorm familiarity probe may take (its first
# batch whatever it costs; the time plan counts only scoring and steps).
PROBE_SHARE = 0.05


class Session(Checkpoints):
    """Everything one run holds. Build it, then ``restore()`` or ``start()``."""

    def __init__(self, net, examples, config, *, task=None, checkpoint_dir=None, replay=()):
        if not examples:
            raise ValueError("no training examples given")
        self.net, self.config = net, config
        self.device = resolve_device(config.device)
        self.amp_dtype = autocast_dtype(self.device, config.amp)
        dims, in_channels, out_channels = net_geometry(net)
        _check_ranks(examples, dims)
        self.task, self.polarity = decide_polarity(
            examples, resolve_task(net, task, dims, out_channels), in_channels)
        self.patch_shape = choose_patch_shape(net, config.patch_shape(dims), examples, dims)
        self.out_shape = (tuple(net.output_shape(self.patch_shape))
                          if hasattr(net, "output_shape") else self.patch_shape)
        self.data = harvest(examples, spatial_dims=dims, in_channels=in_channels, task=self.task,
                            config=config, patch_shape=self.patch_shape,
                            rng=np.random.default_rng(config.seed), replay=replay)
        self.rng = np.random.default_rng([config.seed, 1])
        self.sampler = self._sampler(self.rng)
        self.generator = torch.Generator().manual_seed(config.seed)
        net.to(self.device)
        self.frozen = frozen_modules(net, config)
        # (with "auto" on a trained network chosen when the run starts, and kept with it)
        self.freeze_norm_stats = fixed_choice(config)
        self.start_loss: float | None = None
        self.optimizer = make_optimizer(net, self.frozen, config)
        self.scaler = torch.amp.GradScaler(self.device.type,
                                           enabled=self.amp_dtype == torch.float16)
        patch_pixels = math.prod(self.out_shape) * config.batch_size
        steps_per_epoch = max(1, math.ceil(self.data.summary["train_pixels"] / patch_pixels))
        self.budget = Budget.from_config(config, steps_per_epoch)
        self.checkpoint_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self.step, self.elapsed_before, self.history = 0, 0.0, []
        # Steps of earlier runs whose weights this one started from (stale_checkpoint=
        # "weights": a network trained from scratch over rounds on data that grow).
        self.carried_steps = 0
        self.smoothed: float | None = None
        self.best_value: float | None = None
        self.best_step, self.best_weights, self.best_metrics = 0, None, {}
        self.metrics_before: dict = {}
        self.latest_val: dict = {}
        self.plan = TimePlan()
        self.held_out = HeldOut(self.data.val, config, self.plan)
        self.train_started = 0.0  # seconds into the round of the first step
        self.scored_at = 0.0  # seconds into the round when the last scoring ended
        self.validated_step = 0  # the last step whose weights were scored (or due, without val)
        self._clock_start: float | None = None
        self._last_save = -math.inf
        # The first checkpoint write the disk refused, in words (None: none was refused);
        # the run went on in memory (``session_checkpoints.UNWRITABLE``).
        self.checkpoint_problem: str | None = None
        self._checkpoint_failing = False
        if self.polarity is not None:  # (the model saved from ``net`` carries the flip)
            log.info("objects %.3f, background %.3f (median normalised intensities): "
                     "invert_intensity=%s", self.polarity["objects"],
                     self.polarity["background"], self.task.invert_intensity)
            net.task = self.task

    def _sampler(self, rng: np.random.Generator) -> PatchSampler:
        config = self.config
        return PatchSampler(self.data, self.patch_shape, rng=rng,
                            replay_fraction=config.replay_fraction,
                            focus_changed=config.focus_changed, focus_objects=config.focus_objects)

    # -- clock -------------------------------------------------------------------------
    # The clock runs from the start of the round (``at``: a time.monotonic() value, when
    # the caller's own preparation counts too) to its end, scorings and saves included. Only
    # time spent working counts against the budget: while the caller holds a yielded
    # progress (plotting it, or paused) the clock stands still.
    def start_clock(self, at: float | None = None) -> None:
        self._clock_start = time.monotonic() if at is None else at

    def stop_clock(self) -> None:
        if self._clock_start is not None:
            self.elapsed_before += time.monotonic() - self._clock_start
            self._clock_start = None

    @property
    def elapsed(self) -> float:
        running = 0.0 if self._clock_start is None else time.monotonic() - self._clock_start
        return self.elapsed_before + running

    # -- training ----------------------------------------------------------------------
    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32,
                              enabled=self.amp_dtype is not None)

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """A training batch on the device, zoomed when the augmentation asks for it."""
        augment, batch = self.config.augment, self.config.batch_size
        if augment is None or not augment.zooms:
            return tuple(torch.from_numpy(a).to(self.device) for a in self.sampler.sample(batch))
        image, target, weight, zooms, offsets = (
            torch.from_numpy(a).to(self.device)
            for a in self.sampler.sample_zoomed(batch, augment))
        thin = BOUNDARY if self.task.kind == "instance" else None
        return zoom_patches(image, target, weight, zooms, offsets, self.patch_shape,
                            thin_class=thin)

    def train_step(self, lr: float) -> float:
        """One optimiser step on a fresh augmented batch; returns the batch loss."""
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        image, target, weight = self._batch()
        if self.config.augment is not None:
            image, target, weight = augment_batch(image, target, weight, self.config.augment,
                                                  self.generator)
        target, weight = center_crop(target, self.out_shape), center_crop(weight, self.out_shape)
        set_train_mode(self.net, self.frozen, freeze_norm_stats=self.freeze_norm_stats)
        with self._autocast():
            outputs = self.net(image)
        loss = training_loss(outputs, target, weight, dice_weight=self.config.dice_weight)
        self.optimizer.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            log.warning("step %d: loss is %s, skipping the update", self.step, float(loss))
            return float("nan")
        self.scaler.scale(loss).backward()
        if self.config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            torch.nn.utils.clip_grad_norm_(params, self.config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        value = float(loss.detach())
        self.smoothed = value if self.smoothed is None else 0.9 * self.smoothed + 0.1 * value
        return value

    def choose_norm_statistics(self) -> None:
        """Before the first step of a fresh run: hold the BatchNorm statistics still or let
        the batches move them (``norm_stats.py``). With "auto" on a trained network, held
        when it already knows the images: its loss on training patches is below chance."""
        if not probes_familiarity(self.net, self.config):
            return
        # (patches drawn apart from the training's own random stream)
        probe = self._sampler(np.random.default_rng([self.config.seed, 2]))
        budget = self.config.max_seconds  # (a small share of a time budget: see PROBE_SHARE)
        self.start_loss = starting_loss(self.net, probe, self.out_shape, config=self.config,
                                        device=self.device, autocast=self._autocast,
                                        seconds=None if budget is None else PROBE_SHARE * budget)
        self.freeze_norm_stats = knows_the_images(self.start_loss, self.task.out_channels)
        log.info("starting loss on training patches %.3f: BatchNorm statistics %s",
                 self.start_loss, "held" if self.freeze_norm_stats else "updated")

    def polarity_summary(self) -> dict:
        """``intensity_polarity``: the round's flip of ``invert_intensity`` and the medians
        that decided it (``polarity.decide_polarity``); else ``input_inverted`` when it kept
        the starting model's inversion; {} for a model taking the image as it is."""
        from unet_studio.models.training.polarity import INHERITED_KEY

        if self.polarity is not None:
            return {"intensity_polarity": dict(self.polarity)}
        return {INHERITED_KEY: True} if self.task.invert_intensity else {}

    def norm_statistics_summary(self) -> dict:
        """What the round did with the BatchNorm statistics, for the result and model card."""
        return {"norm_statistics": "held" if self.freeze_norm_stats else "updated",
                "starting_loss": self.start_loss}

    def evaluate(self) -> dict:
        """Held-out metrics of the current weights over the crops scored ({} without any)."""
        metrics = self.held_out.score(self.net, **self._scoring_options())
        self.scored_at = self.elapsed
        return metrics

    def score_before(self) -> dict:
        """Held-out metrics of the starting weights; under a time budget over the crops that
        fit its scoring share (``held_out.HeldOut``), which every later scoring uses."""
        metrics = self.held_out.score_before(self.net, **self._scoring_options())
        self.scored_at = self.elapsed
        return metrics

    def _scoring_options(self) -> dict:
        return {"task": self.task, "device": self.device, "autocast_dtype": self.amp_dtype}

    def validation_worth_it(self) -> bool:
        """Should a validation that falls due now run? Always, without a time budget; with
        one, when it keeps validations to ``timing.VALIDATION_SHARE`` of the training."""
        if self.config.max_seconds is None:
            return True
        return self.plan.validation_worth_it(self.elapsed - self.scored_at)

    def _score(self, metrics: dict) -> float | None:
        """Lower is better: the val loss, or minus the val metric."""
        if self.config.select_best_by == "val_metric" and "val_metric" in metrics:
            return -metrics["val_metric"]
        return metrics.get("val_loss")

    def track_best(self, metrics: dict) -> bool:
        """Remember the weights if ``metrics`` beat the best so far (always, without val),
        by the rule of the round's verdict (``ranking``): the held-out score, on a tie F1 at
        IoU 0.75, then the mean IoU of matched objects, then the held-out loss, each only
        beyond its margin (on images new to a model its F1 stays 0 for many steps while the
        loss falls: by the score alone the starting weights were kept as "best" through all
        of them, and a round's model was a copy of its parent). A step that ties the best
        within the margins does not replace it: a round whose every step ties its start
        keeps the starting weights, as its verdict would call none of them better."""
        by = self.config.select_best_by
        if self.best_value is not None and ranked_keys(metrics, by) \
                and not ranks_better(metrics, self.best_metrics, by):
            return False
        self.best_step, self.best_metrics = self.step, dict(metrics)
        self.best_value = self._score(metrics)  # (what progress reports show as "best")
        self.best_weights = {k: v.detach().clone() for k, v in self.net.state_dict().items()}
        return True

    def restore_best(self) -> None:
        if self.best_weights is not None:
            self.net.load_state_dict(self.best_weights)
