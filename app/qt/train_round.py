"""One fine-tuning round: what the panel tracks of it (:class:`TrainRound`), the generator
that trains it in a worker thread, where it checkpoints, and saving its model folder with
its lineage. Apart from ``train_logic`` (the data to learn from and the verdict) because
this is the round's own life, from the start to a saved model.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from unet_studio.app.atomic import naming_output
from unet_studio.app.model_checks import is_untrained
from unet_studio.app.model_names import first_free_folder
from unet_studio.app.project_images import safe_name
from unet_studio.app.qt.train_finish import finishing_early
from unet_studio.app.qt.train_pace import scratch_metadata
from unet_studio.app.qt.train_preparation import iter_read_examples
from unet_studio.app.round_checkpoints import TRAINING_DIR, checkpoint_folder_name
from unet_studio.models.files import TEMP_PREFIX, bounded_name

# A round's last checkpoint (``models.training.checkpoint.LAST``, not imported: torch is)
LAST_CHECKPOINT = "last.safetensors"


@dataclass
class TrainRound:
    """One fine-tuning round as the panel tracks it."""

    parent: object  # ModelInfo of the starting model
    pending: list  # PendingExamples, read into ``examples`` when the round starts
    checkpoint_dir: Path | None
    examples: list = field(default_factory=list)  # TrainingExamples
    result: object = None  # FinetuneResult once finished
    saved: Path | None = None  # the new model folder
    history: list = field(default_factory=list)
    project: object = None  # the project open when the round started (its data's)
    number: int = 0  # the panel's count of rounds, for the user ("round 2")
    finish: threading.Event = field(default_factory=threading.Event)  # stop early, keep it
    discarded: bool = False  # finished with its starting weights best: no model made
    resumed_at: int = 0  # the step a stopped round was resumed at (0: a fresh round)
    checkpoint_problem: str | None = None  # the first checkpoint the disk refused, in words
    # When the round was saved (ISO date), for a round read back from the project's history
    # still waiting for its verdict (``train_waiting``); None: trained in this session.
    recorded: str | None = None

    def project_now(self, session):
        """The round's project while it is still the one open, else None: a round whose
        project was closed meanwhile goes to the user's models, never into another project
        (with another project's data in its lineage and replay)."""
        return self.project if self.project is not None and session.project is self.project else None

    def follow_rename(self, old, new) -> None:
        """A model of this round was renamed (ModelInfos before and after): the round starts
        from, or made, the model under its new name (its checkpoints were renamed along)."""
        if _same_path(self.parent.path, old.path):
            self.parent = new
            if self.checkpoint_dir is not None and self.project is not None:
                self.checkpoint_dir = checkpoint_dir_for(self.project, new)
        if self.saved is not None and _same_path(self.saved, old.path):
            self.saved = Path(new.path)


def ready_text(info, waiting: TrainRound | None, project=None) -> str:
    """The Train panel's status once another model (``info``, or None) became current while
    the round ``waiting`` awaited a verdict (None: no round waited). An untrained model's
    next round in ``project`` (the one open) goes on from the steps its earlier rounds kept
    (``carried_steps``), which it says: "untrained" alone read as starting from nothing."""
    if info is None:
        text = "No model to train."
    elif is_untrained(getattr(info, "metadata", None)):  # (nothing to fine-tune yet)
        kept = steps_kept(project, info)
        text = f"Ready to train {info.name} (untrained: random weights)."
        if kept:
            plural = "" if kept == 1 else "s"
            text = (f"Ready to train {info.name}: the round continues from {kept} "
                    f"step{plural} already trained.")
    else:
        text = f"Ready to fine-tune {info.name}."
    return text + set_aside_text(waiting)


def set_aside_text(waiting: TrainRound | None) -> str:
    """What became of the round ``waiting`` for a verdict once another model was made
    current (by the Models panel, or Roll back); "" when no round waited."""
    if waiting is None:
        return ""
    parent = waiting.parent.name
    if waiting.saved is None:  # (its save failed: only the model's memory held it)
        return f" The model fine-tuned from {parent} could not be saved and is dropped."
    # (saved with its lineage: nothing of the round is lost)
    return (f" The model fine-tuned from {parent} stays saved as {waiting.saved.name}: "
            "choose it in the Models panel to use it.")


def steps_kept(project, parent) -> int:
    """How many steps the rounds from ``parent`` trained in ``project`` that its next round
    goes on from: those of the checkpoint it left (``models.training``: ``step``, plus the
    ``carried_steps`` it went on from in turn). 0 when there is none. Reads the checkpoint's
    header only (no torch, no weights)."""
    folder = checkpoint_dir_for(project, parent) if parent is not None else None
    return steps_in_checkpoint(folder)


def steps_in_checkpoint(folder: Path | None) -> int:
    """The steps the last checkpoint in ``folder`` holds (its ``step`` and the
    ``carried_steps`` it went on from); 0 when there is none (or it is damaged)."""
    import json

    from unet_studio.app.errors import InputFileError
    from unet_studio.app.weights_header import check_safetensors_header

    if folder is None or not (folder / LAST_CHECKPOINT).is_file():
        return 0
    try:
        header = check_safetensors_header(folder / LAST_CHECKPOINT)
        document = json.loads(header.get("__metadata__", {}).get("unet_studio", "{}"))
        return int(document.get("step", 0)) + int(document.get("carried_steps", 0))
    except (InputFileError, ValueError, TypeError, AttributeError):  # (damaged: a new round says so)
        return 0


def training_verb(info) -> str:
    """"Training" an untrained model (random weights: nothing to fine-tune), else
    "Fine-tuning", for the status while a round runs."""
    return "Training" if is_untrained(getattr(info, "metadata", None)) else "Fine-tuning"


def _same_path(path, other) -> bool:
    return Path(path).resolve() == Path(other).resolve()


def iter_train(round_: TrainRound, config, library, replay=()):
    """Read the data, load the starting model and fine-tune it; yields ``Preparing``
    reports, then TrainProgress; returns the FinetuneResult. Runs in a worker thread (no
    widget, layer or session access)."""
    import time

    from unet_studio.models.training import iter_finetune

    started = time.monotonic()  # (the time budget is the round's, reading and loading too)
    # Finding the reviewed boxes and reading pixels (a big stack's percentile pass) happens
    # here, in the worker, not at the click; reported as it goes, cancelled between blocks.
    round_.examples = yield from iter_read_examples(round_.pending, config.max_seconds, started)
    net = library.load(round_.parent.path, device="cpu")
    # A cancelled round resumes when its data are unchanged; after more corrections (other
    # data) its checkpoint is stale and a new round starts instead of refusing to train:
    # from the stale round's weights when the network was built untrained (its short rounds
    # add up while the user goes on annotating), else from the model's.
    from unet_studio.app.model_checks import is_untrained

    stale = "weights" if is_untrained(getattr(round_.parent, "metadata", None)) else "restart"
    inner = iter_finetune(
        net, round_.examples, config, task=getattr(net, "task", None),
        checkpoint_dir=round_.checkpoint_dir, replay=replay, stale_checkpoint=stale,
        started=started, more_time_on_resume=True,  # (the budget typed now is for this click)
        report_start=True,  # (the status says when the scoring before ends and step 1 begins)
    )  # fmt: skip
    # (``round_.finish``: the window closes and the user chose to keep what it learnt)
    return (yield from with_before_point(finishing_early(inner, round_.finish)))


def with_before_point(inner):
    """``inner``'s reports, the first one of a fresh round preceded by a step-0 report that
    carries the starting weights' held-out loss and score as a validation (the loss plot
    draws only validated held-out points, so that curve started as a stub at the first
    validation). It has no training loss (NaN, which the plot leaves out). An ``inner``
    that reports step 0 itself (``iter_finetune(report_start=True)``, as soon as the scoring
    ends rather than after the first step) is passed through as it is."""
    import math
    from dataclasses import replace

    first = True
    try:
        while True:
            try:
                progress = inner.send(None)
            except StopIteration as stop:
                return stop.value
            if first and progress.step == 1 and not progress.validated \
                    and progress.val_loss is not None:
                yield replace(progress, step=0, epoch=0.0, validated=True,  # (the bar stays)
                              improved=False, loss=math.nan, smoothed_loss=math.nan)
            first = False
            yield progress
    finally:
        inner.close()  # (a cancel closes this generator: the engine's cleanup runs now)


def checkpoint_dir_for(project, parent) -> Path | None:
    """Where the round from ``parent`` checkpoints: stable, so a crashed run resumes. None
    without a project, or when its folder was moved out of sight or deleted (a round then
    trains without checkpoints, rather than rebuild a half project at the old path), or
    while another window writes the project (``read_only``): a round from the same model
    there checkpoints into that very folder, and the two would overwrite and resume each
    other's checkpoints (nor may this window remove or rename that window's)."""
    if project is None or project.read_only:
        return None
    safe = checkpoint_folder_name(parent.source, parent.path.name)
    try:
        return project.check_folder() / TRAINING_DIR / safe
    except OSError:  # (FolderGone: the project's saving says so already)
        return None


def parent_record(info) -> dict:
    """The lineage's ``parent`` for a ModelInfo: a ref the library resolves (a folder chosen
    by path is referred to by that path), its name and where it was."""
    return {"ref": info.lasting_ref, "name": info.name, "path": str(info.path)}


def save_round(session, round_: TrainRound) -> Path:
    """Save the fine-tuned network as a standalone model folder with its lineage (config,
    parent, data summary, metrics, date, card): in the models of the round's project while
    that is still the one open (and logged in its history), else in the user's models.
    Clears the round's checkpoints (the model folder now holds the result)."""
    from unet_studio.models.training.lineage import lineage_metadata

    result, parent = round_.result, round_.parent
    stamp = datetime.now(timezone.utc)
    name = round_name(parent.name, stamp)
    project = round_.project_now(session)
    # (a project folder that cannot be written keeps its work in memory: the model, which
    # is not kept so, goes to the user's models, where a closed project's rounds go too)
    if project is not None and project.unwritable is None:
        folder = project.new_model_dir(name)
    else:
        folder = first_free_folder(session.library.folders["user"], name)
    metadata = lineage_metadata(result, name=name, parent=parent_record(parent),
                                data_files=[e.name for e in round_.examples],
                                date=stamp.isoformat(timespec="seconds"))
    # (a round from an untrained network: how far from random weights, for the next verdict)
    metadata.update(scratch_metadata(getattr(parent, "metadata", None), result.steps))
    _write_model(result.net, folder, metadata)
    saved = folder
    round_.saved = Path(saved)
    clear_checkpoints(round_)
    if project is not None:
        # (what the round's verdict rests on, unrounded: a round still waiting when the app
        # closes comes back from this entry with the same verdict, ``train_waiting``)
        project.log("fine-tune", model=str(saved), parent=metadata["parent"]["ref"],
                    metrics=result.metrics_after, metrics_before=result.metrics_before,
                    steps=result.steps, stopped=result.stopped,
                    data=result.data_summary)  # fmt: skip
    return round_.saved


# The most bytes of a round's folder name (255 allowed; room left for a "-2" of a name taken).
ROUND_NAME_BYTES = 240

# What a round adds to its parent's name: "-ft-" and the date and time it was saved.
_ROUND_SUFFIX = re.compile(r"(?:-ft-\d{8}-\d{6})+$")


def round_name(parent_name: str, stamp: datetime) -> str:
    """The name of a model fine-tuned from ``parent_name``: its base name (without the
    suffixes of earlier rounds: "nuclei-ft-20261206-174450-ft-20261206-174619" after two
    rounds told nothing the lineage does not) and this round's date and time (capped: a
    folder name has 255 bytes, which 100 characters of a name in another script exceed)."""
    base = _ROUND_SUFFIX.sub("", parent_name) or parent_name
    return bounded_name(safe_name(f"{base}-ft-{stamp.strftime('%Y%m%d-%H%M%S')}"),
                        ROUND_NAME_BYTES)


def clear_checkpoints(round_: TrainRound) -> None:
    """The round is over (saved, or nothing to save): the next one starts afresh."""
    if round_.checkpoint_dir is not None:
        shutil.rmtree(round_.checkpoint_dir, ignore_errors=True)


def _write_model(net, folder: Path, metadata: dict) -> None:
    """Save ``net`` as the model folder ``folder``. Written under a hidden name, then
    renamed: a full disk or a kill mid-write never leaves a half-written model listed among
    the models (the library skips "." names)."""
    from unet_studio.models.weights import save_model

    # (bounded: a folder name near the 255 bytes a name may take is accepted, and the
    # prefix would push its temporary name over)
    partial = folder.with_name(f"{TEMP_PREFIX}{bounded_name(folder.name)}")
    try:
        save_model(net, partial, task=getattr(net, "task", None), metadata=metadata)
        partial.rename(folder)
    except BaseException as error:
        shutil.rmtree(partial, ignore_errors=True)
        if isinstance(error, OSError):  # (a full disk named the hidden temporary file)
            raise naming_output(error, folder, partial) from None
        raise
