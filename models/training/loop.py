"""The fine-tuning loop as a generator: yields progress every step, returns the result.

    gen = iter_finetune(net, examples, FinetuneConfig(max_seconds=60), checkpoint_dir=folder)
    for progress in gen: ...          # a GUI worker thread; progress.loss, .val_metric, ...
    result = finetune(net, examples, config)   # or drain it in one call

A time budget (``max_seconds``) is the whole round's wall time, from the call to the
result: the held-out scorings before and after, validations and checkpoints count, and
training stops early enough for what follows its last step (see ``timing.py``). At least
one step is taken. Step and epoch budgets count steps only.

Cancel with ``gen.close()`` (between steps): the network then holds the best weights seen
so far and ``checkpoint_dir`` holds ``best.safetensors`` and a resumable ``last.safetensors``
(when the disk takes them: a checkpoint it refuses does not end the run, which goes on in
memory and says so in ``FinetuneResult.extra["checkpoint_problem"]`` and a log warning).
Calling ``iter_finetune`` again with the same ``checkpoint_dir`` (and ``resume=True``)
continues where the last checkpoint left off - after a cancel or a crash. To end a round
early *with* its result, throw ``FinishEarly(reason)`` into the generator at a report: it
returns the result of the best weights so far (``stopped``: the reason).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Generator, Sequence
from dataclasses import replace

from unet_studio.models.training.config import FinetuneConfig
from unet_studio.models.training.examples import TrainingExample
from unet_studio.models.training.progress import FinetuneResult, FinishEarly, TrainProgress
from unet_studio.models.training.schedule import learning_rate
from unet_studio.models.training.session import Session

log = logging.getLogger(__name__)

STALE_CHOICES = ("raise", "restart", "weights")


def _progress(session: Session, loss: float, lr: float, validated: bool,
              improved: bool, *, final: bool = False) -> TrainProgress:
    """``final``: the round's last report (after its last scoring): all of the budget used."""
    budget = session.budget
    best = session.best_value
    if best is not None and session.config.select_best_by == "val_metric":
        best = -best
    elapsed = session.elapsed
    remaining = None if budget.max_seconds is None else max(0.0, budget.max_seconds - elapsed)
    return TrainProgress(
        step=session.step, epoch=session.step / budget.steps_per_epoch, loss=loss,
        smoothed_loss=session.smoothed if session.smoothed is not None else loss, lr=lr,
        elapsed=elapsed, fraction=1.0 if final else budget.fraction(session.step, elapsed),
        total_steps=budget.total_steps, val_loss=session.latest_val.get("val_loss"),
        val_metric=session.latest_val.get("val_metric"), validated=validated,
        best=best if session.data.val else None, improved=improved, remaining=remaining,
    )


def _validate(session: Session) -> bool:
    """Measure held-out data, keep the weights if best; True if they are."""
    if session.data.val:
        session.latest_val = session.evaluate()
    session.validated_step = session.step
    return session.track_best(session.latest_val)


def _start(session: Session) -> None:
    """A fresh run: score the starting weights (they are the best until beaten)."""
    session.metrics_before = session.score_before()
    session.latest_val = dict(session.metrics_before)
    session.track_best(session.metrics_before)
    session.choose_norm_statistics()
    session.train_started = session.elapsed


def _stop_reason(session: Session) -> str | None:
    """Why training ends before another step, or None. Under a time budget the next step
    must leave time for the end of the round (its last scoring and save); a fresh run
    takes one step whatever its budget."""
    if session.step == 0:
        return None
    return session.budget.stop_reason(session.step, session.elapsed, session.config,
                                      ahead=session.plan.ahead())


def _train(session: Session) -> Generator[TrainProgress, None, str]:
    """Steps until a budget runs out; returns which one."""
    config = session.config
    reason = _stop_reason(session)
    told = session.checkpoint_problem  # (said once, by the report of the step it refused)
    while reason is None:
        fraction = session.budget.schedule_fraction(
            session.step, session.elapsed, started=session.train_started,
            reserve=session.plan.reserve())
        lr = learning_rate(config, session.step, fraction)
        started = time.monotonic()
        loss = session.train_step(lr)
        session.plan.record_step(time.monotonic() - started)
        session.step += 1
        due = session.step % config.val_every == 0  # validation and checkpoint cadence
        # (under a time budget a validation due too soon after the last one is skipped)
        measure = due and (not session.data.val or session.validation_worth_it())
        improved = _validate(session) if measure else False
        reason = _stop_reason(session)
        # Without held-out data nothing was measured, even when the cadence came round.
        progress = _progress(session, loss, lr, measure and bool(session.data.val), improved,
                             final=reason is not None and session.validated_step == session.step)
        session.history.append(progress.to_dict())
        if due:
            session.save_last()
        if session.checkpoint_problem is not told:  # (not in ``history``: said, not measured)
            told = session.checkpoint_problem
            progress = replace(progress, notice=told)
        yield from _pausing(session, progress)
    return reason


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
    started: float | None = None,
    more_time_on_resume: bool = False,
    report_start: bool = False,
) -> Generator[TrainProgress, None, FinetuneResult]:
    """Fine-tune (or train from scratch) ``net`` on corrected ``examples``.

    net: a network following the Networks contract (or any module taking
    ``(B, C, *spatial)``); ``task``: meaning of its outputs (default ``net.task``, else a
    3-class instance task); ``replay``: examples from earlier rounds, mixed into the batches
    at ``config.replay_fraction`` so that a new round does not forget them. Yields a
    :class:`TrainProgress` after every step; returns a :class:`FinetuneResult` whose
    ``net`` (the same object) holds the best weights. A checkpoint in ``checkpoint_dir``
    from another run (other settings, data or network) raises ValueError, or with
    ``stale_checkpoint="restart"`` is ignored (and overwritten): a new round starts;
    with ``"weights"`` a new round starts from its weights (when they fit ``net``).
    ``started``: the ``time.monotonic()`` at which the round began, when the caller's own
    preparation (loading the model and the data) is to count against ``config.max_seconds``
    too; by default the round begins here. A resumed run's time budget is the whole run's,
    its earlier part included; with ``more_time_on_resume`` it gets ``config.max_seconds``
    (and its steps or epochs) more instead (a user who stopped a round and trains again for
    "20 s" means 20 s more; one whose round from an untrained network kept its checkpoint,
    having beaten nothing yet, trains it "3 epochs" more).
    ``report_start``: a fresh run with held-out data first yields a step-0 report (the
    starting weights' held-out scores, no training loss: NaN) as soon as they are scored,
    before the first step: on a CPU one step of a 3D network takes tens of seconds, and a
    GUI that heard nothing until the first step ended said "scoring before training" through
    all of it. (Not in ``history``: no step was taken.)
    """
    if stale_checkpoint not in STALE_CHOICES:
        raise ValueError(f"stale_checkpoint must be one of {STALE_CHOICES}, "
                         f"got {stale_checkpoint!r}")
    started = time.monotonic() if started is None else started
    session = Session(net, examples, config, task=task, checkpoint_dir=checkpoint_dir,
                      replay=replay)
    session.start_clock(at=started)
    fresh = not (config.resume and session.restore(stale=stale_checkpoint))
    # (what the resumed run had done before this call: the clock has not been stopped yet,
    # so ``elapsed_before`` is the checkpoint's seconds, this call's not added to them)
    resumed_at, carried_seconds = (None, 0.0) if fresh else (session.step, session.elapsed_before)
    if fresh:
        _start(session)
    elif more_time_on_resume:
        session.budget = session.budget.on_top(resumed_at, carried_seconds)
    try:
        if fresh and report_start and session.data.val:  # (a cancel here still cleans up)
            yield from _pausing(session, _progress(session, math.nan, 0.0, True, False))
        stopped = yield from _train(session)
        if session.validated_step != session.step:  # the "after" scoring
            last = session.history[-1] if session.history else {"loss": 0.0, "lr": 0.0}
            final = _progress(session, last["loss"], last["lr"], True, _validate(session),
                              final=True)
            session.history.append(final.to_dict())
            yield from _pausing(session, final)
    except FinishEarly as early:  # (thrown at a report: the round ends there, with a result)
        log.info("fine-tuning finished early at step %d (%s)", session.step, early.reason)
        stopped = early.reason
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
        resumed_at=resumed_at, elapsed_before=carried_seconds,
        extra={"patch_shape": list(session.patch_shape), "device": str(session.device),
               "carried_steps": session.carried_steps,
               **session.held_out.summary(), **session.norm_statistics_summary(),
               **session.polarity_summary(), **_checkpoint_summary(session)},
    )


def _checkpoint_summary(session: Session) -> dict:
    """``checkpoint_problem``: the first checkpoint the disk refused, in words, for the
    caller to show (absent when every one was written)."""
    if session.checkpoint_problem is None:
        return {}
    return {"checkpoint_problem": session.checkpoint_problem}


def finetune(net, examples, config: FinetuneConfig, **kwargs) -> FinetuneResult:
    """:func:`iter_finetune` run to the end (for scripts and the CLI)."""
    generator = iter_finetune(net, examples, config, **kwargs)
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value
