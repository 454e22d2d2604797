"""The fine-tuning loop as a generator: yields progress every step, returns the result.

    gen = iter_finetune(net, examples, FinetuneConfig(max_seconds=60), checkpoint_dir=folder)
    for progress in gen: ...          # a GUI worker thread; progress.loss, .val_metric, ...
    result = finetune(net, examples, config)   # or drain it in one call

Cancel with ``gen.close()`` (between steps): the network then holds the best weights seen
so far and ``checkpoint_dir`` holds ``best.safetensors`` and a resumable ``last.safetensors``.
Calling ``iter_finetune`` again with the same ``checkpoint_dir`` (and ``resume=True``)
continues where the last checkpoint left off - after a cancel or a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence

from unet_studio.models.training.config import FinetuneConfig
from unet_studio.models.training.examples import TrainingExample
from unet_studio.models.training.progress import FinetuneResult, TrainProgress
from unet_studio.models.training.schedule import learning_rate
from unet_studio.models.training.session import Session

log = logging.getLogger(__name__)

STALE_CHOICES = ("raise", "restart")


def _progress(session: Session, loss: float, lr: float, validated: bool,
              improved: bool) -> TrainProgress:
    budget = session.budget
    best = session.best_value
    if best is not None and session.config.select_best_by == "val_metric":
        best = -best
    return TrainProgress(
        step=session.step, epoch=session.step / budget.steps_per_epoch, loss=loss,
        smoothed_loss=session.smoothed if session.smoothed is not None else loss, lr=lr,
        elapsed=session.elapsed, fraction=budget.fraction(session.step, session.elapsed),
        total_steps=budget.total_steps, val_loss=session.latest_val.get("val_loss"),
        val_metric=session.latest_val.get("val_metric"), validated=validated,
        best=best if session.data.val else None, improved=improved,
    )


def _validate(session: Session) -> bool:
    """Measure held-out data, keep the weights if best; True if they are."""
    if session.data.val:
        session.latest_val = session.evaluate()
    return session.track_best(session.latest_val)


def _start(session: Session) -> None:
    """A fresh run: score the starting weights (they are the best until beaten)."""
    session.metrics_before = session.evaluate()
    session.latest_val = dict(session.metrics_before)
    session.track_best(session.metrics_before)


def _train(session: Session) -> Generator[TrainProgress, None, str]:
    """Steps until a budget runs out; returns which one."""
    config = session.config
    while True:
        reason = session.budget.stop_reason(session.step, session.elapsed, config)
        if reason is not None:
            return reason
        lr = learning_rate(config, session.step,
                           session.budget.fraction(session.step, session.elapsed))
        loss = session.train_step(lr)
        session.step += 1
        due = session.step % config.val_every == 0  # validation and checkpoint cadence
        improved = _validate(session) if due else False
        # Without held-out data nothing was measured, even when the cadence came round.
        progress = _progress(session, loss, lr, due and bool(session.data.val), improved)
        session.history.append(progress.to_dict())
        if due:
            session.save_last()
        yield from _pausing(session, progress)


def _pausing(session: Session, progress: TrainProgress):
    """Yield with the clock stopped, so a paused or slow consumer does not use the budget."""
    session.stop_clock()
    yield progress
    session.start_clock()


def iter_finetune(
    net,
    examples: Sequence[TrainingExample],
    config: FinetuneConfig,
    *,
    task=None,
    checkpoint_dir=None,
    replay: Sequence[TrainingExample] = (),
    stale_checkpoint: str = "raise",
) -> Generator[TrainProgress, None, FinetuneResult]:
    """Fine-tune (or train from scratch) ``net`` on corrected ``examples``.

    net: a network following the Networks contract (or any module taking
    ``(B, C, *spatial)``); ``task``: meaning of its outputs (default ``net.task``, else a
    3-class instance task); ``replay``: examples from earlier rounds, mixed into the batches
    at ``config.replay_fraction`` so that a new round does not forget them. Yields a
    :class:`TrainProgress` after every step; returns a :class:`FinetuneResult` whose
    ``net`` (the same object) holds the best weights. A checkpoint in ``checkpoint_dir``
    from another run (other settings, data or network) raises ValueError, or with
    ``stale_checkpoint="restart"`` is ignored (and overwritten): a new round starts.
    """
    if stale_checkpoint not in STALE_CHOICES:
        raise ValueError(f"stale_checkpoint must be one of {STALE_CHOICES}, "
                         f"got {stale_checkpoint!r}")
    session = Session(net, examples, config, task=task, checkpoint_dir=checkpoint_dir,
                      replay=replay)
    if not (config.resume and session.restore(stale=stale_checkpoint)):
        _start(session)
    session.start_clock()
    try:
        stopped = yield from _train(session)
        if session.step % config.val_every != 0:
            last = session.history[-1] if session.history else {"loss": 0.0, "lr": 0.0}
            final = _progress(session, last["loss"], last["lr"], True, _validate(session))
            session.history.append(final.to_dict())
            yield from _pausing(session, final)
    except (GeneratorExit, KeyboardInterrupt) as stop:  # cancelled, or Ctrl-C / SIGTERM
        log.info("fine-tuning %s at step %d; keeping the best weights",
                 "cancelled" if isinstance(stop, GeneratorExit) else "interrupted", session.step)
        session.save_last(force=True)  # (a rerun resumes here, not at the last cadence save)
        session.restore_best()
        raise
    session.save_last(force=True)
    session.restore_best()
    return FinetuneResult(
        net=net, history=session.history, metrics_before=session.metrics_before,
        metrics_after=session.best_metrics, config=config, data_summary=session.data.summary,
        best_step=session.best_step, steps=session.step, elapsed=session.elapsed,
        stopped=stopped, checkpoint_dir=session.checkpoint_dir,
        extra={"patch_shape": list(session.patch_shape), "device": str(session.device)},
    )


def finetune(net, examples, config: FinetuneConfig, **kwargs) -> FinetuneResult:
    """:func:`iter_finetune` run to the end (for scripts and the CLI)."""
    generator = iter_finetune(net, examples, config, **kwargs)
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value
